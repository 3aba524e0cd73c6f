import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '@medad/core';
import { selectBackend } from '../backend.js';
import { generateTokens } from '../generate.js';
import { presetConfig } from './config.js';
import { VlmModel, initWeights } from './model.js';
import { Rotary, applyRotaryRows, rotaryTables } from './rotary.js';

before(async () => {
  await selectBackend({ backend: 'wasm' });
});

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);
}

test('rotary: scores depend on the position difference only; tfjs, plain and gradient agree', () => {
  const cfg = presetConfig('tiny', 40, { rotaryDims: 8 });
  const rot = new Rotary(cfg);
  const d = cfg.dModel;
  const q = tf.randomNormal([1, d], 0, 1, 'float32', 1);
  const k = tf.randomNormal([1, d], 0, 1, 'float32', 2);
  const score = (tq: number, tk: number): number =>
    tf.tidy(() => rot.apply(q, rot.angles([tq])).mul(rot.apply(k, rot.angles([tk]))).sum().dataSync()[0]!);
  assert.ok(Math.abs(score(9, 4) - score(25, 20)) < 1e-4);
  assert.ok(Math.abs(score(9, 4) - score(9, 5)) > 1e-3, 'rotation changes scores across offsets');
  // Norm preserved; unrotated columns untouched.
  const x = tf.randomNormal([3, d], 0, 1, 'float32', 3);
  const pos = [0, 7, 31];
  const y = rot.apply(x, rot.angles(pos));
  assert.ok(maxDiff(x.square().sum(-1), y.square().sum(-1)) < 1e-4);
  assert.ok(maxDiff(x.slice([0, 8], [3, 8]), y.slice([0, 8], [3, 8])) < 1e-7);
  const plain = Float64Array.from(x.dataSync());
  applyRotaryRows(plain, pos, cfg, rotaryTables(cfg));
  assert.ok(maxDiff(y, tf.tensor2d(Float32Array.from(plain), [3, d])) < 1e-5);
  // d/dx sum(w ⊙ rot(x)) = rotᵀ(w): rotating back by the same angle.
  const w = tf.randomNormal([3, d], 0, 1, 'float32', 4);
  const [g] = tf.grads((t: tf.Tensor) => rot.apply(t, rot.angles(pos)).mul(w).sum())([x]);
  const eps = 1e-2;
  const e = tf.oneHot([5], d).mul(eps).tile([3, 1]);
  const fd = tf.tidy(() => rot.apply(x.add(e), rot.angles(pos)).sub(rot.apply(x.sub(e), rot.angles(pos))).mul(w).sum(-1).div(2 * eps));
  assert.ok(maxDiff(g!.slice([0, 5], [3, 1]).reshape([3]), fd) < 1e-2);
  rot.dispose();
});

test('rotary model: padding-invariant forward and cached generation equal to recomputation', () => {
  const cfg = presetConfig('tiny', 80, { rotaryDims: 16 });
  const w = initWeights(cfg, 3);
  w.get('lm_head.w')!.forEach((v, i, a) => (a[i] = v * 40));
  const model = VlmModel.fromWeights(cfg, w);
  const P = model.imageTokens;
  const [lA, lB] = tf.tidy(() => {
    const patches = tf.randomUniform([1, P, 192], -1, 1, 'float32', 3) as tf.Tensor3D;
    const a = model.forwardLogits(patches, tf.tensor2d([[4, 20, 21, 22]], [1, 4], 'int32'), [[1, 1, 1, 1]]);
    const b = model.forwardLogits(patches, tf.tensor2d([[0, 0, 4, 20, 21, 22, 0]], [1, 7], 'int32'), [[0, 0, 1, 1, 1, 1, 0]]);
    return [a, b.slice([0, 2, 0], [1, 4, 80])];
  });
  assert.ok(maxDiff(lA!, lB!) < 1e-5);
  const rng = new SeededRng(9);
  const prompts = [5, 9, 7].map((len) => ({
    patches: Float32Array.from({ length: P * 192 }, () => rng.uniform(-1, 1)),
    promptIds: [4, ...Array.from({ length: len - 1 }, () => 9 + rng.int(70))],
  }));
  const opts = { greedy: true, maxNewTokens: 12, stopIds: [] as number[] };
  const kv = generateTokens(model, prompts, opts);
  const plain = generateTokens(model, prompts, { ...opts, useCache: false });
  assert.deepEqual(kv.map((g) => g[0]!.tokens), plain.map((g) => g[0]!.tokens));
  kv.flat().forEach((c, i) => c.tokenLogProbs.forEach((lp, j) => assert.ok(Math.abs(lp - plain.flat()[i]!.tokenLogProbs[j]!) < 1e-4)));
  tf.dispose([lA!, lB!]);
  model.dispose();
});

test('invalid rotary configs are refused; the field survives validation', () => {
  assert.throws(() => presetConfig('tiny', 40, { rotaryDims: 3 }), /rotaryDims/);
  assert.throws(() => presetConfig('tiny', 40, { rotaryDims: 18 }), /rotaryDims/);
  assert.equal(presetConfig('tiny', 40, { rotaryDims: 8 }).rotaryDims, 8);
  assert.equal('rotaryDims' in presetConfig('tiny', 40), false);
});
