import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presetConfig } from './config.js';
import { imageToPixels, pixelsToNCHW, pixelsToPatches, renderCompletion, renderPrompt } from './processor.js';

test('prompt and completion follow the ARCHITECTURE.md format', () => {
  const sample = { question: 'Where?', options: ['a', 'b', 'c', 'd'] as [string, string, string, string], cot: 'It is b.', answer: 'B' };
  assert.equal(renderPrompt(sample), '<image> Question: Where? Options: (A) a (B) b (C) c (D) d Answer:');
  assert.equal(renderCompletion(sample), '<think> It is b. </think> <answer> B </answer>');
});

test('pixels: same-size images map exactly, grayscale is replicated, values in [-1, 1]', () => {
  const gray = { width: 2, height: 2, channels: 1 as const, data: Uint8Array.from([0, 255, 51, 102]) };
  const px = imageToPixels(gray, 2);
  assert.deepEqual(Array.from(px.subarray(0, 6)), [-1, -1, -1, 1, 1, 1]);
  assert.ok(Math.abs(px[6]! - (51 / 255 - 0.5) / 0.5) < 1e-6);
  const big = imageToPixels({ width: 4, height: 4, channels: 4, data: new Uint8Array(64).fill(255) }, 2);
  assert.ok(big.every((v) => v === 1));
  assert.throws(() => imageToPixels({ width: 3, height: 3, channels: 3, data: new Uint8Array(5) }, 2), /has 5 bytes, expected 27.*Fix:/);
});

test('patches are row-major, each flattened in (py, px, c) order; NCHW is planar', () => {
  const cfg = presetConfig('tiny', 10); // 24×24, patch 8, grid 3
  const S = cfg.imageSize;
  const pixels = new Float32Array(S * S * 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) for (let c = 0; c < 3; c++) pixels[(y * S + x) * 3 + c] = y * 1000 + x * 10 + c;
  const patches = pixelsToPatches(pixels, cfg);
  const patchLen = 3 * 8 * 8;
  // Patch (r=1, c=2), element (py=3, px=5, c=1) is pixel (y=11, x=21, c=1).
  assert.equal(patches[(1 * 3 + 2) * patchLen + (3 * 8 + 5) * 3 + 1], 11 * 1000 + 21 * 10 + 1);
  const nchw = pixelsToNCHW(pixels, S);
  assert.equal(nchw[2 * S * S + 4 * S + 7], 4 * 1000 + 7 * 10 + 2);
});
