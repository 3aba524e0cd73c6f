import * as tf from '@tensorflow/tfjs';

/** How full-sequence attention is computed; both give the same values (tested). */
export type AttentionImpl = 'per-sample' | 'batched';

/** Value of a masked attention score before softmax (ARCHITECTURE.md). */
export const MASKED_SCORE = -1e9;

/** `[H, 1, d]` 0/1 mask selecting each head's columns of the concatenated head dimension. */
export function headMasks(nHeads: number, dModel: number): tf.Tensor3D {
  const dh = dModel / nHeads;
  const m = new Float32Array(nHeads * dModel);
  for (let h = 0; h < nHeads; h++) for (let j = h * dh; j < (h + 1) * dh; j++) m[h * dModel + j] = 1;
  return tf.tensor3d(m, [nHeads, 1, dModel]);
}

/** Sample `b` of a `[B, ...]` tensor (a contiguous slice: cheap with the patched wasm kernel). */
function sampleOf(x: tf.Tensor, b: number): tf.Tensor {
  const begin = x.shape.map((_, i) => (i === 0 ? b : 0));
  const size = x.shape.map((n, i) => (i === 0 ? 1 : n));
  return tf.slice(x, begin, size).reshape(x.shape.slice(1));
}

/**
 * Multi-head attention with plain 2-D matMuls, one sample at a time, as one op with a hand-written
 * backward. Each head's queries are the `[Lq, d]` queries times the head's 0/1 column mask, stacked
 * to `[H·Lq, d]`, so all heads' scores are one `[H·Lq, d]·[d, Lk]` product, and the output is
 * `[Lq, H·Lk]·[H·Lk, d]` with masked values. On wasm this avoids batched and transposed matMul
 * kernels (slow); DESIGN.md §5 measured ~1.5×.
 * q `[B, Lq, d]`, k/v `[B, Lk, d]`, bias `[B, Lq, Lk]` (0 or {@link MASKED_SCORE}).
 */
export function attentionPerSample(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, bias: tf.Tensor3D, heads: tf.Tensor3D): tf.Tensor3D {
  const [B, Lq, d] = q.shape;
  const Lk = k.shape[1];
  const H = heads.shape[0];
  const scale = 1 / Math.sqrt(d / H);
  const op = tf.customGrad((qi: tf.Tensor | tf.GradSaveFunc, ki: tf.Tensor | tf.GradSaveFunc, vi: tf.Tensor | tf.GradSaveFunc, save: tf.Tensor | tf.GradSaveFunc) => {
    const outs: tf.Tensor[] = [];
    const probsAll: tf.Tensor[] = [];
    for (let b = 0; b < B; b++) {
      const qb = sampleOf(qi as tf.Tensor, b);
      const kb = sampleOf(ki as tf.Tensor, b) as tf.Tensor2D;
      const vb = sampleOf(vi as tf.Tensor, b);
      const qStack = qb.mul(scale).expandDims(0).mul(heads).reshape([H * Lq, d]) as tf.Tensor2D;
      const probs = tf.softmax(tf.matMul(qStack, tf.transpose(kb)).reshape([H, Lq, Lk]).add(sampleOf(bias, b)));
      const probsWide = tf.transpose(probs, [1, 0, 2]).reshape([Lq, H * Lk]) as tf.Tensor2D;
      const vStack = vb.expandDims(0).mul(heads).reshape([H * Lk, d]) as tf.Tensor2D;
      outs.push(tf.matMul(probsWide, vStack));
      probsAll.push(probs);
    }
    const probs = tf.stack(probsAll);
    (save as tf.GradSaveFunc)([qi as tf.Tensor, ki as tf.Tensor, vi as tf.Tensor, probs]);
    return {
      value: tf.stack(outs),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sp] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor4D];
        const dq: tf.Tensor[] = [];
        const dk: tf.Tensor[] = [];
        const dv: tf.Tensor[] = [];
        for (let b = 0; b < B; b++) {
          const dO = sampleOf(dy, b) as tf.Tensor2D;
          const pb = sampleOf(sp, b);
          const probsWide = tf.transpose(pb, [1, 0, 2]).reshape([Lq, H * Lk]) as tf.Tensor2D;
          const vStack = sampleOf(sv, b).expandDims(0).mul(heads).reshape([H * Lk, d]) as tf.Tensor2D;
          // dV: Σ_h mask_h ⊙ (P_hᵀ·dO)
          const dvStack = tf.matMul(tf.transpose(probsWide), dO).reshape([H, Lk, d]);
          dv.push(dvStack.mul(heads).sum(0));
          // dP, then softmax backward: dS = P ⊙ (dP − Σ dP⊙P)
          const dP = tf.transpose(tf.matMul(dO, tf.transpose(vStack)).reshape([Lq, H, Lk]), [1, 0, 2]);
          const dS = pb.mul(dP.sub(dP.mul(pb).sum(-1, true))).reshape([H * Lq, Lk]) as tf.Tensor2D;
          const kb = sampleOf(sk, b) as tf.Tensor2D;
          dq.push(tf.matMul(dS, kb).reshape([H, Lq, d]).mul(heads).sum(0).mul(scale));
          const qStack = sampleOf(sq, b).mul(scale).expandDims(0).mul(heads).reshape([H * Lq, d]) as tf.Tensor2D;
          dk.push(tf.matMul(tf.transpose(dS), qStack));
        }
        return [tf.stack(dq), tf.stack(dk), tf.stack(dv)];
      },
    };
  }) as unknown as (q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D) => tf.Tensor3D;
  return op(q, k, v);
}

/** The same attention with 4-D batched matMuls (faster where batched kernels are, e.g. tfjs-node). */
export function attentionBatched(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, bias: tf.Tensor3D, nHeads: number): tf.Tensor3D {
  const [B, Lq, d] = q.shape;
  const Lk = k.shape[1];
  const dh = d / nHeads;
  const split = (x: tf.Tensor3D, L: number): tf.Tensor4D => tf.transpose(x.reshape([B, L, nHeads, dh]), [0, 2, 1, 3]) as tf.Tensor4D;
  const scores = tf.matMul(split(q.mul(1 / Math.sqrt(dh)) as tf.Tensor3D, Lq), split(k, Lk), false, true).add(bias.expandDims(1));
  const out = tf.matMul(tf.softmax(scores), split(v, Lk));
  return tf.transpose(out, [0, 2, 1, 3]).reshape([B, Lq, d]);
}

/**
 * One query per row against a cache, with elementwise products and reductions only (no matMul,
 * no transpose): q `[N, d]`, k/v `[N, S, d]`, bias `[N, S]` → `[N, d]`. Used by KV-cache decoding.
 */
export function attentionSingleQuery(q: tf.Tensor2D, k: tf.Tensor3D, v: tf.Tensor3D, bias: tf.Tensor2D, nHeads: number): tf.Tensor2D {
  const [N, S, d] = k.shape;
  const dh = d / nHeads;
  const scores = k.mul(q.mul(1 / Math.sqrt(dh)).expandDims(1)).reshape([N, S, nHeads, dh]).sum(-1).add(bias.expandDims(2));
  const shifted = scores.sub(scores.max(1, true));
  const e = shifted.exp();
  const probs = e.div(e.sum(1, true));
  return probs.expandDims(3).mul(v.reshape([N, S, nHeads, dh])).sum(1).reshape([N, d]);
}
