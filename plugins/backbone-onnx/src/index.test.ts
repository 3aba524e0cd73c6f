import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, createTestContainer, isMedadError, parsePluginConfig } from '@medad/core';
import { FIXTURE_SAMPLE, describeBackboneContract, fixtureImage } from '@medad/core/testing';
import {
  WordTokenizer,
  exportOnnx,
  imageToPixels,
  logSoftmax,
  pixelsToNCHW,
  presetConfig,
  randomWeights,
  referenceForward,
  renderCompletion,
  renderPrompt,
} from '@medad/policy';
import { onnxBackbonePlugin } from './index.js';
import { OnnxBackbone } from './onnx-backbone.js';

const tokenizer = WordTokenizer.train([renderPrompt(FIXTURE_SAMPLE), renderCompletion(FIXTURE_SAMPLE)], { minCount: 1 });
const cfg = presetConfig('tiny', tokenizer.vocabSize);
const weights = randomWeights(cfg, 9, 0.3);
const root = await mkdtemp(join(tmpdir(), 'medad-backbone-onnx-'));
const modelDir = join(root, 'model');
await exportOnnx(cfg, weights, modelDir, { tokenizer: tokenizer.toJSON() });
after(() => rm(root, { recursive: true, force: true }));

describeBackboneContract('onnx', () => OnnxBackbone.open({ dir: modelDir, intraOpNumThreads: 1 }));

test('the plugin parses its config with defaults and creates a CPU backbone that can score text', async () => {
  const config = parsePluginConfig(onnxBackbonePlugin, { dir: modelDir });
  assert.deepEqual(config, { dir: modelDir, intraOpNumThreads: 1, executionProvider: 'auto', batchSize: 16 });
  const backbone = await onnxBackbonePlugin.create(createTestContainer(), config);
  const info = backbone.describe();
  assert.equal(info.id, 'onnx');
  assert.equal(info.backend, 'ort-cpu');
  assert.deepEqual(info.capabilities, { logProbs: true, trainable: false });
  await backbone.dispose?.();
  assert.throws(() => parsePluginConfig(onnxBackbonePlugin, { dir: modelDir, executionProvider: 'tpu' }), /executionProvider/);
});

test('logProbs renders the prompt, preprocesses the image and scores like the Float64 reference', async () => {
  const backbone = await OnnxBackbone.open({ dir: modelDir });
  const image = fixtureImage(40);
  const completion = renderCompletion(FIXTURE_SAMPLE);
  const [lp] = await backbone.logProbs([{ sample: FIXTURE_SAMPLE, image }], [completion]);
  const promptIds = tokenizer.encode(renderPrompt(FIXTURE_SAMPLE));
  const completionIds = tokenizer.encode(completion);
  const pixels = pixelsToNCHW(imageToPixels(image, cfg.imageSize), cfg.imageSize);
  const logits = referenceForward(cfg, weights, pixels, [...promptIds, ...completionIds]);
  const V = cfg.vocabSize;
  assert.equal(lp!.length, completionIds.length);
  completionIds.forEach((t, k) => {
    const row = logits.subarray((promptIds.length + k - 1) * V, (promptIds.length + k) * V);
    assert.ok(Math.abs(lp![k]! - logSoftmax(row)[t]!) < 1e-4, `token ${k}`);
  });
  await backbone.dispose();
});

test('greedy generation decodes its tokens to text and exportOnnx copies a loadable model', async () => {
  const backbone = await OnnxBackbone.open({ dir: modelDir });
  const prompt = [{ sample: FIXTURE_SAMPLE, image: fixtureImage() }];
  const first = (await backbone.generate(prompt, { greedy: true, maxTokens: 8 }))[0]![0]!;
  assert.equal(first.text, tokenizer.decode(first.tokens));
  assert.ok(first.tokens.length > 0 && first.tokens.length <= 8);
  const copyDir = join(root, 'copy');
  assert.equal(await backbone.exportOnnx(copyDir), copyDir);
  assert.deepEqual((await readdir(copyDir)).sort(), ['config.json', 'decoder_model.onnx', 'image_encoder.onnx', 'tokenizer.json']);
  const copy = await OnnxBackbone.open({ dir: copyDir });
  const again = (await copy.generate(prompt, { greedy: true, maxTokens: 8 }))[0]![0]!;
  assert.deepEqual(again.tokens, first.tokens);
  await backbone.dispose();
  await copy.dispose();
});

test('a missing tokenizer or one that does not fit the model fails with the file and a fix', async () => {
  const bare = join(root, 'bare');
  await exportOnnx(cfg, weights, bare);
  await assert.rejects(OnnxBackbone.open({ dir: bare }), (err: unknown) =>
    isMedadError(err, ErrorCode.NotFound) && /tokenizer\.json/.test(err.message) && /Fix:/.test(err.message));
  const other = WordTokenizer.train(['a completely different corpus with other words'], { minCount: 1 });
  await writeFile(join(bare, 'tokenizer.json'), JSON.stringify(other.toJSON()));
  await assert.rejects(OnnxBackbone.open({ dir: bare }), (err: unknown) =>
    isMedadError(err, ErrorCode.InvalidData) && new RegExp(`has ${other.vocabSize} tokens but config.json says vocabSize ${cfg.vocabSize}`).test(err.message));
});
