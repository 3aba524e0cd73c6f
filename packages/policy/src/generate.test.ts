import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '@medad/core';
import { selectBackend } from './backend.js';
import { generateTokens } from './generate.js';
import { sequenceLogProbs, type EncodedPrompt } from './logprobs.js';
import { presetConfig } from './vlm/config.js';
import { VlmModel, initWeights } from './vlm/model.js';

const cfg = presetConfig('tiny', 80);
let model: VlmModel;
const rng = new SeededRng(9);
const prompts: EncodedPrompt[] = [5, 9, 7].map((len) => ({
  patches: Float32Array.from({ length: 9 * 192 }, () => rng.uniform(-1, 1)),
  promptIds: [4, ...Array.from({ length: len - 1 }, () => 9 + rng.int(70))],
}));

before(async () => {
  await selectBackend({ backend: 'wasm' });
  // Larger output weights give peaked logits, so greedy choices are far from ties.
  const w = initWeights(cfg, 3);
  w.get('lm_head.w')!.forEach((v, i, a) => (a[i] = v * 40));
  model = VlmModel.fromWeights(cfg, w);
});
after(() => model.dispose());

test('greedy decoding with the KV cache gives the same tokens as recomputing without it', () => {
  const opts = { greedy: true, maxNewTokens: 16, stopIds: [] as number[] };
  const kv = generateTokens(model, prompts, opts);
  const plain = generateTokens(model, prompts, { ...opts, useCache: false });
  assert.deepEqual(kv.map((g) => g[0]!.tokens), plain.map((g) => g[0]!.tokens));
  assert.ok(kv.every((g) => g[0]!.tokens.length === 16));
  assert.ok(new Set(kv.flatMap((g) => g[0]!.tokens)).size >= 4, 'output too repetitive to be a meaningful comparison');
  kv.flat().forEach((c, i) => c.tokenLogProbs.forEach((lp, j) => assert.ok(Math.abs(lp - plain.flat()[i]!.tokenLogProbs[j]!) < 1e-4)));
});

test('G completions per prompt, reproducible per seed, independent of batch-mates', () => {
  const opts = { groupSize: 3, temperature: 1.3, topP: 0.95, maxNewTokens: 10, seed: 5 };
  const a = generateTokens(model, prompts, opts);
  const b = generateTokens(model, prompts, opts);
  assert.equal(a.length, 3);
  assert.ok(a.every((g) => g.length === 3));
  assert.deepEqual(a.map((g) => g.map((c) => c.tokens)), b.map((g) => g.map((c) => c.tokens)));
  const other = generateTokens(model, prompts, { ...opts, seed: 6 });
  assert.notDeepEqual(other.map((g) => g.map((c) => c.tokens)), a.map((g) => g.map((c) => c.tokens)));
  // Prompt 0 alone (no left padding, 3 rows instead of 9) draws the same completions.
  const alone = generateTokens(model, prompts.slice(0, 1), opts);
  assert.deepEqual(alone[0]!.map((c) => c.tokens), a[0]!.map((c) => c.tokens));
  for (const c of a.flat()) assert.ok(c.logProb <= 0 && Math.abs(c.logProb - c.tokenLogProbs.reduce((s, x) => s + x, 0)) < 1e-9);
});

test('generation stops at a stop token, keeps it, and reports finished', () => {
  const free = generateTokens(model, prompts, { greedy: true, maxNewTokens: 12, stopIds: [] });
  const stopAt = free[0]![0]!.tokens[3]!;
  const stopped = generateTokens(model, prompts, { greedy: true, maxNewTokens: 12, stopIds: [stopAt] });
  const first = free[0]![0]!.tokens.indexOf(stopAt);
  assert.deepEqual(stopped[0]![0]!.tokens, free[0]![0]!.tokens.slice(0, first + 1));
  assert.equal(stopped[0]![0]!.finished, true);
  assert.equal(free[0]![0]!.finished, false);
});

test('sampled token log-probs equal the teacher-forced sequence log-probs (GRPO ratio = 1)', () => {
  const gen = generateTokens(model, prompts, { groupSize: 2, temperature: 1, maxNewTokens: 8, seed: 2, stopIds: [] });
  const rows = gen.flatMap((g, i) => g.map((c) => ({ prompt: prompts[i]!, tokens: c.tokens, lps: c.tokenLogProbs })));
  const lp = tf.tidy(() => sequenceLogProbs(model, rows.map((r) => r.prompt), rows.map((r) => r.tokens)).logProbs.arraySync());
  rows.forEach((r, b) => r.lps.forEach((x, j) => assert.ok(Math.abs(x - lp[b]![j]!) < 1e-4, `row ${b} token ${j}: ${x} vs ${lp[b]![j]}`)));
});

test('no tensors leak from generate, logProbs or a training step', () => {
  generateTokens(model, prompts, { greedy: true, maxNewTokens: 4 }); // warm up lazily created kernels
  const before = tf.memory().numTensors;
  generateTokens(model, prompts, { groupSize: 2, maxNewTokens: 6, seed: 1 });
  generateTokens(model, prompts, { greedy: true, maxNewTokens: 6, useCache: false });
  assert.equal(tf.memory().numTensors, before, 'generate');
  const completions = prompts.map((_, i) => [10 + i, 11, 12]);
  const sum = tf.tidy(() => sequenceLogProbs(model, prompts, completions).logProbs.sum());
  sum.dispose();
  assert.equal(tf.memory().numTensors, before, 'logProbs');
  const vars = [...model.params.values()];
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      const { logProbs, mask } = sequenceLogProbs(model, prompts, completions);
      return logProbs.sum().neg().div(mask.sum()) as tf.Scalar;
    }, vars);
    for (const v of vars) v.assign(v.sub(grads[v.name]!.mul(1e-3)));
    assert.ok(Number.isFinite(value.dataSync()[0]!));
  });
  assert.equal(tf.memory().numTensors, before, 'training step');
});

test('log-probs are masked per row and a too-long row fails with a fix', () => {
  const completions = [[10], [11, 12, 13], []];
  const { lp, mask } = tf.tidy(() => {
    const o = sequenceLogProbs(model, prompts, completions);
    return { lp: o.logProbs.arraySync(), mask: o.mask.arraySync() };
  });
  assert.deepEqual(mask, [[1, 0, 0], [1, 1, 1], [0, 0, 0]]);
  assert.ok(lp[0]![1] === 0);
  assert.ok(lp[1]!.every((x) => x < 0));
  assert.throws(() => sequenceLogProbs(model, [prompts[0]!], [Array(200).fill(10)]), /more than maxTextLen 128.*Fix:/);
});
