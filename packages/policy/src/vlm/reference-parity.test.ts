import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '@medad/core';
import { selectBackend } from '../backend.js';
import { generateTokens } from '../generate.js';
import { maxAbsDiff, randomTokens, tinyConfig } from '../onnx/fixtures.js';
import { referenceForward, referenceGreedy } from '../onnx/reference.js';
import { randomWeights } from '../onnx/weights.js';
import type { VlmConfig } from './config.js';
import { VlmModel } from './model.js';
import { pixelsToNCHW, pixelsToPatches } from './processor.js';
import { SPECIAL_IDS } from './tokenizer.js';

// The tfjs model is built from the same Layers as the ONNX graphs (layers.ts), so tfjs-vs-ORT
// parity alone could not catch a mistake they share: each backend is also held to the Float64
// reference, written separately from ARCHITECTURE.md.
before(async () => {
  await selectBackend({ backend: 'wasm' });
});

const CONFIGS: Array<[string, VlmConfig]> = [
  ['gelu', tinyConfig()],
  ['relu + patch stem', tinyConfig({ activation: 'relu', patchStem: 8 })],
  ['rotary', tinyConfig({ rotaryDims: 8 })],
];

for (const [name, cfg] of CONFIGS) {
  for (const attention of ['per-sample', 'batched'] as const) {
    test(`tfjs (${name}, ${attention} attention): left-padded teacher forcing and cached greedy decoding equal the Float64 reference`, () => {
      const V = cfg.vocabSize;
      const S = cfg.imageSize;
      const weights = randomWeights(cfg, 7, 0.3);
      const model = VlmModel.fromWeights(cfg, weights, { attention });
      try {
        const rng = new SeededRng(11);
        const texts = [randomTokens(cfg, 9, rng), randomTokens(cfg, 5, rng)];
        const hwc = texts.map(() => Float32Array.from({ length: S * S * 3 }, () => rng.uniform(-1, 1)));
        const T = 9;
        const mask = texts.map((t) => Array.from({ length: T }, (_, j) => (j >= T - t.length ? 1 : 0)));
        const ids = new Int32Array(texts.length * T);
        texts.forEach((t, b) => t.forEach((id, j) => (ids[b * T + T - t.length + j] = id)));
        const logits = tf.tidy(() => {
          const patches = tf.tensor3d(Float32Array.from(hwc.flatMap((img) => Array.from(pixelsToPatches(img, cfg)))), [texts.length, model.imageTokens, 3 * cfg.patchSize ** 2]);
          return model.forwardLogits(patches, tf.tensor2d(ids, [texts.length, T], 'int32'), mask).dataSync() as Float32Array;
        });
        texts.forEach((t, b) => {
          const ref = referenceForward(cfg, weights, pixelsToNCHW(hwc[b]!, S), t);
          const got = logits.subarray((b * T + T - t.length) * V, (b + 1) * T * V);
          const diff = maxAbsDiff(got, ref);
          assert.ok(diff < 1e-4, `row ${b}: max abs diff ${diff}`);
        });
        // Cached decoding (decodeStep) for the shorter prompt, left-padded beside the longer one.
        const out = generateTokens(model, texts.map((promptIds, b) => ({ promptIds, patches: pixelsToPatches(hwc[b]!, cfg) })), { greedy: true, maxNewTokens: 6, stopIds: [] });
        texts.forEach((t, b) => {
          // tfjs generation ends at <eos> and does not keep it.
          const want = referenceGreedy(cfg, weights, pixelsToNCHW(hwc[b]!, S), t, 6, [SPECIAL_IDS.eos]).filter((id) => id !== SPECIAL_IDS.eos);
          assert.deepEqual(out[b]![0]!.tokens, want, `row ${b} greedy tokens`);
        });
      } finally {
        model.dispose();
      }
    });
  }
}
