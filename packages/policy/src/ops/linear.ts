import * as tf from '@tensorflow/tfjs';

/**
 * `a · b` for 2-D tensors with a gradient built from explicit transposes and plain matMuls
 * (dA = dY·bᵀ, dB = aᵀ·dY): tfjs's own matMul gradient uses transpose flags, which run
 * ~15x slower on the wasm backend.
 */
export const matMul2d: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  (a: tf.Tensor | tf.GradSaveFunc, b: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const x = a as tf.Tensor2D;
    const w = b as tf.Tensor2D;
    (save as tf.GradSaveFunc)([x, w]);
    return {
      value: tf.matMul(x, w),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy as tf.Tensor2D, tf.transpose(sw)), tf.matMul(tf.transpose(sx), dy as tf.Tensor2D)];
      },
    };
  },
) as unknown as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** A linear layer `x·W + b` over the last axis of any-rank `x`, via {@link matMul2d}. */
export function linear(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1]!;
  const outDim = w.shape[1];
  const flat = x.rank === 2 ? (x as tf.Tensor2D) : x.reshape([-1, inDim]) as tf.Tensor2D;
  let y: tf.Tensor = matMul2d(flat, w);
  if (b) y = y.add(b);
  return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), outDim]);
}
