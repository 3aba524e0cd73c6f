import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeToyDataset } from '../testing/toy-dataset.js';
import { trainSft } from '../sft.js';
import { trainConGrpo } from '../con-grpo.js';
import type { WeightedReward } from '../grpo/rewards.js';
import * as tf from '@tensorflow/tfjs';
import { VlmPolicy } from '@medad/policy';
import { encodeSamples, loadSplit, trainTokenizer } from '../run/data.js';
import { DataParallel, resolveThreads, splitShards } from './data-parallel.js';
import { grpoTotals, lossDenominators, type ShardJob } from './shard-loss.js';
import { maxDifference, metricRows as rows, toyGrpoRows, weightArrays } from '../testing/compare.js';

let work = '';
let data = '';

before(() => {
  work = mkdtempSync(join(tmpdir(), 'medad-dp-'));
  data = join(work, 'data');
  writeToyDataset(data, 48, 5, 36);
});
after(() => rmSync(work, { recursive: true, force: true }));

test('splitShards keeps every item once, in order, sizes differing by at most one', () => {
  const b = Array.from({ length: 7 }, (_, i) => i);
  assert.deepEqual(splitShards(b, 2), [[0, 1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(splitShards(b, 3), [[0, 1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(splitShards([1], 2), [[1]]);
  assert.equal(resolveThreads('auto', 'tensorflow'), 1);
  assert.equal(resolveThreads(2, 'wasm'), 2);
  assert.throws(() => resolveThreads(0, 'wasm'), /positive integer.*Fix:/s);
});

test('lossDenominators sum the whole micro-batch (tokens, weights, letters, boxed samples)', () => {
  const p = { patches: new Float32Array(1), promptIds: [1] };
  const d = lossDenominators([
    { prompt: p, target: [5, 6, 7], weights: null, letters: Float32Array.from([0, 0, 1]), ground: new Float32Array(4) },
    { prompt: p, target: [5, 6], weights: Float32Array.from([1, 4]), letters: Float32Array.from([0, 1]) },
    { prompt: p, target: [5], weights: null, letters: Float32Array.from([1]), ground: Float32Array.from([0, 1, 0, 0]) },
  ]);
  assert.deepEqual(d, { tokens: 6, weight: 9, letters: 3, grounded: 2 });
});

test('SFT on 2 threads follows the 1-thread run: same losses, gradient norms and weights within float tolerance', async () => {
  const common = { dataDir: data, preset: 'tiny' as const, seed: 3, steps: 6, batchSize: 6, evalEvery: 0, evalSamples: 4, backend: 'wasm' as const, answerWeight: 2, gradEngine: 'tfjs' as const };
  const one = await trainSft({ ...common, outDir: join(work, 'one'), threads: 1 });
  const two = await trainSft({ ...common, outDir: join(work, 'two'), threads: 2 });
  const a = rows(join(work, 'one'));
  const b = rows(join(work, 'two'));
  assert.equal(a.length, 6);
  assert.equal(b.length, 6);
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(a[i]!.loss! - b[i]!.loss!) < 1e-4 * Math.max(1, a[i]!.loss!), `step ${i + 1} loss ${a[i]!.loss} vs ${b[i]!.loss}`);
    assert.ok(Math.abs(a[i]!.loss_letter! - b[i]!.loss_letter!) < 1e-4 * Math.max(1, a[i]!.loss_letter!));
    assert.ok(Math.abs(a[i]!.grad_norm! - b[i]!.grad_norm!) < 1e-4 * Math.max(1, a[i]!.grad_norm!), `step ${i + 1} grad_norm ${a[i]!.grad_norm} vs ${b[i]!.grad_norm}`);
  }
  // The loss moved (so the comparison is not of two idle runs), and the weights agree.
  assert.ok(a[5]!.loss! < a[0]!.loss!);
  const maxDiff = maxDifference(weightArrays(one.policy.model.params), weightArrays(two.policy.model.params));
  assert.ok(maxDiff < 1e-4, `max weight difference ${maxDiff}`);
  one.policy.dispose();
  two.policy.dispose();
});

test('focal token loss: 2 threads follow 1 thread, and γ > 0 changes the update', async () => {
  const common = { dataDir: data, preset: 'tiny' as const, seed: 4, steps: 3, batchSize: 6, evalEvery: 0, evalSamples: 4, backend: 'wasm' as const, gradEngine: 'tfjs' as const };
  for (const [name, o] of [['f1', { threads: 1, focalGamma: 2 }], ['f2', { threads: 2, focalGamma: 2 }], ['plain', { threads: 1 }]] as const) {
    const r = await trainSft({ ...common, ...o, outDir: join(work, name) });
    r.policy.dispose();
  }
  const [f1, f2, plain] = ['f1', 'f2', 'plain'].map((n) => rows(join(work, n)));
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(f1![i]!.grad_norm! - f2![i]!.grad_norm!) < 1e-4 * Math.max(1, f1![i]!.grad_norm!), `step ${i + 1}`);
  // The reported loss is the plain NLL: equal at step 1 (same weights), different after focal updates.
  assert.ok(Math.abs(f1![0]!.loss! - plain![0]!.loss!) < 1e-5);
  assert.notEqual(f1![0]!.grad_norm, plain![0]!.grad_norm);
  assert.notEqual(f1![2]!.loss, plain![2]!.loss);
});

test('Con-GRPO policy update on 2 threads follows 1 thread: same rewards, losses, KL, gradient norms and weights', async () => {
  const from = join(work, 'grpo-from');
  (await trainSft({ dataDir: data, outDir: from, preset: 'tiny', seed: 6, steps: 4, batchSize: 6, evalEvery: 0, evalSamples: 4, backend: 'wasm' })).policy.dispose();
  // A reward that varies within each group without a judge: completion length in tokens, mod 3.
  const rewards: WeightedReward[] = [{ weight: 1, reward: { name: 'length', score: (batch) => batch.map((b) => (b.completion.length % 3) / 2) } }];
  const common = { dataDir: data, from, rewards, seed: 2, steps: 3, promptsPerStep: 3, groupSize: 4, maxNewTokens: 12, lr: 1e-3, mu: 2, beta: 0.04, evalEvery: 0, evalSamples: 0, backend: 'wasm' as const, gradEngine: 'tfjs' as const };
  const one = await trainConGrpo({ ...common, outDir: join(work, 'grpo-one'), threads: 1 });
  const two = await trainConGrpo({ ...common, outDir: join(work, 'grpo-two'), threads: 2 });
  const a = rows(join(work, 'grpo-one'));
  const b = rows(join(work, 'grpo-two'));
  assert.equal(a.length, 3);
  assert.equal(b.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.equal(a[i]!.reward_mean, b[i]!.reward_mean, `step ${i + 1}: the same completions were sampled`);
    for (const k of ['loss', 'kl', 'grad_norm', 'ratio_mean'] as const) {
      assert.ok(Math.abs(a[i]![k]! - b[i]![k]!) < 1e-4 * Math.max(1, Math.abs(a[i]![k]!)), `step ${i + 1} ${k}: ${a[i]![k]} vs ${b[i]![k]}`);
    }
  }
  // The update did something (gradients flowed, the policy left its start), and both runs agree.
  assert.ok(a.every((r) => r.grad_norm! > 0));
  assert.ok(a[2]!.kl! > 0, `KL to the start after two steps: ${a[2]!.kl}`);
  const maxDiff = maxDifference(weightArrays(one.policy.model.params), weightArrays(two.policy.model.params));
  assert.ok(maxDiff < 1e-4, `max weight difference ${maxDiff}`);
  one.policy.dispose();
  two.policy.dispose();
});

test('a Con-GRPO batch larger than one pass runs in chunks whose gradients add up to the one-pass gradient', async () => {
  const { dataset, samples } = loadSplit(data, 'train');
  const policy = await VlmPolicy.create({ preset: 'tiny', tokenizer: trainTokenizer(samples), seed: 1, backend: 'wasm' });
  const enc = encodeSamples(policy, dataset.root, samples.slice(0, 10));
  const rows = toyGrpoRows(enc.map((e) => e.prompt), enc.map((e) => e.target));
  const job: ShardJob = { kind: 'grpo', shard: rows, options: { epsilon: 0.2, beta: 0.04, aggregation: 'grpo', maxCompletionLength: 8, totals: grpoTotals(rows) } };
  const runs: Array<{ report: number[]; grads: Map<string, Float32Array> }> = [];
  for (const [threads, maxPerThread] of [[1, Infinity], [1, 3], [2, 2]] as const) {
    const dp = await DataParallel.start(policy.model, threads, 'wasm');
    try {
      const r = await dp.gradients(job, maxPerThread);
      runs.push({ report: r.report, grads: weightArrays(r.grads) });
      tf.dispose([...r.grads.values()]);
    } finally {
      await dp.close();
    }
  }
  const [one, ...chunked] = runs;
  assert.ok(one!.grads.size > 0 && Math.abs(one!.report[0]!) > 0, 'a non-zero loss and gradients');
  for (const c of chunked) {
    c.report.forEach((v, k) => assert.ok(Math.abs(v - one!.report[k]!) < 1e-5 * Math.max(1, Math.abs(one!.report[k]!)), `report[${k}] ${v} vs ${one!.report[k]}`));
    const maxDiff = maxDifference(one!.grads, c.grads);
    assert.ok(maxDiff < 1e-6, `max gradient difference ${maxDiff}`);
  }
  policy.dispose();
});
