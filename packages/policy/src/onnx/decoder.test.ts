import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '@medad/core';
import { imageTokens } from '../vlm/config.js';
import { buildOnnxModels } from './export.js';
import { imageAt, maxAbsDiff, randomPixels, randomTokens, tinyConfig } from './fixtures.js';
import { disposeKv } from './kv-cache.js';
import { OrtPolicy } from './ort-policy.js';
import { referenceForward } from './reference.js';
import { randomWeights } from './weights.js';

const TOL = 1e-4;
const cfg = tinyConfig();
const V = cfg.vocabSize;
const P = imageTokens(cfg);
const weights = randomWeights(cfg, 7, 0.3);
const policyPromise = OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, weights));
after(async () => (await policyPromise).dispose());

/** Row-major attention mask `[batch, P + T]` with ones except the given left pads per row. */
function maskFor(batch: number, T: number, leftPads: readonly number[]): BigInt64Array {
  const m = new BigInt64Array(batch * (P + T)).fill(1n);
  leftPads.forEach((pads, b) => m.fill(0n, b * (P + T) + P, b * (P + T) + P + pads));
  return m;
}

test('prefill: ORT logits equal the Float64 reference forward (batch 2, different images)', async () => {
  const policy = await policyPromise;
  const rng = new SeededRng(1);
  const pixels = randomPixels(cfg, 2, 11);
  const texts = [randomTokens(cfg, 9, rng), randomTokens(cfg, 9, rng)];
  const image = await policy.encodeImages(pixels, 2);
  assert.deepEqual(image.keys[0]!.dims, [2, cfg.nHeads, P, cfg.dModel / cfg.nHeads]);
  const ids = BigInt64Array.from(texts.flat().map(BigInt));
  const { logits, present } = await policy.decode(ids, 2, 9, maskFor(2, 9, [0, 0]), image);
  assert.equal(present.length, P + 9);
  for (let b = 0; b < 2; b++) {
    const ref = referenceForward(cfg, weights, imageAt(cfg, pixels, b), texts[b]!);
    const diff = maxAbsDiff(logits.subarray(b * 9 * V, (b + 1) * 9 * V), ref);
    assert.ok(diff < TOL, `row ${b}: max abs diff ${diff}`);
  }
  // The rows really differ (a model ignoring its inputs would pass the comparison trivially less often).
  assert.ok(maxAbsDiff(logits.subarray(0, V), logits.subarray(9 * V, 10 * V)) > 1e-2);
  disposeKv(image);
  disposeKv(present);
});

test('incremental decoding with the KV cache equals the reference at every step', async (t) => {
  const policy = await policyPromise;
  const rng = new SeededRng(2);
  const pixels = randomPixels(cfg, 2, 12);
  const texts = [randomTokens(cfg, 10, rng), randomTokens(cfg, 10, rng)];
  const refs = texts.map((t, b) => referenceForward(cfg, weights, imageAt(cfg, pixels, b), t));
  let kv = await policy.encodeImages(pixels, 2);
  // Chunks of 3, then 2 (T > 1 after text already cached), then single tokens.
  const chunks = [3, 2, 1, 1, 1, 1, 1];
  let pos = 0;
  let worst = 0;
  for (const T of chunks) {
    const ids = BigInt64Array.from([...texts[0]!.slice(pos, pos + T), ...texts[1]!.slice(pos, pos + T)].map(BigInt));
    const mask = new BigInt64Array(2 * (kv.length + T)).fill(1n);
    const { logits, present } = await policy.decode(ids, 2, T, mask, kv);
    disposeKv(kv);
    kv = present;
    for (let b = 0; b < 2; b++) {
      worst = Math.max(worst, maxAbsDiff(logits.subarray(b * T * V, (b + 1) * T * V), refs[b]!.subarray(pos * V, (pos + T) * V)));
    }
    pos += T;
  }
  assert.equal(pos, 10);
  assert.equal(kv.length, P + 10);
  t.diagnostic(`ORT cached decoding vs Float64 reference: max abs diff ${worst.toExponential(2)}`);
  assert.ok(worst < TOL, `max abs diff ${worst}`);
  disposeKv(kv);
});

test('left-padded batch: every real position matches its unpadded reference, also while decoding on', async () => {
  const policy = await policyPromise;
  const rng = new SeededRng(3);
  const lens = [2, 5, 7];
  const B = lens.length;
  const Lmax = 7;
  const pixels = randomPixels(cfg, B, 13);
  const prompts = lens.map((n) => randomTokens(cfg, n, rng));
  const nexts = lens.map(() => randomTokens(cfg, 3, rng));
  const refs = prompts.map((p, b) => referenceForward(cfg, weights, imageAt(cfg, pixels, b), [...p, ...nexts[b]!]));
  const ids = new BigInt64Array(B * Lmax).fill(5n); // pads hold a real token id: only the mask may hide them
  prompts.forEach((p, b) => p.forEach((t, j) => (ids[b * Lmax + Lmax - p.length + j] = BigInt(t))));
  let mask = maskFor(B, Lmax, lens.map((n) => Lmax - n));
  const image = await policy.encodeImages(pixels, B);
  const prefill = await policy.decode(ids, B, Lmax, mask, image);
  disposeKv(image);
  let worst = 0;
  prompts.forEach((p, b) => {
    const got = prefill.logits.subarray((b * Lmax + Lmax - p.length) * V, (b + 1) * Lmax * V);
    worst = Math.max(worst, maxAbsDiff(got, refs[b]!.subarray(0, p.length * V)));
  });
  let kv = prefill.present;
  for (let s = 0; s < 3; s++) {
    const L = kv.length;
    const next = new BigInt64Array(B * (L + 1));
    for (let b = 0; b < B; b++) {
      next.set(mask.subarray(b * L, (b + 1) * L), b * (L + 1));
      next[b * (L + 1) + L] = 1n;
    }
    mask = next;
    const step = await policy.decode(BigInt64Array.from(nexts.map((n) => BigInt(n[s]!))), B, 1, mask, kv);
    disposeKv(kv);
    kv = step.present;
    for (let b = 0; b < B; b++) {
      const t = lens[b]! + s;
      worst = Math.max(worst, maxAbsDiff(step.logits.subarray(b * V, (b + 1) * V), refs[b]!.subarray(t * V, (t + 1) * V)));
    }
  }
  disposeKv(kv);
  assert.ok(worst < TOL, `max abs diff ${worst}`);
});

test('relu activation exports and matches the reference too', async () => {
  const reluCfg = tinyConfig({ activation: 'relu', nLayers: 1 });
  const w = randomWeights(reluCfg, 8, 0.3);
  const policy = await OrtPolicy.fromModels(reluCfg, buildOnnxModels(reluCfg, w));
  const pixels = randomPixels(reluCfg, 1, 14);
  const text = randomTokens(reluCfg, 6, new SeededRng(4));
  const [logits] = await policy.sequenceLogits({ prompts: [text.slice(0, 3)], completions: [text.slice(3)], pixels });
  const diff = maxAbsDiff(logits!, referenceForward(reluCfg, w, pixels, text));
  assert.ok(diff < TOL, `max abs diff ${diff}`);
  await policy.dispose();
});
