import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, MedadError } from '@medad/core';
import { validateConfig, type VlmConfig } from '../vlm/config.js';
import { buildDecoder, buildImageEncoder } from './graphs.js';
import { checkWeights, type WeightSource } from './weights.js';

/** File names of an exported model directory (ARCHITECTURE.md, "ONNX files"). */
export const ONNX_FILES = Object.freeze({
  imageEncoder: 'image_encoder.onnx',
  decoder: 'decoder_model.onnx',
  config: 'config.json',
  tokenizer: 'tokenizer.json',
});

/** The two ONNX models in memory. */
export interface OnnxModels {
  imageEncoder: Uint8Array;
  decoder: Uint8Array;
  /** The decode-step variant of `decoder` (`buildDecoder(…, 'step')`); without it steps run on `decoder`. */
  decoderStep?: Uint8Array;
}

/** Options for {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** The tokenizer, written as `tokenizer.json` (a JSON string or a JSON-serialisable object). */
  tokenizer?: string | object;
}

/** Paths written by {@link exportOnnx}. */
export interface OnnxExport {
  dir: string;
  imageEncoder: string;
  decoder: string;
  config: string;
  tokenizer?: string;
}

/**
 * Builds the image encoder and decoder ONNX models (opset 17) in memory: with `weights`, as
 * initializers; with `'inputs'`, as graph inputs fed by `OrtPolicy.setWeights` (one session for
 * weights that change every step, as a trainer's rollouts need).
 */
export function buildOnnxModels(config: VlmConfig, weights: WeightSource | 'inputs'): OnnxModels {
  const cfg = validateConfig(config, 'exportOnnx config');
  const checked = weights === 'inputs' ? 'inputs' : checkWeights(cfg, weights, 'exportOnnx');
  return { imageEncoder: buildImageEncoder(cfg, checked), decoder: buildDecoder(cfg, checked), decoderStep: buildDecoder(cfg, checked, 'step') };
}

/**
 * Writes `image_encoder.onnx`, `decoder_model.onnx` and `config.json` (plus `tokenizer.json`
 * when given) to `outDir`, the layout `OrtPolicy.load` and the `onnx` backbone read.
 */
export async function exportOnnx(
  config: VlmConfig,
  weights: WeightSource,
  outDir: string,
  options: ExportOnnxOptions = {},
): Promise<OnnxExport> {
  const models = buildOnnxModels(config, weights);
  try {
    await mkdir(outDir, { recursive: true });
  } catch (err) {
    throw new MedadError(ErrorCode.Internal, `Cannot create the ONNX export directory ${outDir}`, {
      cause: err,
      fix: 'choose a writable directory',
    });
  }
  const out: OnnxExport = {
    dir: outDir,
    imageEncoder: join(outDir, ONNX_FILES.imageEncoder),
    decoder: join(outDir, ONNX_FILES.decoder),
    config: join(outDir, ONNX_FILES.config),
  };
  await writeFile(out.imageEncoder, models.imageEncoder);
  await writeFile(out.decoder, models.decoder);
  await writeFile(out.config, `${JSON.stringify(validateConfig(config, 'exportOnnx config'), null, 2)}\n`);
  if (options.tokenizer !== undefined) {
    out.tokenizer = join(outDir, ONNX_FILES.tokenizer);
    const text = typeof options.tokenizer === 'string' ? options.tokenizer : JSON.stringify(options.tokenizer);
    await writeFile(out.tokenizer, text);
  }
  return out;
}
