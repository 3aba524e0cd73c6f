import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '@medad/core';
import { selectBackend } from '../backend.js';
import { generationRng } from '../generate.js';
import { assertGenerationParity } from '../testing/generation-parity.js';
import { sequenceLogProbs, type EncodedPrompt } from '../logprobs.js';
import { presetConfig } from '../vlm/config.js';
import { VlmModel } from '../vlm/model.js';
import { pixelsToNCHW, pixelsToPatches } from '../vlm/processor.js';
import { buildOnnxModels } from './export.js';
import { maxAbsDiff, randomTokens } from './fixtures.js';
import { OrtPolicy, ortGenerationRng } from './ort-policy.js';
import { randomWeights } from './weights.js';

// The real `tiny` preset (maxTextLen 128) with random weights large enough to give peaked logits.
const cfg = presetConfig('tiny', 60);
const V = cfg.vocabSize;
const S = cfg.imageSize;
let model: VlmModel;
let policy: OrtPolicy;

const rng = new SeededRng(77);
const prompts = [randomTokens(cfg, 6, rng), randomTokens(cfg, 11, rng), randomTokens(cfg, 9, rng)];
const hwc = prompts.map(() => Float32Array.from({ length: S * S * 3 }, () => rng.uniform(-1, 1)));
const encoded: EncodedPrompt[] = prompts.map((promptIds, b) => ({ promptIds, patches: pixelsToPatches(hwc[b]!, cfg) }));
const nchw = new Float32Array(prompts.length * 3 * S * S);
hwc.forEach((img, b) => nchw.set(pixelsToNCHW(img, S), b * 3 * S * S));

before(async () => {
  await selectBackend(); // the backend training uses here (wasm on a CPU machine)
  model = VlmModel.fromWeights(cfg, randomWeights(cfg, 5, 0.4));
  policy = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, model.weights()));
});
after(async () => {
  model.dispose();
  await policy.dispose();
});

test('tfjs (tiny) and ORT logits agree within 1e-4 on a left/right padded batch', async (t) => {
  const completions = [randomTokens(cfg, 5, rng), randomTokens(cfg, 2, rng), randomTokens(cfg, 8, rng)];
  const ort = await policy.sequenceLogits({ prompts, completions, pixels: nchw });
  // tfjs: prompts left-padded to 11, completions right-padded to 8 (its own layout); ORT: right-padded rows.
  const Lp = 11;
  const T = Lp + 8;
  const mask = prompts.map((p, b) => Array.from({ length: T }, (_, j) => (j >= Lp - p.length && j < Lp + completions[b]!.length ? 1 : 0)));
  const ids = new Int32Array(prompts.length * T);
  prompts.forEach((p, b) => {
    p.forEach((t, j) => (ids[b * T + Lp - p.length + j] = t));
    completions[b]!.forEach((t, j) => (ids[b * T + Lp + j] = t));
  });
  const tfLogits = tf.tidy(() => {
    const patches = tf.tensor3d(Float32Array.from(encoded.flatMap((e) => Array.from(e.patches))), [3, model.imageTokens, 3 * cfg.patchSize ** 2]);
    return model.forwardLogits(patches, tf.tensor2d(ids, [3, T], 'int32'), mask).dataSync() as Float32Array;
  });
  let worst = 0;
  prompts.forEach((p, b) => {
    const n = p.length + completions[b]!.length;
    const tfRow = tfLogits.subarray((b * T + Lp - p.length) * V, (b * T + Lp - p.length + n) * V);
    worst = Math.max(worst, maxAbsDiff(tfRow, ort[b]!));
  });
  t.diagnostic(`tfjs (${tf.getBackend()}) vs ORT logits: max abs diff ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-4, `max abs diff ${worst}`);
  // Per-token log-probs (what GRPO reads) agree too.
  const tfLp = tf.tidy(() => sequenceLogProbs(model, encoded, completions).logProbs.arraySync());
  const ortLp = await policy.logProbs({ prompts, completions, pixels: nchw });
  completions.forEach((c, b) => assert.ok(maxAbsDiff(tfLp[b]!.slice(0, c.length), ortLp[b]!) < 1e-4, `row ${b}`));
});

test('greedy and seeded sampled generation give identical tokens in tfjs and ORT', async () => {
  const { tfSampled, ortSampled } = await assertGenerationParity(model, encoded, policy, prompts, nchw);
  ortSampled.flat().forEach((c, i) => assert.ok(maxAbsDiff(c.tokenLogProbs, tfSampled.flat()[i]!.tokenLogProbs) < 1e-4));
  // The two runtimes seed completions the same way.
  assert.deepEqual(ortGenerationRng(4, 2, 1).getState(), generationRng(4, 2, 1).getState());
});
