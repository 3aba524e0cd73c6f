import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, MedadError } from '@medad/core';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';
import { validateConfig, weightShapes, type VlmConfig } from './vlm/config.js';
import { VlmModel, type VlmModelOptions } from './vlm/model.js';
import { WordTokenizer } from './vlm/tokenizer.js';

/** File names inside a checkpoint directory. */
export const CHECKPOINT_FILES = Object.freeze({ weights: 'model.safetensors', config: 'config.json', tokenizer: 'tokenizer.json' });

/** Writes `model.safetensors`, `config.json` and `tokenizer.json` into `dir` (created if needed). */
export async function saveCheckpoint(dir: string, model: VlmModel, tokenizer: WordTokenizer, metadata: Record<string, string> = {}): Promise<void> {
  if (tokenizer.vocabSize !== model.config.vocabSize) {
    throw new MedadError(ErrorCode.Conflict, `Tokenizer has ${tokenizer.vocabSize} ids but the model's vocabSize is ${model.config.vocabSize}`, {
      fix: 'save the tokenizer the model was built for',
    });
  }
  await mkdir(dir, { recursive: true });
  const tensors = new Map<string, NamedTensor>();
  const weights = model.weights();
  for (const [name, shape] of weightShapes(model.config)) tensors.set(name, { shape, data: weights.get(name)! });
  await writeFile(join(dir, CHECKPOINT_FILES.weights), encodeSafetensors(tensors, { format: 'pt', producer: '@medad/policy', ...metadata }));
  await writeFile(join(dir, CHECKPOINT_FILES.config), JSON.stringify(model.config, null, 2) + '\n');
  await writeFile(join(dir, CHECKPOINT_FILES.tokenizer), JSON.stringify(tokenizer.toJSON()) + '\n');
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MedadError(ErrorCode.NotFound, `Cannot read ${path}`, { cause: err, fix: 'point to a checkpoint directory written by saveCheckpoint()' });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MedadError(ErrorCode.InvalidData, `${path} is not valid JSON (${err instanceof Error ? err.message : String(err)})`, {
      fix: 'restore the file from the checkpoint',
    });
  }
}

/** Reads a checkpoint's config and tokenizer without the weights. */
export async function readCheckpointMeta(dir: string): Promise<{ config: VlmConfig; tokenizer: WordTokenizer }> {
  const configPath = join(dir, CHECKPOINT_FILES.config);
  const tokenizerPath = join(dir, CHECKPOINT_FILES.tokenizer);
  const config = validateConfig(await readJson(configPath), configPath);
  const tokenizer = WordTokenizer.fromJSON(await readJson(tokenizerPath), tokenizerPath);
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new MedadError(ErrorCode.InvalidData, `${configPath}: vocabSize ${config.vocabSize} differs from ${tokenizerPath} (${tokenizer.vocabSize} ids)`, {
      fix: 'keep config.json and tokenizer.json from the same checkpoint',
    });
  }
  return { config, tokenizer };
}

/** Loads a checkpoint directory; the weights are bit-identical to the saved ones. */
export async function loadCheckpoint(dir: string, options: VlmModelOptions = {}): Promise<{ model: VlmModel; tokenizer: WordTokenizer; metadata: Record<string, string> }> {
  const { config, tokenizer } = await readCheckpointMeta(dir);
  const weightsPath = join(dir, CHECKPOINT_FILES.weights);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(weightsPath);
  } catch (err) {
    throw new MedadError(ErrorCode.NotFound, `Cannot read ${weightsPath}`, { cause: err, fix: 'point to a checkpoint directory written by saveCheckpoint()' });
  }
  const file = decodeSafetensors(bytes, weightsPath);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of weightShapes(config)) {
    const t = file.tensors.get(name);
    if (!t) {
      throw new MedadError(ErrorCode.InvalidData, `${weightsPath}: weight "${name}" is missing`, { fix: 'save the checkpoint again with saveCheckpoint()' });
    }
    if (t.shape.join(',') !== shape.join(',')) {
      throw new MedadError(ErrorCode.InvalidData, `${weightsPath}: weight "${name}" has shape [${t.shape.join(', ')}], config.json implies [${shape.join(', ')}]`, {
        fix: 'keep config.json and model.safetensors from the same checkpoint',
      });
    }
    weights.set(name, t.data);
  }
  return { model: VlmModel.fromWeights(config, weights, options), tokenizer, metadata: file.metadata };
}
