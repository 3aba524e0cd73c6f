import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend.js';
import { embeddingLookup } from '../ops/embedding.js';
import { matMul2d } from '../ops/linear.js';
import { gelu } from '../ops/norm.js';
import { attentionBatched, attentionPerSample, headMasks } from './attention.js';
import { imageTokens, presetConfig, weightShapes } from './config.js';
import { VlmModel, initWeights } from './model.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);
}

test('presets follow ARCHITECTURE.md and weights have the contract names and shapes', () => {
  const small = presetConfig('small', 500);
  assert.deepEqual([small.dModel, small.nLayers, small.nHeads, small.dFF, small.imageSize, small.patchSize, small.maxTextLen], [96, 3, 4, 384, 48, 8, 160]);
  assert.equal(imageTokens(small), 36);
  assert.equal(small.patchStem, 64, 'small has the nonlinear patch stem (docs/results: +6.2 points over linear patches, mean of 3 seeds)');
  const tiny = presetConfig('tiny', 100);
  const tensorsBefore = tf.memory().numTensors;
  const model = VlmModel.create(tiny, 1);
  const names = weightShapes(tiny).map(([n]) => n);
  assert.deepEqual([...model.params.keys()], names);
  assert.ok(names.includes('layers.1.attn.wq') && names.includes('lm_head.w') && names.includes('img_pos.col'));
  assert.deepEqual(model.p('patch.w').shape, [192, 32]);
  assert.equal(model.parameterCount(), weightShapes(tiny).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0));
  model.dispose();
  assert.equal(tf.memory().numTensors, tensorsBefore, 'creating and disposing a model leaves no tensors behind');
  assert.throws(() => presetConfig('huge' as never, 10), /Unknown model preset "huge".*tiny, small, base/);
});

test('init is seeded: same seed same weights, positions use posInitStd', () => {
  const cfg = presetConfig('tiny', 50);
  const a = initWeights(cfg, 7);
  const b = initWeights(cfg, 7);
  const c = initWeights(cfg, 8);
  assert.deepEqual(a.get('layers.0.attn.wq'), b.get('layers.0.attn.wq'));
  assert.notDeepEqual(a.get('layers.0.attn.wq'), c.get('layers.0.attn.wq'));
  const pos = a.get('txt_pos')!;
  const std = Math.sqrt(pos.reduce((s, v) => s + v * v, 0) / pos.length);
  assert.ok(Math.abs(std - 0.3) < 0.02, `txt_pos std ${std}`);
  assert.ok(a.get('layers.0.ln1.g')!.every((v) => v === 1));
});

test('forward logits have shape [B, T, V] and padding does not change real positions', () => {
  const cfg = presetConfig('tiny', 40);
  const model = VlmModel.create(cfg, 2);
  const P = model.imageTokens;
  const [lA, lB] = tf.tidy(() => {
    const patches = tf.randomUniform([1, P, 192], -1, 1, 'float32', 3) as tf.Tensor3D;
    const a = model.forwardLogits(patches, tf.tensor2d([[4, 20, 21, 22]], [1, 4], 'int32'), [[1, 1, 1, 1]]);
    // The same row left-padded by two and right-padded by one.
    const b = model.forwardLogits(patches, tf.tensor2d([[0, 0, 4, 20, 21, 22, 0]], [1, 7], 'int32'), [[0, 0, 1, 1, 1, 1, 0]]);
    return [a, b.slice([0, 2, 0], [1, 4, 40])];
  });
  assert.deepEqual(lA!.shape, [1, 4, 40]);
  assert.ok(maxDiff(lA!, lB!) < 1e-5);
  tf.dispose([lA!, lB!]);
  model.dispose();
});

test('per-sample (hand-written backward) and batched attention agree in values and gradients', () => {
  const [B, Lq, Lk, d, H] = [3, 5, 9, 16, 4];
  const q = tf.randomNormal([B, Lq, d], 0, 1, 'float32', 1) as tf.Tensor3D;
  const k = tf.randomNormal([B, Lk, d], 0, 1, 'float32', 2) as tf.Tensor3D;
  const v = tf.randomNormal([B, Lk, d], 0, 1, 'float32', 3) as tf.Tensor3D;
  const w = tf.randomNormal([B, Lq, d], 0, 1, 'float32', 4);
  const biasData = new Float32Array(B * Lq * Lk);
  for (let i = 0; i < biasData.length; i++) if ((i * 7) % 5 === 0 && i % Lk !== 0) biasData[i] = -1e9;
  const bias = tf.tensor3d(biasData, [B, Lq, Lk]);
  const heads = headMasks(H, d);
  const f1 = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => attentionPerSample(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, bias, heads).mul(w).sum();
  const f2 = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => attentionBatched(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, bias, H).mul(w).sum();
  assert.ok(maxDiff(attentionPerSample(q, k, v, bias, heads), attentionBatched(q, k, v, bias, H)) < 1e-5);
  const g1 = tf.grads(f1)([q, k, v]);
  const g2 = tf.grads(f2)([q, k, v]);
  for (let i = 0; i < 3; i++) assert.ok(maxDiff(g1[i]!, g2[i]!) < 1e-4, `grad ${i}: ${maxDiff(g1[i]!, g2[i]!)}`);
  tf.dispose([q, k, v, w, bias, heads, ...g1, ...g2]);
});

test('matMul2d, embeddingLookup and GELU have the right gradients on wasm', () => {
  const a = tf.randomNormal([4, 6], 0, 1, 'float32', 5) as tf.Tensor2D;
  const b = tf.randomNormal([6, 3], 0, 1, 'float32', 6) as tf.Tensor2D;
  const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => matMul2d(x as tf.Tensor2D, y as tf.Tensor2D).square().sum())([a, b]);
  // Reference: d/dA sum((AB)²) = 2(AB)Bᵀ, d/dB = 2Aᵀ(AB), with explicit transposes.
  const ab = tf.matMul(a, b);
  assert.ok(maxDiff(da!, tf.matMul(ab.mul(2), tf.transpose(b))) < 1e-4);
  assert.ok(maxDiff(db!, tf.matMul(tf.transpose(a), ab.mul(2))) < 1e-4);
  const table = tf.randomNormal([5, 3], 0, 1, 'float32', 7) as tf.Tensor2D;
  const ids = tf.tensor1d([1, 3, 1, 0], 'int32');
  const [dt] = tf.grads((t: tf.Tensor) => embeddingLookup(t as tf.Tensor2D, ids).mul(tf.range(1, 13).reshape([4, 3])).sum())([table]);
  assert.deepEqual(dt!.arraySync(), [[10, 11, 12], [8, 10, 12], [0, 0, 0], [4, 5, 6], [0, 0, 0]]);
  const x = tf.tensor1d([-3, -1, 0, 0.5, 2]);
  const tanhForm = x.mul(0.5).mul(x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI)).tanh().add(1));
  assert.ok(maxDiff(gelu(x), tanhForm) < 1e-6);
  const [dg] = tf.grads((t: tf.Tensor) => gelu(t).sum())([x]);
  assert.ok(Math.abs(dg!.dataSync()[2]! - 0.5) < 1e-6);
  tf.dispose([a, b, da!, db!, ab, table, ids, dt!, x, tanhForm, dg!]);
});
