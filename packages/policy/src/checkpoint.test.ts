import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { selectBackend } from './backend.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { buildOnnxModels } from './onnx/export.js';
import { presetConfig } from './vlm/config.js';
import { VlmModel } from './vlm/model.js';
import { WordTokenizer } from './vlm/tokenizer.js';

const { onnx } = onnxProto;
let dir: string;
before(async () => {
  await selectBackend({ backend: 'wasm' });
  dir = await mkdtemp(join(tmpdir(), 'medad-ckpt-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('save → load gives bit-identical weights and logits', async () => {
  const tokenizer = WordTokenizer.train(['<think> a small test corpus </think> <answer> A </answer>'], { minCount: 1 });
  const cfg = presetConfig('tiny', tokenizer.vocabSize);
  const model = VlmModel.create(cfg, 11);
  // Train-like perturbation so the saved weights are not just the seeded init.
  tf.tidy(() => model.p('layers.0.mlp.w1').assign(model.p('layers.0.mlp.w1').add(tf.randomNormal([32, 64], 0, 0.1, 'float32', 1))));
  await saveCheckpoint(dir, model, tokenizer);
  const loaded = await loadCheckpoint(dir);
  const ids = tf.tensor2d([[4, 270, 271, 5]], [1, 4], 'int32');
  const patches = tf.randomUniform([1, 9, 192], -1, 1, 'float32', 2) as tf.Tensor3D;
  const a = tf.tidy(() => model.forwardLogits(patches, ids, [[1, 1, 1, 1]]).dataSync() as Float32Array);
  const b = tf.tidy(() => loaded.model.forwardLogits(patches, ids, [[1, 1, 1, 1]]).dataSync() as Float32Array);
  assert.deepEqual(new Uint32Array(b.buffer), new Uint32Array(a.buffer));
  assert.deepEqual(loaded.model.config, cfg);
  assert.deepEqual(loaded.tokenizer.toJSON(), tokenizer.toJSON());
  assert.equal(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).dModel, 32);
  tf.dispose([ids, patches]);
  model.dispose();
  loaded.model.dispose();
});

test('a config that does not match the weights fails naming the file, weight and fix', async () => {
  const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, dFF: 48 }));
  await assert.rejects(loadCheckpoint(dir), /model\.safetensors: weight "layers\.0\.mlp\.w1" has shape \[32, 64\], config\.json implies \[32, 48\].*Fix:/);
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...cfg, nHeads: 5 }));
  await assert.rejects(loadCheckpoint(dir), /config\.json: dModel 32 is not divisible by nHeads 5/);
  await assert.rejects(loadCheckpoint(join(dir, 'missing')), /Cannot read .*config\.json.*Fix:/);
});

test('a model with a grounding head saves and loads its head; the ONNX decoder leaves the head out', async () => {
  const tokenizer = WordTokenizer.train(['<think> a small test corpus </think> <answer> A </answer>'], { minCount: 1 });
  const cfg = presetConfig('tiny', tokenizer.vocabSize, { groundingHead: true });
  const model = VlmModel.create(cfg, 12);
  const sub = join(dir, 'grounded');
  await saveCheckpoint(sub, model, tokenizer);
  const loaded = await loadCheckpoint(sub);
  assert.equal(loaded.model.config.groundingHead, true);
  const patches = tf.randomUniform([2, 9, 192], -1, 1, 'float32', 3) as tf.Tensor3D;
  const a = tf.tidy(() => model.groundingLogits(patches).dataSync() as Float32Array);
  const b = tf.tidy(() => loaded.model.groundingLogits(patches).dataSync() as Float32Array);
  assert.equal(a.length, 18);
  assert.deepEqual(new Uint32Array(b.buffer), new Uint32Array(a.buffer));
  const { decoder } = buildOnnxModels(cfg, model.weights());
  const init = onnx.ModelProto.decode(decoder).graph!.initializer!.map((t) => t.name);
  assert.ok(init.includes('lm_head.w') && !init.some((n) => n?.startsWith('ground.')), init.join(' '));
  const plain = VlmModel.create(presetConfig('tiny', tokenizer.vocabSize), 12);
  assert.throws(() => plain.groundingLogits(patches), /no grounding head.*Fix:/);
  tf.dispose(patches);
  [model, loaded.model, plain].forEach((m) => m.dispose());
});
