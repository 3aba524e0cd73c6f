import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { isMedadError, ErrorCode } from '@medad/core';
import { weightShapes } from '../vlm/config.js';
import { buildOnnxModels, exportOnnx, ONNX_FILES } from './export.js';
import { maxAbsDiff, randomPixels, tinyConfig } from './fixtures.js';
import { OrtPolicy } from './ort-policy.js';
import { randomWeights } from './weights.js';

const { onnx } = onnxProto;
const cfg = tinyConfig();
const weights = randomWeights(cfg, 3);

test('the decoder follows the HF/optimum I/O convention at opset 17 with every weight as an initializer', () => {
  const { decoder, imageEncoder } = buildOnnxModels(cfg, weights);
  const dec = onnx.ModelProto.decode(decoder);
  assert.equal(Number(dec.irVersion), 8);
  assert.deepEqual(dec.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17]]);
  const inputs = dec.graph!.input!.map((i) => i.name);
  assert.deepEqual(inputs, ['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
  // The HF outputs, plus each call's own keys/values (`new.*`) for a preallocated decode cache.
  assert.deepEqual(dec.graph!.output!.map((o) => o.name), ['present.0.key', 'present.0.value', 'new.0.key', 'new.0.value', 'present.1.key', 'present.1.value', 'new.1.key', 'new.1.value', 'logits']);
  const dims = dec.graph!.input![2]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
  assert.deepEqual(dims, ['batch_size', cfg.nHeads, 'past_sequence_length', cfg.dModel / cfg.nHeads]);
  const init = new Set(dec.graph!.initializer!.map((t) => t.name));
  for (const [name] of weightShapes(cfg)) {
    if (name.startsWith('patch') || name.startsWith('img_pos')) continue; // the image encoder's
    assert.ok(init.has(name), `decoder lacks initializer ${name}`);
  }
  const enc = onnx.ModelProto.decode(imageEncoder);
  assert.deepEqual(enc.graph!.input!.map((i) => i.name), ['pixel_values']);
  assert.equal(enc.graph!.output!.length, 2 * cfg.nLayers);
  const encInit = new Set(enc.graph!.initializer!.map((t) => t.name));
  for (const name of ['patch.w', 'patch.b', 'img_pos.row', 'img_pos.col']) assert.ok(encInit.has(name), name);
});

test('exportOnnx writes the directory OrtPolicy.load reads, with identical logits to the in-memory models', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medad-onnx-'));
  try {
    const tokenizer = { vocab: ['<pad>', 'a'] };
    const out = await exportOnnx(cfg, weights, dir, { tokenizer });
    assert.deepEqual(JSON.parse(await readFile(join(dir, ONNX_FILES.config), 'utf8')), cfg);
    assert.deepEqual(JSON.parse(await readFile(out.tokenizer!, 'utf8')), tokenizer);
    const fromDir = await OrtPolicy.load(dir, { intraOpNumThreads: 1, executionProvider: 'auto' });
    const inMemory = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, weights));
    assert.equal(fromDir.provider.backend, 'ort-cpu'); // this machine has no CUDA provider library
    const rows = { prompts: [[1, 2, 3]], completions: [[4, 5]], pixels: randomPixels(cfg, 1, 1) };
    const [a] = await fromDir.sequenceLogits(rows);
    const [b] = await inMemory.sequenceLogits(rows);
    assert.equal(a!.length, 5 * cfg.vocabSize);
    assert.equal(maxAbsDiff(a!, b!), 0);
    await fromDir.dispose();
    await inMemory.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('missing or mis-sized weights and missing directories fail with the weight name and a fix', async () => {
  const missing = new Map(weights);
  missing.delete('layers.1.mlp.w2');
  assert.throws(() => buildOnnxModels(cfg, missing), (err: unknown) =>
    isMedadError(err, ErrorCode.InvalidData) && /"layers\.1\.mlp\.w2" \[64, 32\] is missing/.test(err.message) && /Fix:/.test(err.message));
  const wrong = { ...Object.fromEntries(weights), tok_emb: new Float32Array(7) };
  assert.throws(() => buildOnnxModels(cfg, wrong), /"tok_emb" has 7 values but shape \[40, 32\] needs 1280/);
  await assert.rejects(OrtPolicy.load(join(tmpdir(), 'no-such-medad-model')), (err: unknown) =>
    isMedadError(err, ErrorCode.NotFound) && /config\.json/.test(err.message));
  await assert.rejects(OrtPolicy.fromModels(cfg, { imageEncoder: new Uint8Array([1, 2, 3]), decoder: new Uint8Array(3) }), /could not load the in-memory encoder model/);
  await assert.rejects(OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, weights), { intraOpNumThreads: 0 }), /intraOpNumThreads must be a positive integer/);
});
