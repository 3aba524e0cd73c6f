import * as tf from '@tensorflow/tfjs';

/** LayerNorm over the last axis: `(x − mean)/√(var + eps)·g + b`. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): tf.Tensor {
  const mean = x.mean(-1, true);
  const centered = x.sub(mean);
  const variance = centered.square().mean(-1, true);
  return centered.mul(variance.add(eps).rsqrt()).mul(g).add(b);
}

const GELU_2C = 2 * Math.sqrt(2 / Math.PI);

/**
 * GELU, tanh approximation `0.5·x·(1 + tanh(u))`, computed as the identical `x·σ(2u)`
 * (u = √(2/π)·(x + 0.044715·x³)): wasm's sigmoid kernel is ~18× faster than its tanh.
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  const u2 = x.add(x.mul(x).mul(x).mul(0.044715)).mul(GELU_2C);
  return x.mul(tf.sigmoid(u2));
}
