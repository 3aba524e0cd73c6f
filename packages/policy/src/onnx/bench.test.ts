import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SeededRng } from '@medad/core';
import { headDim, imageTokens, presetConfig } from '../vlm/config.js';
import { pixelsToPatches } from '../vlm/processor.js';
import { openMatmulSet, profiledRun } from './bench.js';
import { OrtGradients } from './ort-grad.js';
import { randomWeights } from './weights.js';

test('profiledRun reads the products of the last run only, with k from a transposed or batched left operand', () => {
  const node = (ts: number, op: string, a: number[], out: number[]) => ({
    cat: 'Node',
    name: `${op}_${ts}_kernel_time`,
    ts,
    dur: 5,
    args: { op_name: op, input_type_shape: [{ float: a }], output_type_shape: [{ float: out }] },
  });
  const events = [
    { name: 'model_run', ts: 0, dur: 100 },
    node(10, 'MatMul', [3, 4], [3, 5]),
    { name: 'model_run', ts: 200, dur: 100 },
    node(210, 'Gemm', [7, 3], [3, 9]), // transA: A is [k, m]
    node(220, 'FusedMatMul', [2, 4, 3, 6], [2, 4, 3, 8]),
    node(230, 'Mul', [3, 9], [3, 9]),
    node(240, 'Add', [3, 9], [3, 9]),
  ];
  assert.deepEqual(profiledRun(events), {
    matmuls: [
      { batch: 1, m: 3, k: 7, n: 9 },
      { batch: 8, m: 3, k: 6, n: 8 },
    ],
    otherNodes: 2,
  });
  assert.deepEqual(profiledRun([]), { matmuls: [], otherNodes: 0 });
});

test('a profiled gradient step lists its weight-gradient and attention products; the matmul set counts their FLOPs', async () => {
  const cfg = presetConfig('tiny', 64);
  const rng = new SeededRng(3);
  const S = cfg.imageSize;
  const prompts = [5, 9].map((n) => ({
    promptIds: [4, ...Array.from({ length: n }, (_, i) => 20 + i)],
    patches: pixelsToPatches(Float32Array.from({ length: S * S * 3 }, () => rng.uniform(-1, 1)), cfg),
  }));
  const completions = [[30, 31, 2], [32, 2]];
  const dir = mkdtempSync(join(tmpdir(), 'medad-profile-test-'));
  try {
    const g = await OrtGradients.create(cfg, { profileFilePrefix: join(dir, 'grad') });
    try {
      await g.run(randomWeights(cfg, 1, 0.2), prompts, completions, completions.map((c) => Float32Array.from(c, () => -0.2)));
    } finally {
      g.endProfiling();
      await g.release();
    }
    const events = readdirSync(dir).flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Parameters<typeof profiledRun>[0]);
    const { matmuls, otherNodes } = profiledRun(events);
    const B = 2;
    const T = 12; // the longest prompt + completion: 10 + 2
    const { dModel: d, dFF, nHeads: H } = cfg;
    const P = imageTokens(cfg);
    const has = (s: { batch: number; m: number; k: number; n: number }): boolean => matmuls.some((x) => x.batch === s.batch && x.m === s.m && x.k === s.k && x.n === s.n);
    assert.ok(has({ batch: 1, m: d, k: B * T, n: dFF }), 'the text MLP w1 gradient (Xᵀ·dY, a transposed left operand)');
    assert.ok(has({ batch: 1, m: B * T, k: dFF, n: d }), 'the text MLP w2 forward');
    assert.ok(has({ batch: B * H, m: T, k: headDim(cfg), n: P + T }), 'the text attention scores');
    assert.ok(otherNodes > matmuls.length, `elementwise and shape nodes outnumber products (${otherNodes} vs ${matmuls.length})`);
    const set = await openMatmulSet(matmuls, 1);
    try {
      assert.equal(set.flops, matmuls.reduce((a, s) => a + 2 * s.batch * s.m * s.k * s.n, 0));
      const ms = await set.measure();
      assert.ok(ms > 0 && Number.isFinite(ms));
    } finally {
      await set.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
