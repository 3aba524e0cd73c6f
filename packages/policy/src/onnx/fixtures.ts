import onnxProto from 'onnx-proto';
import { SeededRng } from '@medad/core';
import { presetConfig, type VlmConfig } from '../vlm/config.js';
import type { OrtPolicy } from './ort-policy.js';
import { referenceForward } from './reference.js';

/** The `tiny` preset with a small vocabulary, used by the ONNX tests. */
export function tinyConfig(overrides: Partial<VlmConfig> = {}): VlmConfig {
  return presetConfig('tiny', 40, { maxTextLen: 32, ...overrides });
}

/** `n` seeded normalised images `[n, 3, S, S]` with values in [-1, 1). */
export function randomPixels(cfg: VlmConfig, n: number, seed: number): Float32Array {
  const rng = new SeededRng(seed);
  const out = new Float32Array(n * 3 * cfg.imageSize * cfg.imageSize);
  for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-1, 1);
  return out;
}

/** `n` seeded token ids in [0, vocab). */
export function randomTokens(cfg: VlmConfig, n: number, rng: SeededRng): number[] {
  return Array.from({ length: n }, () => rng.int(cfg.vocabSize));
}

/** Largest absolute difference between two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Image `i` of a batch of normalised NCHW images. */
export function imageAt(cfg: VlmConfig, pixels: Float32Array, i: number): Float32Array {
  const n = 3 * cfg.imageSize * cfg.imageSize;
  return pixels.subarray(i * n, (i + 1) * n);
}

/** Largest |ORT − Float64 reference| over the logits of each prompt + completion row. */
export async function ortVsReference(
  policy: OrtPolicy,
  cfg: VlmConfig,
  weights: ReadonlyMap<string, Float32Array>,
  rows: { prompts: number[][]; completions: number[][]; pixels: Float32Array },
): Promise<number> {
  const logits = await policy.sequenceLogits(rows);
  let worst = 0;
  rows.prompts.forEach((p, b) => {
    const ref = referenceForward(cfg, weights, imageAt(cfg, rows.pixels, b), [...p, ...rows.completions[b]!]);
    worst = Math.max(worst, maxAbsDiff(logits[b]!, ref));
  });
  return worst;
}

/** The decoder as exported before it had the `new.*` outputs (only `present.*` and `logits`). */
export function decoderWithoutNewKv(decoder: Uint8Array): Uint8Array {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(decoder);
  model.graph!.output = model.graph!.output!.filter((o) => !o.name!.startsWith('new.'));
  model.graph!.node = model.graph!.node!.filter((n) => !n.output!.some((o) => o.startsWith('new.')));
  return onnx.ModelProto.encode(model).finish();
}
