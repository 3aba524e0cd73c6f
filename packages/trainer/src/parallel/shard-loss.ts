import * as tf from '@tensorflow/tfjs';
import { patchesTensor, sequenceLogProbs, type EncodedPrompt, type GroundingTerm, type VlmModel } from '@medad/policy';
import { grpoLoss, grpoStatSums, type GrpoLossOptions } from '../grpo/loss.js';

/** One sample of an SFT shard: what the loss needs, plain data (sent to worker threads as is). */
export interface ShardSample {
  prompt: EncodedPrompt;
  target: readonly number[];
  /** Per-target-token loss weights (null = all 1). */
  weights: Float32Array | null;
  /** 1 on answer-letter tokens, else 0. */
  letters: Float32Array;
  /** Grounding targets `[P]` of its lesion box (`groundingTargets`); absent/null = not annotated. */
  ground?: Float32Array | null;
}

/**
 * Denominators of a whole micro-batch, so that shards computed apart (one per thread) sum to the
 * micro-batch's loss and gradient exactly: `tokens` = Σ target lengths, `weight` = Σ token
 * weights, `letters` = Σ answer-letter tokens, `grounded` = samples with grounding targets.
 */
export interface LossDenominators {
  tokens: number;
  weight: number;
  letters: number;
  grounded: number;
}

/** Denominators of a micro-batch (see {@link LossDenominators}). */
export function lossDenominators(batch: readonly ShardSample[]): LossDenominators {
  let tokens = 0;
  let weight = 0;
  let letters = 0;
  let grounded = 0;
  for (const s of batch) {
    if (s.ground) grounded++;
    tokens += s.target.length;
    if (s.weights) for (let j = 0; j < s.target.length; j++) weight += s.weights[j]!;
    else weight += s.target.length;
    for (let j = 0; j < s.target.length; j++) letters += s.letters[j]!;
  }
  return { tokens: Math.max(tokens, 1), weight: Math.max(weight, 1e-12), letters: Math.max(letters, 1), grounded: Math.max(grounded, 1) };
}

/**
 * The grounding term of an SFT shard (ARCHITECTURE.md step 8): weight `λ = grounding` on the mean
 * patch BCE over the micro-batch's annotated samples, i.e. coefficient `λ / (grounded · P)` per
 * annotated sample (0 for the others), and λ itself (the report divides by it). Null when the job
 * has no grounding.
 */
export function groundingTerm(job: ShardJob, P: number): (GroundingTerm & { lambda: number }) | null {
  if (job.kind !== 'sft' || !job.grounding) return null;
  const c = job.grounding / (job.denom.grounded * P);
  return { targets: job.shard.map((s) => s.ground ?? null), coefs: job.shard.map((s) => (s.ground ? c : 0)), lambda: job.grounding };
}

/** `Σ_b coefs[b] · Σ_p BCE(logits[b·P + p], targets[b][p])` in float64 (the ORT engine's report). */
export function groundingBce(logits: Float32Array, term: GroundingTerm, P: number): number {
  let sum = 0;
  term.targets.forEach((t, b) => {
    if (!t || term.coefs[b] === 0) return;
    let row = 0;
    for (let p = 0; p < P; p++) {
      const z = logits[b * P + p]!;
      row += Math.max(z, 0) - t[p]! * z + Math.log1p(Math.exp(-Math.abs(z)));
    }
    sum += term.coefs[b]! * row;
  });
  return sum;
}

/** The grounding term of a shard through tfjs: `Σ_b coefs[b] · Σ_p BCE` on the model's grounding logits. */
function groundingLossTf(model: VlmModel, prompts: readonly EncodedPrompt[], term: GroundingTerm): tf.Scalar {
  const P = model.imageTokens;
  const z = model.groundingLogits(patchesTensor(prompts, P));
  const t = new Float32Array(prompts.length * P);
  term.targets.forEach((row, b) => row && t.set(row, b * P));
  const targets = tf.tensor2d(t, [prompts.length, P]);
  const bce = tf.relu(z).sub(z.mul(targets)).add(tf.softplus(z.abs().neg()));
  return bce.sum(1).mul(tf.tensor1d(term.coefs.slice())).sum() as tf.Scalar;
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
 * `logProbs` `[B, Tc]` are the shard's target log-probs (zero-padded).
 */
export function sftLossFromLogProbs(
  logProbs: tf.Tensor2D,
  shard: readonly ShardSample[],
  denom: LossDenominators,
  out: { nll?: tf.Scalar; letterNll?: tf.Scalar },
  focalGamma = 0,
): tf.Scalar {
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

/** One completion of a Con-GRPO batch: what its loss needs, plain data (sent to worker threads as is). */
export interface GrpoShardRow {
  prompt: EncodedPrompt;
  completion: readonly number[];
  /** Per-token log-probs under the policy that sampled it. */
  oldLogProbs: Float32Array;
  /** Per-token log-probs under the frozen reference (null when β = 0). */
  refLogProbs: Float32Array | null;
  advantage: number;
}

/** Completions and completion tokens of a whole Con-GRPO batch (the aggregation's denominators). */
export function grpoTotals(batch: readonly GrpoShardRow[]): { rows: number; tokens: number } {
  return { rows: batch.length, tokens: batch.reduce((a, r) => a + r.completion.length, 0) };
}

/**
 * What one thread computes for one shard of a batch: the SFT loss or the Con-GRPO loss, each
 * normalised by the whole batch's denominators so the shards' gradients add up to the batch's.
 */
export type ShardJob =
  | {
      kind: 'sft';
      shard: ShardSample[];
      denom: LossDenominators;
      focalGamma: number;
      /** Weight λ of the grounding term ({@link groundingTerm}); 0/absent = none. */
      grounding?: number;
    }
  | { kind: 'grpo'; shard: GrpoShardRow[]; options: GrpoLossOptions & { totals: { rows: number; tokens: number } } };

/** The same job on another slice of its batch. */
export function withShard(job: ShardJob, part: readonly unknown[]): ShardJob {
  return { ...job, shard: part } as ShardJob;
}

/**
 * A shard's loss (to differentiate) and its report, a vector whose shards add up: SFT
 * `[nll share, answer-letter nll share, grounding BCE share]`, Con-GRPO `[loss share, Σ KL,
 * Σ clipped, Σ ratio, tokens]`. Call inside a gradient scope; the report is kept (the caller
 * disposes it).
 */
export function shardObjective(model: VlmModel, job: ShardJob): { loss: tf.Scalar; report: tf.Tensor1D } {
  const { prompts, completions } = jobSequences(job);
  const { logProbs, mask } = sequenceLogProbs(model, prompts, completions);
  const r = objectiveFromLogProbs(job, logProbs, mask);
  const term = groundingTerm(job, model.imageTokens);
  if (!term) return r;
  const ground = groundingLossTf(model, prompts, term);
  const report = tf.keep(r.report.add(tf.tensor1d([0, 0, 1]).mul(ground.div(term.lambda))) as tf.Tensor1D);
  r.report.dispose();
  return { loss: r.loss.add(ground) as tf.Scalar, report };
}

/** The prompts and the token sequences a job scores (SFT targets or Con-GRPO completions). */
export function jobSequences(job: ShardJob): { prompts: EncodedPrompt[]; completions: (readonly number[])[] } {
  if (job.kind === 'sft') return { prompts: job.shard.map((s) => s.prompt), completions: job.shard.map((s) => s.target) };
  return { prompts: job.shard.map((r) => r.prompt), completions: job.shard.map((r) => r.completion) };
}

/**
 * Whether a job's loss is linear in the log-probs (its gradient with respect to them is a
 * constant): SFT without focal weights. Otherwise the coefficients need the log-probs first.
 */
export function linearInLogProbs(job: ShardJob): boolean {
  return job.kind === 'sft' && job.focalGamma === 0;
}

/**
 * {@link shardObjective} from the job's per-token log-probs `[B, Tc]` (zero where `mask` is 0):
 * the one place both gradient engines (tfjs and ONNX Runtime) define the SFT and Con-GRPO losses.
 */
export function objectiveFromLogProbs(job: ShardJob, logProbs: tf.Tensor2D, mask: tf.Tensor2D): { loss: tf.Scalar; report: tf.Tensor1D } {
  if (job.kind === 'sft') {
    const out: { nll?: tf.Scalar; letterNll?: tf.Scalar } = {};
    const loss = sftLossFromLogProbs(logProbs, job.shard, job.denom, out, job.focalGamma);
    const report = tf.keep(tf.stack([out.nll!, out.letterNll!, tf.scalar(0)]) as tf.Tensor1D);
    tf.dispose([out.nll!, out.letterNll!]);
    return { loss, report };
  }
  const rows = job.shard;
  const Tc = logProbs.shape[1];
  const inputs = {
    logProbs,
    mask,
    oldLogProbs: rowsTensor(rows.map((r) => r.oldLogProbs), Tc),
    refLogProbs: rows.every((r) => r.refLogProbs) ? rowsTensor(rows.map((r) => r.refLogProbs!), Tc) : undefined,
    advantages: tf.tensor1d(rows.map((r) => r.advantage)),
  };
  const loss = grpoLoss(inputs, job.options);
  const report = tf.keep(tf.concat([loss.reshape([1]), grpoStatSums(inputs, job.options)]) as tf.Tensor1D);
  return { loss, report };
}
