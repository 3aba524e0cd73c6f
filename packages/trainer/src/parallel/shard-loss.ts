import * as tf from '@tensorflow/tfjs';
import { sequenceLogProbs, type EncodedPrompt, type VlmModel } from '@medad/policy';

/** One sample of an SFT shard: what the loss needs, plain data (sent to worker threads as is). */
export interface ShardSample {
  prompt: EncodedPrompt;
  target: readonly number[];
  /** Per-target-token loss weights (null = all 1). */
  weights: Float32Array | null;
  /** 1 on answer-letter tokens, else 0. */
  letters: Float32Array;
}

/**
 * Denominators of a whole micro-batch, so that shards computed apart (one per thread) sum to the
 * micro-batch's loss and gradient exactly: `tokens` = Σ target lengths, `weight` = Σ token
 * weights, `letters` = Σ answer-letter tokens.
 */
export interface LossDenominators {
  tokens: number;
  weight: number;
  letters: number;
}

/** Denominators of a micro-batch (see {@link LossDenominators}). */
export function lossDenominators(batch: readonly ShardSample[]): LossDenominators {
  let tokens = 0;
  let weight = 0;
  let letters = 0;
  for (const s of batch) {
    tokens += s.target.length;
    if (s.weights) for (let j = 0; j < s.target.length; j++) weight += s.weights[j]!;
    else weight += s.target.length;
    for (let j = 0; j < s.target.length; j++) letters += s.letters[j]!;
  }
  return { tokens: Math.max(tokens, 1), weight: Math.max(weight, 1e-12), letters: Math.max(letters, 1) };
}

/** Per-sample rows of a shard as a `[B, Tc]` tensor (rows shorter than `Tc` are zero-padded). */
function rowsTensor(rows: readonly Float32Array[], Tc: number): tf.Tensor2D {
  const out = new Float32Array(rows.length * Tc);
  rows.forEach((row, b) => out.set(row.subarray(0, Tc), b * Tc));
  return tf.tensor2d(out, [rows.length, Tc]);
}

/**
 * The SFT objective of one shard of a micro-batch: token cross-entropy on the target (prompt and
 * image masked), each token weighted by its weight, divided by the whole micro-batch's total weight
 * (`denom`), so the shards of a micro-batch add up to its mean loss. `out` receives (kept) the
 * shard's share of the unweighted mean NLL and of the answer-letter mean NLL, for the metrics row.
 */
export function shardLoss(
  model: VlmModel,
  shard: readonly ShardSample[],
  denom: LossDenominators,
  out: { nll?: tf.Scalar; letterNll?: tf.Scalar },
  focalGamma = 0,
): tf.Scalar {
  const { logProbs } = sequenceLogProbs(
    model,
    shard.map((s) => s.prompt),
    shard.map((s) => s.target),
  );
  const Tc = logProbs.shape[1];
  const nllSum = logProbs.sum().neg();
  out.nll = tf.keep(nllSum.div(denom.tokens) as tf.Scalar);
  const lm = rowsTensor(shard.map((s) => s.letters), Tc);
  out.letterNll = tf.keep(logProbs.mul(lm).sum().neg().div(denom.letters) as tf.Scalar);
  // Per-token weights: answer weights (when any sample has them) times focal weights (1 − p)^γ,
  // the latter constants (no gradient through them), so learned template tokens fade.
  let w: tf.Tensor | null = shard.some((s) => s.weights) ? rowsTensor(shard.map((s) => s.weights ?? Float32Array.from(s.target, () => 1)), Tc) : null;
  if (focalGamma > 0) {
    const focal = tf.tensor2d(Float32Array.from(logProbs.dataSync(), (v) => (1 - Math.exp(v)) ** focalGamma), logProbs.shape);
    w = w ? w.mul(focal) : focal;
  }
  return (w ? logProbs.mul(w).sum().neg() : nllSum).div(denom.weight) as tf.Scalar;
}
