import { DEFAULT_DECODE_THREADS, definePlugin, z, type Backbone, pathField } from '@medad/core';
// onnxruntime-node is loaded when a backbone is created, not when the plugin is discovered.
export type { OnnxBackbone, OnnxBackboneOptions } from './onnx-backbone.js';

/** Config of the `onnx` backbone. */
export const onnxBackboneConfig = z.object({
  /** Directory written by `exportOnnx`: image_encoder.onnx, decoder_model.onnx, config.json, tokenizer.json. */
  dir: pathField(z.string().min(1)),
  /** ORT threads inside one op (default `DEFAULT_DECODE_THREADS`, 1: decoding the small model is faster on 1 than on 2). */
  intraOpNumThreads: z.number().int().positive().default(DEFAULT_DECODE_THREADS),
  /** `auto` uses CUDA when onnxruntime-node can load it, else CPU. */
  executionProvider: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /** New-token budget when a run does not set one (default: what fits in maxTextLen). */
  maxTokens: z.number().int().positive().optional(),
  /** Rows per forward-only batch when scoring completions. */
  batchSize: z.number().int().positive().default(16),
});

/** A backbone that generates and scores with an exported ONNX model on onnxruntime-node (KV cache; CUDA when present). */
export const onnxBackbonePlugin = definePlugin({
  kind: 'backbone',
  id: 'onnx',
  version: '0.1.0',
  description: 'exported ONNX image encoder + decoder on onnxruntime-node (KV cache, CUDA when available, else CPU)',
  configSchema: onnxBackboneConfig,
  create: async (_deps, config): Promise<Backbone> => (await import('./onnx-backbone.js')).OnnxBackbone.open(config),
});
