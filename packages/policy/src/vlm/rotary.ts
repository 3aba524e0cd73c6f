import * as tf from '@tensorflow/tfjs';
import { headDim, type VlmConfig } from './config.js';

/** Base of the rotary frequencies (ARCHITECTURE.md): pair `i` of `r` rotated dims turns at `base^(−2i/r)` rad per position. */
export const ROTARY_BASE = 10000;

/**
 * Rotary position tables for text positions `0..maxTextLen−1`, over the concatenated head
 * dimension `[maxTextLen, dModel]`: in each head the first `rotaryDims` columns are rotated in
 * GPT-NeoX "rotate-half" pairs (`j`, `j + r/2`) by angle `t·base^(−2j/r)`; the other columns have
 * cos 1 and sin 0 (unrotated). `x' = x ⊙ cos + rotateHalf(x) ⊙ sin`. All zeros-sin when
 * `rotaryDims` is 0. Plain arrays, shared by the tfjs model, the ONNX exporter and the reference.
 */
export function rotaryTables(cfg: VlmConfig): { cos: Float32Array; sin: Float32Array } {
  const d = cfg.dModel;
  const dh = headDim(cfg);
  const r = cfg.rotaryDims ?? 0;
  const n = cfg.maxTextLen;
  const cos = new Float32Array(n * d).fill(1);
  const sin = new Float32Array(n * d);
  for (let t = 0; t < n; t++)
    for (let h = 0; h < cfg.nHeads; h++)
      for (let j = 0; j < r / 2; j++) {
        const angle = t * ROTARY_BASE ** ((-2 * j) / r);
        const a = t * d + h * dh + j;
        const b = a + r / 2;
        cos[a] = cos[b] = Math.cos(angle);
        sin[a] = -Math.sin(angle); // rotateHalf puts x[b] at a; the pair's rotation needs −sin there
        sin[b] = Math.sin(angle);
      }
  return { cos, sin };
}

/**
 * The `[dModel, dModel]` 0/1 permutation with `(x·R)[a] = x[b]` and `(x·R)[b] = x[a]` for every
 * rotated pair (zero columns elsewhere): with the signed sin table of {@link rotaryTables},
 * `x·R ⊙ sin` is the "rotate half" term.
 */
export function rotaryPermutation(cfg: VlmConfig): Float32Array {
  const d = cfg.dModel;
  const dh = headDim(cfg);
  const r = cfg.rotaryDims ?? 0;
  const m = new Float32Array(d * d);
  for (let h = 0; h < cfg.nHeads; h++)
    for (let j = 0; j < r / 2; j++) {
      const a = h * dh + j;
      const b = a + r / 2;
      m[b * d + a] = 1;
      m[a * d + b] = 1;
    }
  return m;
}

/** Rotates rows `[N, d]` at text positions `pos` (plain arrays; the reference and tests use it). */
export function applyRotaryRows(x: Float64Array | Float32Array, positions: readonly number[], cfg: VlmConfig, tables = rotaryTables(cfg)): void {
  const d = cfg.dModel;
  const dh = headDim(cfg);
  const r = cfg.rotaryDims ?? 0;
  if (!r) return;
  positions.forEach((t, row) => {
    const o = row * d;
    for (let h = 0; h < cfg.nHeads; h++)
      for (let j = 0; j < r / 2; j++) {
        const a = o + h * dh + j;
        const b = a + r / 2;
        const ta = t * d + h * dh + j;
        const xa = x[a]!;
        const xb = x[b]!;
        x[a] = xa * tables.cos[ta]! + xb * tables.sin[ta]!;
        x[b] = xb * tables.cos[ta + r / 2]! + xa * tables.sin[ta + r / 2]!;
      }
  });
}

/** Cos/sin rows `[N, dModel]` for the text positions of `N` tokens (see {@link Rotary.angles}). */
export interface RotaryAngles {
  cos: tf.Tensor2D;
  sin: tf.Tensor2D;
}

/** The tfjs form: the tables (plain arrays) and the permutation op, kept by the model while it lives. */
export class Rotary {
  private readonly tables: { cos: Float32Array; sin: Float32Array };
  private readonly perm: tf.Tensor2D;
  private readonly op: (x: tf.Tensor2D) => tf.Tensor2D;

  constructor(readonly config: VlmConfig) {
    const d = config.dModel;
    this.tables = rotaryTables(config);
    // A symmetric permutation: its own transpose, so the gradient is dY·R as well.
    const perm = tf.keep(tf.tensor2d(rotaryPermutation(config), [d, d]));
    this.perm = perm;
    this.op = tf.customGrad((x: tf.Tensor | tf.GradSaveFunc) => ({
      value: tf.matMul(x as tf.Tensor2D, perm),
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, perm),
    })) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;
  }

  /**
   * Cos/sin rows for text `positions` (row-major over the tokens), built in JS: on wasm a row
   * gather of a `[1700, 96]` table costs ~7 ms, building the same rows here ~0.5 ms.
   */
  angles(positions: ArrayLike<number>): RotaryAngles {
    const d = this.config.dModel;
    const n = positions.length;
    const cos = new Float32Array(n * d);
    const sin = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const t = positions[i]!;
      cos.set(this.tables.cos.subarray(t * d, (t + 1) * d), i * d);
      sin.set(this.tables.sin.subarray(t * d, (t + 1) * d), i * d);
    }
    return { cos: tf.tensor2d(cos, [n, d]), sin: tf.tensor2d(sin, [n, d]) };
  }

  /** `x` `[..., d]` rotated by `angles` (one row per token of `x`, from {@link angles}). */
  apply(x: tf.Tensor, angles: RotaryAngles): tf.Tensor {
    const flat = x.reshape([-1, this.config.dModel]) as tf.Tensor2D;
    return flat.mul(angles.cos).add(this.op(flat).mul(angles.sin)).reshape(x.shape);
  }

  dispose(): void {
    this.perm.dispose();
  }
}
