/**
 * GRPO-CARE on the `tiny` preset: the `care` reward (found by plugin discovery) with format and
 * accuracy at the paper's base + 0.5·bonus and no KL. In process: 20 Con-GRPO steps on a fixed
 * batch complete, the EMA reference moves at every update, the bonus goes to some completions and
 * only to correct ones. Through `medad train con-grpo`: a run SIGKILLed mid-way and re-run with the
 * same command matches an uninterrupted one (the EMA reference is in the checkpoint).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRootContainer, discoverPlugins } from '@medad/core';
import { synthesize } from '@medad/plugin-dataset-synthetic';
import { VlmPolicy, decodeSafetensors } from '@medad/policy';
import { trainConGrpo, trainSft, type WeightedReward } from '@medad/trainer';
import { MEDAD, ROOT, readRows } from './harness.js';

let work = '';
let data = '';
let sft = '';


before(async () => {
  work = mkdtempSync(join(tmpdir(), 'medad-care-'));
  data = join(work, 'data');
  synthesize({ out: data, samples: 400, seed: 11 });
  sft = join(work, 'sft');
  (await trainSft({ dataDir: data, outDir: sft, preset: 'tiny', seed: 5, steps: 400, lr: 3e-3, evalEvery: 0, evalSamples: 0 })).policy.dispose();
});
after(() => rmSync(work, { recursive: true, force: true }));

const emaWeights = (runDir: string): Map<string, Float32Array> => {
  const file = join(runDir, 'checkpoint', 'ema-reference.safetensors');
  return new Map([...decodeSafetensors(readFileSync(file), file).tensors].map(([k, t]) => [k, t.data]));
};

describe('GRPO-CARE on tiny', () => {
  test('20 steps on a fixed batch: the EMA reference moves at each update and the bonus goes to some correct completions', async (t) => {
    const { registry } = await discoverPlugins({ root: ROOT });
    const container = createRootContainer();
    const rewards: WeightedReward[] = [];
    for (const [id, weight] of [['format', 1], ['accuracy', 1], ['care', 0.5]] as const) rewards.push({ reward: await registry.create('reward', id, {}, container), weight });
    const out = join(work, 'care-fixed');
    const result = await trainConGrpo({
      dataDir: data, outDir: out, from: sft, rewards, seed: 3, steps: 20, beta: 0, emaEvery: 2, emaDecay: 0.9,
      fixedIndices: [0, 1, 2, 3], promptsPerStep: 4, groupSize: 8, oversample: 1, lr: 3e-4, mu: 2, maxNewTokens: 64, evalEvery: 0, evalSamples: 0, saveEvery: 100,
    });
    result.policy.dispose();
    const rows = readRows(out);
    assert.deepEqual(rows.map((r) => r.step), Array.from({ length: 20 }, (_, i) => i + 1));
    const care = rows.map((r) => r.reward_care!);
    t.diagnostic(`bonus share per step ${care.map((x) => x.toFixed(2)).join(' ')}; accuracy ${rows.map((r) => r.reward_accuracy!.toFixed(2)).join(' ')}`);
    t.diagnostic(`answer likelihood ${rows.map((r) => (r.answer_likelihood ?? NaN).toFixed(3)).join(' ')}; EMA shift ${rows.map((r) => r.ema_shift!.toExponential(1)).join(' ')}`);
    // The EMA steps at even steps only, and the policy moves, so each of them changes the reference.
    rows.forEach((r) => (r.step % 2 ? assert.equal(r.ema_shift, 0, `step ${r.step}`) : assert.ok(r.ema_shift! > 0, `step ${r.step}: EMA shift ${r.ema_shift}`)));
    assert.ok(care.some((x) => x > 0), 'some completions got the bonus');
    // Only correct completions can get it, and the group-relative margin keeps it from some of them.
    rows.forEach((r) => assert.ok(r.reward_care! <= r.reward_accuracy! + 1e-12, `step ${r.step}: bonus ${r.reward_care} > accuracy ${r.reward_accuracy}`));
    assert.ok(rows.some((r) => r.reward_care! < r.reward_accuracy!), 'some correct completions were below their peers’ mean − margin');
    assert.ok(rows.every((r) => r.answer_likelihood! > 0 && r.answer_likelihood! < 1));
    assert.equal(rows[0]!.kl, 0);
    // The saved reference lies between the SFT start and the trained policy.
    const start = (await VlmPolicy.load(join(sft, 'checkpoint'))).model.weights();
    const end = (await VlmPolicy.load(join(out, 'checkpoint'))).model.weights();
    const ema = emaWeights(out);
    const dist = (x: Map<string, Float32Array>, y: Map<string, Float32Array>): number => [...x].reduce((s, [k, v]) => s + v.reduce((a, e, j) => a + (e - y.get(k)![j]!) ** 2, 0), 0);
    assert.ok(dist(ema, start) > 0, 'the reference left the start');
    assert.ok(dist(ema, end) > 0 && dist(ema, end) < dist(start, end), 'and lags the policy');
  });

  test('medad train con-grpo with care, killed with SIGKILL and re-run, matches an uninterrupted run', async () => {
    const args = (out: string): string[] =>
      ['train', 'con-grpo', '--from', sft, '--data', data, '--out', out, '--rewards', 'format=1,accuracy=1,care=0.5', '--beta', '0', '--judge', 'none', '--ema-every', '1', '--ema-decay', '0.9',
        '--seed', '3', '--steps', '6', '--prompts-per-step', '2', '--group-size', '4', '--save-every', '2', '--eval-every', '0', '--eval-samples', '0', '--max-new-tokens', '24', '--lr', '1e-3'];
    const run = (a: string[]): void => {
      const r = spawnSync(process.execPath, [MEDAD, ...a], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(r.status, 0, `medad ${a.join(' ')} failed:\n${r.stderr}`);
    };
    const reference = join(work, 'care-ref');
    run(args(reference));
    const spec = JSON.parse(readFileSync(join(reference, 'spec.json'), 'utf8')) as { rewards: Array<{ plugin: string; weight: number }>; hyper: { beta: number; emaEvery: number } };
    assert.deepEqual(spec.rewards.map((r) => [r.plugin, r.weight]), [['format', 1], ['accuracy', 1], ['care', 0.5]]);
    assert.deepEqual([spec.hyper.beta, spec.hyper.emaEvery], [0, 1]);

    const resumed = join(work, 'care-killed');
    const child = spawn(process.execPath, [MEDAD, ...args(resumed)], { stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const deadline = Date.now() + 120_000;
    while (readRows(resumed).length < 3) {
      if (child.exitCode !== null) assert.fail(`medad exited (${child.exitCode}) before it could be killed`);
      if (Date.now() > deadline) assert.fail('no progress within 120 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    const seen = readRows(resumed).length;
    assert.ok(seen >= 3 && seen < 6, `killed mid-run after ${seen} rows`);
    run(args(resumed));

    const a = readRows(reference);
    const b = readRows(resumed);
    assert.deepEqual(b.map((r) => r.step), [1, 2, 3, 4, 5, 6], 'each step exactly once');
    for (const key of ['reward_mean', 'reward_care', 'loss', 'ema_shift', 'completion_length']) {
      a.forEach((r, i) => assert.ok(Math.abs(b[i]![key]! - r[key]!) <= 1e-4 * Math.max(1, Math.abs(r[key]!)), `step ${i + 1} ${key}: resumed ${b[i]![key]} vs uninterrupted ${r[key]}`));
    }
    assert.ok(a.some((r) => r.ema_shift! > 0), 'the reference moved');
    const emaResumed = emaWeights(resumed);
    for (const [name, w] of emaWeights(reference)) assert.deepEqual(emaResumed.get(name), w, `EMA weight ${name}`);
  });
});
