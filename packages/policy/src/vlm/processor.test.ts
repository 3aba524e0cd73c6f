import assert from 'node:assert/strict';
import { test } from 'node:test';
import { presetConfig } from './config.js';
import { groundingBox, groundingTargets, imageToPixels, pixelsToNCHW, pixelsToPatches, renderCompletion, renderPrompt } from './processor.js';

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

test('grounding targets: the fraction of each patch a box covers, in the image\'s pixel coordinates', () => {
  const cfg = presetConfig('tiny', 10); // 24 px, patch 8: a 3×3 grid
  // A 64 px image: one grid cell is 64/3 px. The box covers cell (0, 0) fully, half of (0, 1) in x.
  const cell = 64 / 3;
  const t = groundingTargets({ x: 0, y: 0, width: 1.5 * cell, height: cell }, 64, 64, cfg);
  assert.equal(t.length, 9);
  assert.ok(Math.abs(t[0]! - 1) < 1e-6 && Math.abs(t[1]! - 0.5) < 1e-6, `${Array.from(t)}`);
  assert.deepEqual(Array.from(t.subarray(2)), [0, 0, 0, 0, 0, 0, 0]);
  // Non-square image, box in the bottom-right corner, partly outside the image (that part ignored).
  const u = groundingTargets({ x: 90, y: 30, width: 50, height: 40 }, 120, 60, cfg);
  assert.ok(Math.abs(u[8]! - 0.75 * 1) < 1e-6 && Math.abs(u[5]! - 0.75 * 0.5) < 1e-6, `${Array.from(u)}`);
  assert.equal(u.filter((v) => v > 0).length, 2);
  assert.throws(() => groundingTargets({ x: 1, y: 1, width: 0, height: 5 }, 64, 64, cfg), /not a box of positive size.*Fix: give bbox/);
});

test('groundingBox inverts groundingTargets to the grid: the cells scored ≥ 0.5, else the top cell, in image pixels', () => {
  const cfg = presetConfig('small', 50); // 6×6 grid
  const logit = (p: number): number => Math.log(p / (1 - p));
  // A box covering cells (row 1–2, col 3–4) of a 120×60 image: cells are 20×10 pixels.
  const t = groundingTargets({ x: 60, y: 10, width: 40, height: 20 }, 120, 60, cfg);
  const z = Array.from(t, (v) => logit(Math.min(0.99, Math.max(0.01, v))));
  assert.deepEqual(groundingBox(z, 120, 60, cfg), { x: 60, y: 10, width: 40, height: 20 });
  // Nothing above 0.5: the most probable cell (row 5, col 0).
  const low = Array.from({ length: 36 }, (_, i) => (i === 30 ? logit(0.3) : logit(0.1)));
  assert.deepEqual(groundingBox(low, 120, 60, cfg), { x: 0, y: 50, width: 20, height: 10 });
  assert.throws(() => groundingBox([0, 1], 120, 60, cfg), /2 logits for a 6×6 grid/);
});
