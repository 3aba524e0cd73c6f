import { SeededRng } from '@medad/core';

/** Generation settings both runtimes take (tfjs `generateTokens`, ORT `OrtPolicy.generate`), with the same defaults. */
export interface GenerateOptions {
  /** Completions per prompt (G); they share the prompt's prefill. Default 1. */
  groupSize?: number;
  /** Softmax temperature; default 1; 0 means greedy. */
  temperature?: number;
  /** Nucleus mass; default 1 (no nucleus cut). */
  topP?: number;
  greedy?: boolean;
  /** New tokens per completion at most; default, and capped by, what fits in `maxTextLen` after its prompt. */
  maxNewTokens?: number;
  seed?: number;
  /** Tokens that end a completion and are kept in it; default `</answer>`. */
  stopIds?: readonly number[];
}

/** The random stream of completion `g` of prompt `i`, so a completion does not depend on its batch-mates (and both runtimes draw the same samples). */
export function generationRng(seed: number, promptIndex: number, sampleIndex: number): SeededRng {
  return new SeededRng(`gen:${seed}:${promptIndex}:${sampleIndex}`);
}

/** Settings for choosing the next token from a logits row. */
export interface SamplingOptions {
  /** Softmax temperature; 0 (or `greedy`) means argmax. */
  temperature: number;
  /** Nucleus mass in (0, 1]; 1 disables top-p. */
  topP: number;
  greedy?: boolean;
}

/** Index of the largest value (first on ties), so greedy decoding is deterministic. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** log-softmax of a logits row at temperature `t` (t = 1 gives the policy's own distribution). */
export function logSoftmax(row: ArrayLike<number>, temperature = 1): Float64Array {
  const n = row.length;
  const out = new Float64Array(n);
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, row[i]! / temperature);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(row[i]! / temperature - max);
  const logZ = max + Math.log(sum);
  for (let i = 0; i < n; i++) out[i] = row[i]! / temperature - logZ;
  return out;
}

/**
 * Picks the next token: argmax when greedy or temperature is 0, else a draw from the
 * temperature-scaled softmax restricted to the smallest set of tokens whose mass reaches `topP`.
 * Returns the token and its log-prob under the *unmodified* policy (temperature 1, no top-p),
 * which is what GRPO's importance ratio needs.
 */
export function sampleToken(
  row: ArrayLike<number>,
  options: SamplingOptions,
  rng: SeededRng,
): { token: number; logProb: number } {
  if (options.greedy || options.temperature <= 0) {
    const token = argmax(row);
    return { token, logProb: logProbAt(row, token) };
  }
  if (options.topP >= 1) return sampleFull(row, options.temperature, rng);
  const policyLogProbs = logSoftmax(row, 1);
  const scaled = logSoftmax(row, options.temperature);
  const order = Array.from(scaled.keys()).sort((a, b) => scaled[b]! - scaled[a]! || a - b);
  const topP = Math.min(1, Math.max(options.topP, 1e-9));
  let mass = 0;
  let keep = 0;
  while (keep < order.length) {
    mass += Math.exp(scaled[order[keep]!]!);
    keep++;
    if (mass >= topP) break;
  }
  let u = rng.next() * mass;
  for (let k = 0; k < keep; k++) {
    const token = order[k]!;
    u -= Math.exp(scaled[token]!);
    if (u <= 0) return { token, logProb: policyLogProbs[token]! };
  }
  const token = order[keep - 1]!;
  return { token, logProb: policyLogProbs[token]! };
}

/** log-softmax of `row` (temperature 1) at one index, in two passes and without allocating. */
function logProbAt(row: ArrayLike<number>, index: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return row[index]! - max - Math.log(sum);
}

/** Scratch for {@link sampleFull}'s weights (sampling is synchronous, so one buffer serves every call). */
let weights = new Float64Array(0);

/**
 * A draw from the whole temperature-scaled softmax (no nucleus cut): one pass for the maximum,
 * one for the weights and their mass, one to find the token — in vocabulary order, with no sort
 * or per-call allocation, since a decode step samples a row per running completion. Each weight
 * is computed once (Math.exp was most of a draw's cost).
 */
function sampleFull(row: ArrayLike<number>, temperature: number, rng: SeededRng): { token: number; logProb: number } {
  const n = row.length;
  if (weights.length < n) weights = new Float64Array(n);
  const w = weights;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (row[i]! > max) max = row[i]!;
  let mass = 0;
  for (let i = 0; i < n; i++) mass += w[i] = Math.exp((row[i]! - max) / temperature);
  let u = rng.next() * mass;
  let token = -1;
  for (let i = 0; i < n; i++) {
    if (w[i] === 0) continue;
    token = i;
    u -= w[i]!;
    if (u <= 0) break;
  }
  return { token, logProb: temperature === 1 ? row[token]! - max - Math.log(mass) : logProbAt(row, token) };
}

/**
 * A draw from a probability row (a softmax the model computed, temperature 1, no nucleus cut):
 * one pass for the mass (≈ 1 in float32), one to find the token; no `exp`. The log-prob is that of
 * the row renormalised to its mass. Same distribution as {@link sampleToken} on the logits, up to
 * float32 rounding of the probabilities.
 */
export function sampleFromProbs(probs: Float32Array, rng: SeededRng): { token: number; logProb: number } {
  const n = probs.length;
  let mass = 0;
  for (let i = 0; i < n; i++) mass += probs[i]!;
  let u = rng.next() * mass;
  let token = -1;
  for (let i = 0; i < n; i++) {
    const p = probs[i]!;
    if (p === 0) continue;
    token = i;
    u -= p;
    if (u <= 0) break;
  }
  return { token, logProb: Math.log(probs[token]! / mass) };
}
