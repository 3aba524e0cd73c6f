import * as tf from '@tensorflow/tfjs';
import { matMul2d } from '../ops/linear.js';
import { gelu, layerNorm } from '../ops/norm.js';
import { attentionBatched, attentionPerSample, type AttentionImpl } from './attention.js';
import type { LayerOps } from './layers.js';

/**
 * The {@link LayerOps} of the tfjs model: tensors and number-array shapes, differentiated by tfjs.
 * The per-head layout is `[B, N, d]` (heads concatenated), which both full-sequence attentions
 * take: `per-sample` (2-D matMuls with head masks, fast on wasm) or `batched` (4-D matMuls).
 */
export class TfOps implements LayerOps<tf.Tensor, number[]> {
  constructor(
    private readonly nHeads: number,
    private readonly impl: AttentionImpl,
    /** The `[H, 1, d]` head masks of {@link attentionPerSample}. */
    private readonly heads: tf.Tensor3D,
  ) {}

  shape(dims: readonly number[]): number[] {
    return [...dims];
  }

  matmul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return matMul2d(a as tf.Tensor2D, b as tf.Tensor2D);
  }

  addBroadcast(x: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.add(x, b);
  }

  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.add(a, b);
  }

  reshape(x: tf.Tensor, shape: number[]): tf.Tensor {
    return tf.reshape(x, shape);
  }

  concat(inputs: readonly tf.Tensor[], axis: number): tf.Tensor {
    return tf.concat([...inputs], axis);
  }

  layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
    return layerNorm(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, eps);
  }

  gelu(x: tf.Tensor): tf.Tensor {
    return gelu(x);
  }

  relu(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }

  /** `[B·N, 3d]` → q, k, v `[B, N, d]` (N = `shape5[1]`). */
  splitQkv(fused: tf.Tensor, shape5: number[]): [tf.Tensor, tf.Tensor, tf.Tensor] {
    const width = fused.shape[1]!;
    return tf.split(fused.reshape([-1, shape5[1]!, width]), 3, 2) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }

  mergeHeads(ctx: tf.Tensor, d: number): tf.Tensor {
    return ctx.reshape([-1, d]);
  }

  /** Attention over `[B, ·, d]`; `bias` `[B, Lq, Lk]` (none: every key visible). The scale is 1/√dHead in both implementations. */
  attention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
    const [B, Lq] = q.shape as [number, number, number];
    const b = (bias ?? tf.zeros([B, Lq, k.shape[1]!])) as tf.Tensor3D;
    const [q3, k3, v3] = [q, k, v] as tf.Tensor3D[];
    return this.impl === 'batched' ? attentionBatched(q3!, k3!, v3!, b, this.nHeads) : attentionPerSample(q3!, k3!, v3!, b, this.heads);
  }

  gridPositions(row: tf.Tensor, col: tf.Tensor, grid: number, d: number): tf.Tensor {
    return row.reshape([grid, 1, d]).add(col.reshape([1, grid, d])).reshape([grid * grid, d]);
  }

  gatherInput(x: tf.Tensor, indices: readonly number[], axis: number): tf.Tensor {
    return tf.gather(x, tf.tensor1d([...indices], 'int32'), axis);
  }
}
