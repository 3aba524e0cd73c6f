import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '@medad/core';
import { selectBackend } from '../backend.js';
import { sequenceLogProbs, type EncodedPrompt } from '../logprobs.js';
import { presetConfig, validateConfig, weightShapes } from '../vlm/config.js';
import { VlmModel } from '../vlm/model.js';
import { pixelsToNCHW, pixelsToPatches } from '../vlm/processor.js';
import { stemOrder } from '../vlm/stem.js';
import { buildOnnxModels } from './export.js';
import { imageAt, maxAbsDiff, ortVsReference } from './fixtures.js';
import { OrtPolicy } from './ort-policy.js';
import { referenceForward } from './reference.js';
import { randomWeights } from './weights.js';

// Nonlinear patch stem (config `patchStem`): tfjs, the exported ONNX graphs and the Float64
// reference must agree, and the stem must change what the model computes.
const TOL = 1e-4;
const cfg = presetConfig('tiny', 60, { patchStem: 12 });
const rng = new SeededRng(7);
const prompts = [[4, 20, 21, 22], [4, 23], [4, 24, 25]];
const completions = [[30, 31, 32], [33, 34, 35, 36], [37]];
const S = cfg.imageSize;
const hwc = prompts.map(() => Float32Array.from({ length: S * S * 3 }, () => rng.uniform(-1, 1)));
const encoded: EncodedPrompt[] = prompts.map((promptIds, b) => ({ promptIds, patches: pixelsToPatches(hwc[b]!, cfg) }));
const nchw = new Float32Array(prompts.length * 3 * S * S);
hwc.forEach((img, b) => nchw.set(pixelsToNCHW(img, S), b * 3 * S * S));

let model: VlmModel;
let policy: OrtPolicy;
before(async () => {
  await selectBackend();
  const w = randomWeights(cfg, 3, 0.4);
  model = VlmModel.fromWeights(cfg, w);
  policy = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, model.weights()));
});
after(async () => {
  model.dispose();
  await policy.dispose();
});

test('stemOrder regroups a patch into its four quarters, each in (py, px, c) order', () => {
  const order = stemOrder(4);
  assert.equal(order.length, 48);
  assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 48 }, (_, i) => i));
  // Top-left quarter of a 4×4 patch: pixels (0,0), (0,1), (1,0), (1,1), three channels each.
  assert.deepEqual(order.slice(0, 12), [0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17]);
  // Top-right quarter starts at pixel (0,2).
  assert.equal(order[12], 6);
  assert.deepEqual(weightShapes(cfg).filter(([n]) => n.startsWith('stem')), [['stem.w1', [48, 12]], ['stem.b1', [12]], ['stem.w2', [48, cfg.dModel]]]);
  assert.throws(() => validateConfig({ ...cfg, patchSize: 3, imageSize: 24 }, 'test'), /patchStem.*even patchSize.*Fix:/s);
  assert.throws(() => validateConfig({ ...cfg, patchStem: 1.5 }, 'test'), /patchStem/);
});

test('patch stem: ORT equals the Float64 reference; tfjs equals ORT; the stem changes the logits', async () => {
  const worst = await ortVsReference(policy, cfg, model.weights(), { prompts, completions, pixels: nchw });
  assert.ok(worst < TOL, `ORT vs reference max abs diff ${worst}`);
  const row = [...prompts[0]!, ...completions[0]!];
  const w = model.weights();
  const without = new Map(w);
  without.set('stem.w2', new Float32Array(w.get('stem.w2')!.length));
  assert.ok(maxAbsDiff(referenceForward(cfg, without, imageAt(cfg, nchw, 0), row), referenceForward(cfg, w, imageAt(cfg, nchw, 0), row)) > 1e-2);
  const tfLp = tf.tidy(() => sequenceLogProbs(model, encoded, completions).logProbs.arraySync());
  const ortLp = await policy.logProbs({ prompts, completions, pixels: nchw });
  completions.forEach((c, b) => assert.ok(maxAbsDiff(tfLp[b]!.slice(0, c.length), ortLp[b]!) < TOL, `row ${b}`));
});

test('patch stem weights get gradients on the wasm path', () => {
  const names = ['stem.w1', 'stem.b1', 'stem.w2'];
  const { grads, value } = tf.variableGrads(() => sequenceLogProbs(model, encoded, completions).logProbs.sum().neg() as tf.Scalar, names.map((n) => model.p(n)));
  for (const n of names) {
    const g = grads[model.p(n).name]!;
    assert.ok(g.abs().max().dataSync()[0]! > 0, `${n} has a zero gradient`);
  }
  tf.dispose([value, ...Object.values(grads)]);
});
