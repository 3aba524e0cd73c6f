import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';

test('safetensors round-trips float32 tensors bit-exactly with an 8-byte aligned header', () => {
  const tensors = new Map<string, NamedTensor>([
    ['a.w', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, Math.PI, -0, 1e-40]) }],
    ['b', { shape: [1], data: Float32Array.from([Number.NaN]) }],
  ]);
  const bytes = encodeSafetensors(tensors, { producer: 'test' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLen % 8, 0);
  assert.equal(bytes.length, 8 + headerLen + 7 * 4);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  assert.deepEqual(header['a.w'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  const back = decodeSafetensors(bytes);
  assert.deepEqual([...back.tensors.keys()], ['a.w', 'b']);
  assert.deepEqual(new Uint32Array(back.tensors.get('a.w')!.data.buffer), new Uint32Array(tensors.get('a.w')!.data.buffer));
  assert.ok(Number.isNaN(back.tensors.get('b')!.data[0]));
  assert.equal(back.metadata.producer, 'test');
});

test('truncated or foreign files fail with the file name and a fix', () => {
  const bytes = encodeSafetensors(new Map([['w', { shape: [4], data: new Float32Array(4) }]]));
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4), 'ckpt/model.safetensors'), /ckpt\/model\.safetensors: tensor "w" data_offsets.*Fix:/);
  assert.throws(() => decodeSafetensors(new Uint8Array(4), 'x'), /x: only 4 bytes/);
  const f16 = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }));
  const file = new Uint8Array(8 + f16.length + 2);
  new DataView(file.buffer).setBigUint64(0, BigInt(f16.length), true);
  file.set(f16, 8);
  assert.throws(() => decodeSafetensors(file, 'h.safetensors'), /dtype "F16".*float32/);
});
