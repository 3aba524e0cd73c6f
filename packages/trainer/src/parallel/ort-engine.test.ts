import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { VlmPolicy, patchesTensor, presetConfig } from '@medad/policy';
import { writeToyDataset } from '../testing/toy-dataset.js';
import { maxDifference, metricRows, toyGrpoRows, weightArrays } from '../testing/compare.js';
import { trainSft } from '../sft.js';
import { trainConGrpo } from '../con-grpo.js';
import type { WeightedReward } from '../grpo/rewards.js';
import { encodeSamples, groundingTargetsOf, loadSplit, trainTokenizer } from '../run/data.js';
import { DataParallel } from './data-parallel.js';
import { OrtGradientEngine, resolveGradEngine } from './ort-engine.js';
import { groundingBce, grpoTotals, lossDenominators, type ShardJob, type ShardSample } from './shard-loss.js';

// The ONNX Runtime gradient engine must train exactly like the tfjs engine (float tolerance):
// the same SFT and Con-GRPO runs, step by step, and the same gradients of single batches.
let work = '';
let data = '';

before(() => {
  work = mkdtempSync(join(tmpdir(), 'medad-ortgrad-'));
  data = join(work, 'data');
  writeToyDataset(data, 48, 5, 36);
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Asserts two runs' metric rows agree on `keys` within a relative 1e-4 (absolute below 1). */
function sameRows(a: Array<Record<string, number>>, b: Array<Record<string, number>>, keys: readonly string[]): void {
  assert.equal(a.length, b.length);
  a.forEach((r, i) => {
    for (const k of keys) assert.ok(Math.abs(r[k]! - b[i]![k]!) < 1e-4 * Math.max(1, Math.abs(r[k]!)), `step ${i + 1} ${k}: ${r[k]} vs ${b[i]![k]}`);
  });
}

test('auto picks ORT unless the config needs an op the gradient graph lacks; ort on such a config is a clear error', async () => {
  const { samples } = loadSplit(data, 'train');
  const tokenizer = trainTokenizer(samples);
  const plain = await VlmPolicy.create({ preset: 'tiny', tokenizer, seed: 1, backend: 'wasm' });
  const rotary = await VlmPolicy.create({ preset: 'tiny', tokenizer, seed: 1, backend: 'wasm', config: { rotaryDims: 4 } });
  assert.deepEqual(resolveGradEngine('auto', plain.model), { engine: 'ort' });
  assert.equal(resolveGradEngine('auto', rotary.model).engine, 'tfjs');
  assert.match(resolveGradEngine(undefined, rotary.model).reason!, /rotary/);
  assert.throws(() => resolveGradEngine('ort', rotary.model), /rotary.*Fix: use --grad-engine tfjs/s);
  assert.throws(() => resolveGradEngine('gpu' as never, plain.model), /auto, ort or tfjs/);
  assert.equal(presetConfig('tiny', 10).rotaryDims, undefined);
  plain.dispose();
  rotary.dispose();
});

test('SFT through ORT follows tfjs: same losses, letter losses, gradient norms and weights (answer weights on)', async () => {
  const common = { dataDir: data, preset: 'tiny' as const, seed: 3, steps: 6, batchSize: 6, evalEvery: 0, evalSamples: 4, backend: 'wasm' as const, answerWeight: 2, threads: 1 };
  const ref = await trainSft({ ...common, outDir: join(work, 'tfjs'), gradEngine: 'tfjs' });
  const ort = await trainSft({ ...common, outDir: join(work, 'ort'), gradEngine: 'ort' });
  assert.equal(ort.gradEngine, 'ort');
  const a = metricRows(join(work, 'tfjs'));
  sameRows(a, metricRows(join(work, 'ort')), ['loss', 'loss_letter', 'grad_norm']);
  assert.ok(a[5]!.loss! < a[0]!.loss!, 'the loss moved');
  const diff = maxDifference(weightArrays(ref.policy.model.params), weightArrays(ort.policy.model.params));
  assert.ok(diff < 1e-4, `max weight difference ${diff}`);
  ref.policy.dispose();
  ort.policy.dispose();
});

test('SFT with the grounding loss through ORT follows tfjs: same token and grounding losses, same weights', async () => {
  const common = { dataDir: data, preset: 'tiny' as const, seed: 4, steps: 5, batchSize: 6, evalEvery: 0, evalSamples: 4, backend: 'wasm' as const, grounding: 0.5, threads: 1 };
  const ref = await trainSft({ ...common, outDir: join(work, 'g-tfjs'), gradEngine: 'tfjs' });
  const ort = await trainSft({ ...common, outDir: join(work, 'g-ort'), gradEngine: 'ort' });
  assert.equal(ort.policy.model.config.groundingHead, true, 'a fresh model gets the head');
  const a = metricRows(join(work, 'g-tfjs'));
  sameRows(a, metricRows(join(work, 'g-ort')), ['loss', 'loss_letter', 'loss_ground', 'grad_norm']);
  assert.ok(a[4]!.loss_ground! < a[0]!.loss_ground!, `the grounding loss fell: ${a[0]!.loss_ground} → ${a[4]!.loss_ground}`);
  const diff = maxDifference(weightArrays(ref.policy.model.params), weightArrays(ort.policy.model.params));
  assert.ok(diff < 1e-4, `max weight difference ${diff}`);
  ref.policy.dispose();
  ort.policy.dispose();
  // A run resumed from a model without the head goes on without grounding.
  const plain = join(work, 'g-plain');
  (await trainSft({ ...common, outDir: plain, steps: 2, grounding: 0 })).policy.dispose();
  const resumed = await trainSft({ ...common, outDir: plain, steps: 3 });
  assert.equal(resumed.policy.model.config.groundingHead, undefined);
  const rows = metricRows(plain);
  assert.equal(rows.length, 3);
  assert.equal(rows[2]!.loss_ground, undefined);
  resumed.policy.dispose();
  await assert.rejects(trainSft({ ...common, outDir: join(work, 'g-bad'), grounding: -1 }), /grounding must be a number ≥ 0, got -1.*Fix: pass --grounding 0/s);
});

/** Mean patch BCE of a model's grounding logits on encoded samples, and how often its top patch lies in the box. */
function heldOutGrounding(policy: VlmPolicy, enc: ReturnType<typeof encodeSamples>): { bce: number; hit: number } {
  const { targets } = groundingTargetsOf(policy.model.config, enc);
  const P = policy.model.imageTokens;
  const z = tf.tidy(() => policy.model.groundingLogits(patchesTensor(enc.map((e) => e.prompt), P)).dataSync());
  const term = { targets, coefs: targets.map(() => 1 / (enc.length * P)) };
  let hit = 0;
  targets.forEach((t, b) => {
    let best = 0;
    for (let p = 1; p < P; p++) if (z[b * P + p]! > z[b * P + best]!) best = p;
    if (t![best]! > 0) hit++;
  });
  return { bce: groundingBce(Float32Array.from(z), term, P), hit: hit / enc.length };
}

test('the grounding loss learns: held-out grounding BCE falls and the top patch finds the box more often (seed 5)', async (t) => {
  const { dataset, samples } = loadSplit(data, 'train');
  const test = dataset.list('test');
  const opts = { dataDir: data, outDir: join(work, 'g-learn'), preset: 'tiny' as const, seed: 5, steps: 60, batchSize: 8, evalEvery: 0, evalSamples: 4, backend: 'wasm' as const, grounding: 1 };
  const fresh = await VlmPolicy.create({ preset: 'tiny', tokenizer: trainTokenizer(samples), seed: 5, backend: 'wasm', config: { groundingHead: true } });
  const before = heldOutGrounding(fresh, encodeSamples(fresh, dataset.root, test));
  const trained = (await trainSft(opts)).policy;
  const after = heldOutGrounding(trained, encodeSamples(trained, dataset.root, test));
  t.diagnostic(`held-out grounding BCE ${before.bce.toFixed(4)} → ${after.bce.toFixed(4)}; top patch in the box ${before.hit.toFixed(3)} → ${after.hit.toFixed(3)}`);
  assert.ok(after.bce < 0.5 * before.bce, `held-out grounding BCE ${before.bce.toFixed(4)} → ${after.bce.toFixed(4)}`);
  assert.ok(after.hit >= 0.95 && after.hit > before.hit, `top patch in the box ${before.hit} → ${after.hit} of ${test.length}`);
  fresh.dispose();
  trained.dispose();
});

test('Con-GRPO update through ORT follows tfjs: same rewards, losses, KL, ratios and gradient norms', async () => {
  const from = join(work, 'grpo-from');
  (await trainSft({ dataDir: data, outDir: from, preset: 'tiny', seed: 6, steps: 4, batchSize: 6, evalEvery: 0, evalSamples: 4, backend: 'wasm' })).policy.dispose();
  const rewards: WeightedReward[] = [{ weight: 1, reward: { name: 'length', score: (batch) => batch.map((b) => (b.completion.length % 3) / 2) } }];
  const common = { dataDir: data, from, rewards, seed: 2, steps: 3, promptsPerStep: 3, groupSize: 4, maxNewTokens: 12, lr: 1e-3, mu: 2, beta: 0.04, evalEvery: 0, evalSamples: 0, backend: 'wasm' as const, threads: 1 };
  const ref = await trainConGrpo({ ...common, outDir: join(work, 'grpo-tfjs'), gradEngine: 'tfjs' });
  const ort = await trainConGrpo({ ...common, outDir: join(work, 'grpo-ort'), gradEngine: 'ort' });
  const a = metricRows(join(work, 'grpo-tfjs'));
  const b = metricRows(join(work, 'grpo-ort'));
  a.forEach((r, i) => assert.equal(r.reward_mean, b[i]!.reward_mean, `step ${i + 1}: the same completions were sampled`));
  sameRows(a, b, ['loss', 'kl', 'grad_norm', 'ratio_mean', 'clip_fraction']);
  assert.ok(a[2]!.kl! > 0, 'the policy left its start');
  const diff = maxDifference(weightArrays(ref.policy.model.params), weightArrays(ort.policy.model.params));
  assert.ok(diff < 1e-4, `max weight difference ${diff}`);
  ref.policy.dispose();
  ort.policy.dispose();
});

test('one batch: ORT gradients and reports equal tfjs for SFT with focal weights, chunked SFT with grounding and chunked Con-GRPO', async () => {
  const { dataset, samples } = loadSplit(data, 'train');
  const policy = await VlmPolicy.create({ preset: 'tiny', tokenizer: trainTokenizer(samples), seed: 1, backend: 'wasm', config: { groundingHead: true } });
  const enc = encodeSamples(policy, dataset.root, samples.slice(0, 10));
  const ground = groundingTargetsOf(policy.model.config, enc).targets;
  const sft: ShardSample[] = enc.map((e, i) => ({ prompt: e.prompt, target: e.target, weights: i % 2 ? Float32Array.from(e.target, (_, t) => 1 + (t % 3)) : null, letters: Float32Array.from(e.target, (_, t) => (t === 2 ? 1 : 0)) }));
  // Grounding on 7 of the 10 samples, run in chunks of 4: the chunks share the batch's denominators.
  const grounded = sft.map((s, i) => ({ ...s, ground: i % 3 === 1 ? null : ground[i] }));
  const rows = toyGrpoRows(enc.map((e) => e.prompt), enc.map((e) => e.target));
  const jobs: Array<[ShardJob, number]> = [
    [{ kind: 'sft', shard: sft, denom: lossDenominators(sft), focalGamma: 2 }, Infinity],
    [{ kind: 'sft', shard: grounded, denom: lossDenominators(grounded), focalGamma: 0, grounding: 0.8 }, 2],
    [{ kind: 'grpo', shard: rows, options: { epsilon: 0.2, beta: 0.04, aggregation: 'dapo', maxCompletionLength: 8, totals: grpoTotals(rows) } }, 3],
  ];
  const dp = await DataParallel.start(policy.model, 1, 'wasm');
  const ort = await OrtGradientEngine.start(policy.model, 2);
  try {
    for (const [job, perPass] of jobs) {
      const want = await dp.gradients(job);
      const got = await ort.gradients(job, perPass);
      want.report.forEach((v, k) => assert.ok(Math.abs(v - got.report[k]!) < 1e-5 * Math.max(1, Math.abs(v)), `${job.kind} report[${k}] ${v} vs ${got.report[k]}`));
      assert.ok(Math.abs(want.report[0]!) > 0);
      if (job.kind === 'sft') assert.equal(want.report[2]! > 0, Boolean(job.grounding), 'the grounding share is reported only with grounding');
      const diff = maxDifference(weightArrays(want.grads), weightArrays(got.grads));
      assert.ok(diff < 1e-5, `${job.kind}: max gradient difference ${diff}`);
      tf.dispose([...want.grads.values(), ...got.grads.values()]);
    }
  } finally {
    await dp.close();
    await ort.close();
    policy.dispose();
  }
});
