import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '@medad/core';
import { selectBackend } from '../backend.js';
import { patchesTensor, sequenceLogProbs, type EncodedPrompt } from '../logprobs.js';
import { presetConfig, weightShapes, type VlmConfig } from '../vlm/config.js';
import { VlmModel } from '../vlm/model.js';
import type { OptionMarkers } from '../vlm/option-match.js';
import { groundingTargets, pixelsToPatches } from '../vlm/processor.js';
import { OrtGradients } from './ort-grad.js';
import { randomWeights } from './weights.js';

// The ONNX gradient graph must give tfjs's gradients of the same objective (Σ coef · log p):
// every weight, the log-probs, with left-padded prompts of different lengths and option features.
const markers: OptionMarkers = { open: 10, close: 11, end: 12, letters: [13, 14, 15, 16] };
const prompt = (q: number[]): number[] => [4, ...q, 10, 13, 11, 30, 31, 10, 14, 11, 32, 10, 15, 11, 33, 30, 10, 16, 11, 34, 12, 22];

function batch(cfg: VlmConfig, seed: number): { prompts: EncodedPrompt[]; completions: number[][]; coefs: Float32Array[] } {
  const rng = new SeededRng(seed);
  const S = cfg.imageSize;
  const qs = [[40], [41, 42, 43], [44, 45]];
  const prompts = qs.map((q) => ({ promptIds: prompt(q), patches: pixelsToPatches(Float32Array.from({ length: S * S * 3 }, () => rng.uniform(-1, 1)), cfg) }));
  const completions = [[30, 34, 41, 5], [33, 50, 51, 52, 53, 2], [31]];
  const coefs = completions.map((c) => Float32Array.from(c, () => rng.uniform(-1, 0.5)));
  return { prompts, completions, coefs };
}

async function compare(cfg: VlmConfig, seed: number): Promise<void> {
  await selectBackend(); // the backend training uses here (wasm on a CPU machine)
  const weights = randomWeights(cfg, seed, 0.2);
  const { prompts, completions, coefs } = batch(cfg, seed);
  const model = VlmModel.fromWeights(cfg, weights);
  const names = weightShapes(cfg).map(([n]) => n);
  // With a grounding head: boxes on two of the three images (one covering patches partly).
  const P = model.imageTokens;
  const grounding = cfg.groundingHead
    ? {
        targets: [groundingTargets({ x: 0, y: 0, width: 10, height: 7 }, 24, 24, cfg), null, groundingTargets({ x: 5, y: 9, width: 16, height: 15 }, 24, 24, cfg)],
        coefs: [0.7, 0, 0.3],
      }
    : undefined;
  const { value, grads } = tf.variableGrads(() => {
    const { logProbs } = sequenceLogProbs(model, prompts, completions);
    const Tc = logProbs.shape[1];
    const c = new Float32Array(prompts.length * Tc);
    coefs.forEach((row, b) => c.set(row, b * Tc));
    const objective = logProbs.mul(tf.tensor2d(c, [prompts.length, Tc])).sum() as tf.Scalar;
    if (!grounding) return objective;
    const z = model.groundingLogits(patchesTensor(prompts, P));
    const t = new Float32Array(prompts.length * P);
    grounding.targets.forEach((row, b) => row && t.set(row, b * P));
    // BCE(z, t) = log(1 + e^z) − t·z
    const bce = tf.softplus(z).sub(z.mul(tf.tensor2d(t, [prompts.length, P])));
    return objective.add(bce.sum(1).mul(tf.tensor1d(grounding.coefs)).sum()) as tf.Scalar;
  });
  const tfGround = grounding ? tf.tidy(() => model.groundingLogits(patchesTensor(prompts, P)).dataSync()) : null;
  const tfLogp = tf.tidy(() => sequenceLogProbs(model, prompts, completions).logProbs.arraySync());
  const engine = await OrtGradients.create(cfg);
  try {
    const ort = await engine.run(weights, prompts, completions, coefs, grounding);
    if (tfGround) {
      assert.equal(ort.groundLogits!.length, prompts.length * P);
      tfGround.forEach((v, i) => assert.ok(Math.abs(ort.groundLogits![i]! - v) < 1e-4, `ground_logit[${i}] ${ort.groundLogits![i]} vs ${v}`));
    } else assert.equal(ort.groundLogits, undefined);
    const forwardOnly = await engine.logProbs(weights, prompts, completions);
    ort.logProbs.forEach((row, b) =>
      row.forEach((v, j) => {
        assert.ok(Math.abs(v - tfLogp[b]![j]!) < 1e-4, `logp[${b}][${j}] ${v} vs ${tfLogp[b]![j]}`);
        assert.ok(Math.abs(forwardOnly[b]![j]! - v) < 1e-5, `forward-only logp[${b}][${j}]`);
      }),
    );
    let objective = 0;
    ort.logProbs.forEach((row, b) => row.forEach((v, j) => (objective += coefs[b]![j]! * v)));
    grounding?.targets.forEach((row, b) => {
      for (let p = 0; row && p < P; p++) {
        const z = ort.groundLogits![b * P + p]!;
        objective += grounding.coefs[b]! * (Math.log1p(Math.exp(z)) - row[p]! * z);
      }
    });
    assert.ok(Math.abs(objective - value.dataSync()[0]!) < 1e-4);
    for (const name of names) {
      const want = grads[model.p(name).name]!.dataSync();
      const got = ort.grads.get(name)!;
      assert.equal(got.length, want.length, name);
      let scale = 1e-6;
      let diff = 0;
      for (let i = 0; i < want.length; i++) {
        scale = Math.max(scale, Math.abs(want[i]!));
        diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
      }
      assert.ok(diff <= 1e-4 * Math.max(1, scale), `${name}: max |ort − tfjs| ${diff} (largest |grad| ${scale})`);
    }
  } finally {
    await engine.release();
    tf.dispose([value, ...Object.values(grads)]);
    model.dispose();
  }
}

test('ONNX gradients equal tfjs gradients on every weight (tiny, GELU, option features)', async () => {
  await compare(presetConfig('tiny', 60, { optionMatch: markers }), 1);
});

test('ONNX gradients equal tfjs gradients with ReLU and without option features', async () => {
  await compare(presetConfig('tiny', 60, { activation: 'relu' }), 2);
});

test('ONNX gradients equal tfjs gradients with the nonlinear patch stem', async () => {
  await compare(presetConfig('tiny', 60, { optionMatch: markers, patchStem: 12 }), 3);
});

test('ONNX gradients equal tfjs gradients with the grounding loss (head on the last layer\'s image input)', async () => {
  await compare(presetConfig('tiny', 60, { optionMatch: markers, patchStem: 12, groundingHead: true }), 4);
});

test('a forward-only instance scores like the full one and refuses to compute gradients', async () => {
  await selectBackend();
  const cfg = presetConfig('tiny', 60, { optionMatch: markers });
  const weights = randomWeights(cfg, 5, 0.2);
  const { prompts, completions, coefs } = batch(cfg, 5);
  const full = await OrtGradients.create(cfg);
  const scorer = await OrtGradients.create(cfg, { forwardOnly: true });
  try {
    const want = (await full.run(weights, prompts, completions, coefs)).logProbs;
    const got = await scorer.logProbs(weights, prompts, completions);
    assert.deepEqual(got.map((r) => r.length), completions.map((c) => c.length));
    got.forEach((row, b) => row.forEach((v, j) => assert.ok(Math.abs(v - want[b]![j]!) < 1e-5, `logp[${b}][${j}] ${v} vs ${want[b]![j]}`)));
    await assert.rejects(scorer.run(weights, prompts, completions, coefs), /forward-only/);
  } finally {
    await full.release();
    await scorer.release();
  }
});
