import * as tf from '@tensorflow/tfjs';

/** How per-token objectives are averaged into the loss. */
export type LossAggregation = 'grpo' | 'dr_grpo' | 'dapo';

/** Settings of the clipped-ratio GRPO objective. */
export interface GrpoLossOptions {
  /** Lower clip ε (ratio ≥ 1 − ε). */
  epsilon: number;
  /** Upper clip (ratio ≤ 1 + εhigh); defaults to ε. DAPO's clip-higher uses a larger value. */
  epsilonHigh?: number;
  /** KL coefficient β (k3 estimator against the frozen reference). */
  beta: number;
  aggregation: LossAggregation;
  /** Completion token budget, the constant denominator of Dr. GRPO. */
  maxCompletionLength: number;
  /**
   * Completions and completion tokens of the whole batch, when this call sees one shard of it
   * (data parallelism): the aggregation divides by these, so the shards' losses add up to the
   * batch's. Omitted = this call's own counts.
   */
  totals?: { rows: number; tokens: number };
}

/** Inputs, all `[B, T]` over completion tokens except `advantages` `[B]`. */
export interface GrpoLossInputs {
  /** Current policy log-probs (differentiable). */
  logProbs: tf.Tensor2D;
  /** Log-probs of the policy that sampled the completions (no gradient). */
  oldLogProbs: tf.Tensor2D;
  /** Log-probs under the frozen reference (no gradient); ignored when β = 0. */
  refLogProbs?: tf.Tensor2D;
  /** 1 for completion tokens, 0 for padding. */
  mask: tf.Tensor2D;
  advantages: tf.Tensor1D;
}

/** The k3 KL estimator per token: exp(ref − logp) − (ref − logp) − 1 (always ≥ 0). */
export function k3Kl(logProbs: tf.Tensor, refLogProbs: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const d = refLogProbs.sub(logProbs);
    return d.exp().sub(d).sub(1);
  });
}

function aggregate(perToken: tf.Tensor2D, mask: tf.Tensor2D, o: GrpoLossOptions): tf.Scalar {
  const masked = perToken.mul(mask);
  const rows = o.totals?.rows ?? mask.shape[0];
  if (o.aggregation === 'dapo') return masked.sum().div(o.totals ? Math.max(1, o.totals.tokens) : mask.sum().maximum(1));
  if (o.aggregation === 'dr_grpo') return masked.sum().div(rows * o.maxCompletionLength);
  const perSeq = masked.sum(1).div(mask.sum(1).maximum(1));
  return perSeq.sum().div(Math.max(1, rows));
}

/**
 * The Con-GRPO policy loss (paper eqs. 2–3 with the k3 KL term): the negated, aggregated
 * `min(r·A, clip(r, 1−ε, 1+εhigh)·A) − β·KL` over completion tokens.
 */
export function grpoLoss(x: GrpoLossInputs, o: GrpoLossOptions): tf.Scalar {
  return tf.tidy(() => {
    const adv = x.advantages.expandDims(1);
    const ratio = x.logProbs.sub(x.oldLogProbs).exp();
    const clipped = ratio.clipByValue(1 - o.epsilon, 1 + (o.epsilonHigh ?? o.epsilon));
    let objective = tf.minimum(ratio.mul(adv), clipped.mul(adv));
    if (o.beta > 0 && x.refLogProbs) objective = objective.sub(k3Kl(x.logProbs, x.refLogProbs).mul(o.beta));
    return aggregate(objective as tf.Tensor2D, x.mask, o).neg() as tf.Scalar;
  });
}

/**
 * Sums behind the diagnostics, `[Σ KL, Σ clipped, Σ ratio, tokens]` over completion tokens (not
 * part of the loss, so no gradient flows through them): shards of a batch add up, and {@link statsFromSums} turns them into means.
 */
export function grpoStatSums(x: GrpoLossInputs, o: GrpoLossOptions): tf.Tensor1D {
  return tf.tidy(() => {
    const lp = x.logProbs;
    const r = lp.sub(x.oldLogProbs).exp();
    const adv = x.advantages.expandDims(1);
    const low = r.less(1 - o.epsilon).logicalAnd(adv.less(0));
    const high = r.greater(1 + (o.epsilonHigh ?? o.epsilon)).logicalAnd(adv.greater(0));
    const clipped = low.logicalOr(high).cast('float32').mul(x.mask).sum();
    const kl = x.refLogProbs ? k3Kl(lp, x.refLogProbs).mul(x.mask).sum() : tf.scalar(0);
    return tf.stack([kl, clipped, r.mul(x.mask).sum(), x.mask.sum()]) as tf.Tensor1D;
  });
}

/** Mean KL, clip fraction and mean ratio from {@link grpoStatSums}' `[Σ KL, Σ clipped, Σ ratio, tokens]`. */
export function statsFromSums(sums: ArrayLike<number>): { kl: number; clipFraction: number; meanRatio: number } {
  const n = Math.max(1, sums[3]!);
  return { kl: sums[0]! / n, clipFraction: sums[1]! / n, meanRatio: sums[3]! > 0 ? sums[2]! / n : 1 };
}

/** Diagnostics of one GRPO update (no gradient): mean KL, clip fraction, mean ratio. */
export function grpoStats(x: GrpoLossInputs, o: GrpoLossOptions): { kl: number; clipFraction: number; meanRatio: number } {
  const sums = grpoStatSums(x, o);
  const out = statsFromSums(sums.dataSync());
  sums.dispose();
  return out;
}
