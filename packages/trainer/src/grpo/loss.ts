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
  if (o.aggregation === 'dapo') return masked.sum().div(mask.sum().maximum(1));
  if (o.aggregation === 'dr_grpo') return masked.sum().div(mask.shape[0] * o.maxCompletionLength);
  const perSeq = masked.sum(1).div(mask.sum(1).maximum(1));
  return perSeq.mean();
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

/** Diagnostics of one GRPO update (no gradient): mean KL, clip fraction, mean ratio. */
export function grpoStats(x: GrpoLossInputs, o: GrpoLossOptions): { kl: number; clipFraction: number; meanRatio: number } {
  const [kl, clip, ratio] = tf.tidy(() => {
    const n = x.mask.sum().maximum(1);
    const r = x.logProbs.sub(x.oldLogProbs).exp();
    const adv = x.advantages.expandDims(1);
    const low = r.less(1 - o.epsilon).logicalAnd(adv.less(0));
    const high = r.greater(1 + (o.epsilonHigh ?? o.epsilon)).logicalAnd(adv.greater(0));
    const clipped = low.logicalOr(high).cast('float32').mul(x.mask).sum().div(n);
    const kl = x.refLogProbs ? k3Kl(x.logProbs, x.refLogProbs).mul(x.mask).sum().div(n) : tf.scalar(0);
    return [kl, clipped, r.mul(x.mask).sum().div(n)];
  });
  const out = { kl: kl.dataSync()[0]!, clipFraction: clip.dataSync()[0]!, meanRatio: ratio.dataSync()[0]! };
  tf.dispose([kl, clip, ratio]);
  return out;
}
