import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { medad } from './testing.js';


test('medad plugins --json lists discovered plugins with kind, id, version and package', async () => {
  const { stdout, code } = await medad('plugins', '--json');
  assert.equal(code, 0);
  const out = JSON.parse(stdout) as { plugins: Array<{ kind: string; id: string; version: string; package: string }>; failures: unknown[] };
  assert.ok(Array.isArray(out.plugins));
  for (const p of out.plugins) {
    assert.match(p.id, /^[a-z][a-z0-9-]*$/);
    assert.match(p.version, /^\d+\.\d+\.\d+/);
    assert.match(p.package, /^@?[\w./-]+$/);
  }
});

test('an invalid --kind is rejected with the valid choices', async () => {
  const { stderr, code } = await medad('plugins', '--kind', 'widget');
  assert.notEqual(code, 0);
  assert.match(stderr, /Allowed choices are dataset, backbone, reward, judge/);
});

test('--help describes the command', async () => {
  const { stdout, code } = await medad('plugins', '--help');
  assert.equal(code, 0);
  assert.match(stdout, /--kind <kind>/);
  assert.match(stdout, /--json/);
});

test('medad spec --kind sft prints the JSON Schema of the sft run spec; --defaults the filled-in spec', async () => {
  const schema = await medad('spec', '--kind', 'sft');
  assert.equal(schema.code, 0, schema.stderr);
  const s = JSON.parse(schema.stdout) as { type: string; properties: Record<string, { properties?: Record<string, { default?: unknown }> }> };
  assert.equal(s.type, 'object');
  assert.equal(s.properties.hyper!.properties!.steps!.default, 8000);
  const defaults = await medad('spec', '--kind', 'con-grpo', '--defaults');
  assert.equal(JSON.parse(defaults.stdout).hyper.groupSize, 8);
});

test('train flags are a view of the spec: each given flag lands in its field, the rest take the schema defaults', async () => {
  const { stdout, code, stderr } = await medad('train', 'con-grpo', '--data', '/d', '--out', '/o', '--lr', '0.01', '--mu', '2', '--advantage-scale', 'none', '--rewards', 'format=0.5,accuracy=0.5', '--reward-config', 'format={"x":1}', '--judge', 'none', '--d-model', '48', '--print-spec');
  assert.equal(code, 0, stderr);
  const spec = JSON.parse(stdout);
  assert.deepEqual([spec.hyper.lr, spec.hyper.mu, spec.hyper.advantageScale, spec.hyper.groupSize], [0.01, 2, 'none', 8]);
  assert.deepEqual(spec.rewards, [{ plugin: 'format', weight: 0.5, config: { x: 1 } }, { plugin: 'accuracy', weight: 0.5, config: {} }]);
  assert.equal(spec.judge, null);
  assert.deepEqual(spec.backbone, { plugin: 'tfjs-vlm', config: { model: { dModel: 48 } } });
  const bad = await medad('train', 'sft', '--data', '/d', '--out', '/o', '--steps', '0');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /flags: hyper\.steps: must be ≥ 1/);
});

test('--device lands in the spec (train: compute.device; eval: device); cuda without its provider fails before anything runs, naming the install command', async () => {
  const train = await medad('train', 'sft', '--data', '/d', '--out', '/o', '--device', 'cpu', '--print-spec');
  assert.equal(train.code, 0, train.stderr);
  assert.equal(JSON.parse(train.stdout).compute.device, 'cpu');
  const evalSpec = await medad('eval', '--data', '/d', '--print-spec');
  assert.equal(JSON.parse(evalSpec.stdout).device, 'auto', 'auto by default');
  const bad = await medad('train', 'sft', '--data', '/d', '--out', '/o', '--device', 'gpu');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /'--device <value>' argument 'gpu' is invalid\. Allowed choices are auto, cpu, cuda/);
  const dir = mkdtempSync(join(tmpdir(), 'medad-device-'));
  try {
    const cuda = await medad('eval', '--data', join(dir, 'none'), '--limit', '1', '--device', 'cuda', '--out', join(dir, 'ev'));
    if (!/device: cuda/.test(cuda.stderr)) {
      // No CUDA provider on this machine: refused with the fix, before the dataset is even opened.
      assert.equal(cuda.code, 2, cuda.stderr);
      assert.match(cuda.stderr, /device cuda: the ONNX Runtime CUDA provider is not usable: .*Fix: on a CUDA 12 machine install the provider: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node --ignore-scripts=false/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('medad compare: paired A − B on the shared questions, with intervals; a tie is called one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'medad-compare-'));
  try {
    // 200 questions: A is right on 150, B on 100 — and B is right only where A is (a paired +25 points).
    const row = (i: number, correct: boolean, seed = 0) => ({ id: `q${i}`, task: 'anatomy', answer: 'A', raw: '', parsed: correct ? 'A' : 'B', judgeDeduction: 'A', judgeDeductionKeep: 'A', correct, formatOk: true, thinkCorrect: true, seed });
    const write = (name: string, rows: object[]): string => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'predictions.jsonl'), rows.map((r) => JSON.stringify(r) + '\n').join(''));
      return join(dir, name);
    };
    const a = write('a', Array.from({ length: 200 }, (_, i) => row(i, i < 150)));
    const b = write('b', Array.from({ length: 200 }, (_, i) => row(i, i < 100)));
    const { stdout, code } = await medad('compare', a, b, '--json', '--resamples', '500');
    assert.equal(code, 0);
    const out = JSON.parse(stdout) as Record<string, { mean: number; ci95: [number, number]; significant: boolean; questions: number; a: number; b: number }>;
    assert.equal(out.accuracy!.mean, 25);
    assert.equal(out.accuracy!.a, 75);
    assert.equal(out.accuracy!.questions, 200);
    assert.ok(out.accuracy!.ci95[0] > 15 && out.accuracy!.ci95[1] < 35 && out.accuracy!.significant);
    assert.equal(out.consistencyKeep!.mean, 25);
    assert.equal(out.thinkCorrect!.mean, 0);
    assert.equal(out.thinkCorrect!.significant, false);
    const table = await medad('compare', a, b);
    assert.match(table.stdout, /accuracy\s+75\.00\s+50\.00\s+\+25\.00 \[/);
    assert.match(table.stdout, /think-correct .*\(tie\)/);
    const missing = await medad('compare', a, join(dir, 'nowhere'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No predictions in .*nowhere.*Fix: pass a directory written by `medad eval --out DIR`/s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
