import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '@medad/core';
import { selectBackend } from '../backend.js';
import { assertGenerationParity } from '../testing/generation-parity.js';
import { sequenceLogProbs, type EncodedPrompt } from '../logprobs.js';
import { imageTokens, presetConfig } from '../vlm/config.js';
import { VlmModel } from '../vlm/model.js';
import { pixelsToNCHW, pixelsToPatches } from '../vlm/processor.js';
import { buildOnnxModels } from './export.js';
import { imageAt, maxAbsDiff, randomPixels, randomTokens, tinyConfig } from './fixtures.js';
import { disposeKv } from './kv-cache.js';
import { OrtPolicy } from './ort-policy.js';
import { referenceForward } from './reference.js';
import { randomWeights } from './weights.js';

// Rotary position embeddings (config `rotaryDims`): the exported decoder, the Float64 reference and
// the tfjs model must agree exactly as they do without them (decoder.test.ts, parity-tfjs.test.ts).
const TOL = 1e-4;

test('rotary: ORT prefill, cached decoding and a left-padded batch equal the Float64 reference', async (t) => {
  const cfg = tinyConfig({ rotaryDims: 8 });
  const V = cfg.vocabSize;
  const P = imageTokens(cfg);
  const weights = randomWeights(cfg, 7, 0.3);
  const policy = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, weights));
  const rng = new SeededRng(2);
  const lens = [3, 6];
  const B = lens.length;
  const L = 6;
  const pixels = randomPixels(cfg, B, 12);
  const texts = lens.map((n) => randomTokens(cfg, n + 4, rng));
  const refs = texts.map((x, b) => referenceForward(cfg, weights, imageAt(cfg, pixels, b), x));
  // Left-padded prefill of the first `lens[b]` tokens, then 4 single-token steps.
  const ids = new BigInt64Array(B * L).fill(5n);
  texts.forEach((x, b) => x.slice(0, lens[b]).forEach((tok, j) => (ids[b * L + L - lens[b]! + j] = BigInt(tok))));
  let mask = new BigInt64Array(B * (P + L)).fill(1n);
  lens.forEach((n, b) => mask.fill(0n, b * (P + L) + P, b * (P + L) + P + L - n));
  const image = await policy.encodeImages(pixels, B);
  const prefill = await policy.decode(ids, B, L, mask, image);
  disposeKv(image);
  let worst = 0;
  lens.forEach((n, b) => {
    worst = Math.max(worst, maxAbsDiff(prefill.logits.subarray((b * L + L - n) * V, (b + 1) * L * V), refs[b]!.subarray(0, n * V)));
  });
  let kv = prefill.present;
  for (let s = 0; s < 4; s++) {
    const len = kv.length;
    const next = new BigInt64Array(B * (len + 1));
    for (let b = 0; b < B; b++) {
      next.set(mask.subarray(b * len, (b + 1) * len), b * (len + 1));
      next[b * (len + 1) + len] = 1n;
    }
    mask = next;
    const step = await policy.decode(BigInt64Array.from(texts.map((x, b) => BigInt(x[lens[b]! + s]!))), B, 1, mask, kv);
    disposeKv(kv);
    kv = step.present;
    lens.forEach((n, b) => {
      const pos = n + s;
      worst = Math.max(worst, maxAbsDiff(step.logits.subarray(b * V, (b + 1) * V), refs[b]!.subarray(pos * V, (pos + 1) * V)));
    });
  }
  disposeKv(kv);
  t.diagnostic(`rotary ORT vs Float64 reference: max abs diff ${worst.toExponential(2)}`);
  assert.ok(worst < TOL, `max abs diff ${worst}`);
  // Rotation matters: the same weights without it give different logits.
  const plain = referenceForward({ ...cfg, rotaryDims: undefined }, weights, imageAt(cfg, pixels, 0), texts[0]!);
  assert.ok(maxAbsDiff(plain, refs[0]!) > 1e-3);
  await policy.dispose();
});

const cfg = presetConfig('tiny', 60, { rotaryDims: 16 });
let model: VlmModel;
let policy: OrtPolicy;
const rng = new SeededRng(78);
const prompts = [randomTokens(cfg, 6, rng), randomTokens(cfg, 11, rng), randomTokens(cfg, 9, rng)];
const S = cfg.imageSize;
const hwc = prompts.map(() => Float32Array.from({ length: S * S * 3 }, () => rng.uniform(-1, 1)));
const encoded: EncodedPrompt[] = prompts.map((promptIds, b) => ({ promptIds, patches: pixelsToPatches(hwc[b]!, cfg) }));
const nchw = new Float32Array(prompts.length * 3 * S * S);
hwc.forEach((img, b) => nchw.set(pixelsToNCHW(img, S), b * 3 * S * S));

before(async () => {
  await selectBackend();
  model = VlmModel.fromWeights(cfg, randomWeights(cfg, 5, 0.4));
  policy = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, model.weights()));
});
after(async () => {
  model.dispose();
  await policy.dispose();
});

test('rotary: tfjs and ORT agree on log-probs and greedy/sampled tokens', async () => {
  const completions = [randomTokens(cfg, 5, rng), randomTokens(cfg, 2, rng), randomTokens(cfg, 8, rng)];
  const tfLp = tf.tidy(() => sequenceLogProbs(model, encoded, completions).logProbs.arraySync());
  const ortLp = await policy.logProbs({ prompts, completions, pixels: nchw });
  completions.forEach((c, b) => assert.ok(maxAbsDiff(tfLp[b]!.slice(0, c.length), ortLp[b]!) < TOL, `row ${b}`));
  await assertGenerationParity(model, encoded, policy, prompts, nchw);
});
