import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend.js';

test('auto picks the best backend that loads and records what it skipped', async () => {
  delete process.env.MEDAD_TF_BACKEND;
  const sel = await selectBackend();
  assert.equal(sel.backend, tf.getBackend());
  // tfjs-node(-gpu) is an optional dependency; without it, wasm wins and tensorflow is listed as skipped.
  if (sel.backend === 'wasm') assert.equal(sel.skipped[0]?.backend, 'tensorflow');
  assert.ok(['tensorflow', 'wasm'].includes(sel.backend));
});

test('env MEDAD_TF_BACKEND and the option override the choice; bad names fail with the list', async () => {
  process.env.MEDAD_TF_BACKEND = 'cpu';
  assert.equal((await selectBackend()).backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal((await selectBackend({ backend: 'wasm' })).backend, 'wasm');
  process.env.MEDAD_TF_BACKEND = 'gpu';
  await assert.rejects(selectBackend(), /env MEDAD_TF_BACKEND is "gpu".*auto, tensorflow, wasm, cpu/);
  delete process.env.MEDAD_TF_BACKEND;
});

test('the patched wasm Slice kernel returns the same values as the stock semantics', async () => {
  await selectBackend({ backend: 'wasm' });
  const x = tf.range(0, 60).reshape([3, 4, 5]);
  assert.deepEqual(tf.slice(x, [1, 0, 0], [1, 4, 5]).reshape([20]).arraySync(), Array.from({ length: 20 }, (_, i) => 20 + i));
  assert.deepEqual(tf.slice(x, [0, 1, 2], [2, 2, 2]).arraySync(), [[[7, 8], [12, 13]], [[27, 28], [32, 33]]]);
  assert.deepEqual(tf.slice(x, [2, 3, 1], [1, 1, 3]).reshape([3]).arraySync(), [56, 57, 58]);
});
