import { SeededRng } from '@medad/core';
import type { SparseVector } from './features.js';

/** One training example: the features of each option and the target distribution over options (one-hot when one option is concluded). */
export interface Example {
  features: SparseVector[];
  target: readonly number[];
}

function argmaxOf(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}

/** s_i = w · φ_i for every option. */
export function optionScores(weights: Float32Array, features: readonly SparseVector[]): number[] {
  const out = new Array<number>(features.length);
  for (let i = 0; i < features.length; i++) {
    const { index, value } = features[i]!;
    let s = 0;
    for (let k = 0; k < index.length; k++) s += weights[index[k]!]! * value[k]!;
    out[i] = s;
  }
  return out;
}

/** Softmax of scores (max-shifted, so large scores do not overflow). */
export function softmax(scores: readonly number[]): number[] {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  let z = 0;
  const e = new Array<number>(scores.length);
  for (let i = 0; i < scores.length; i++) z += e[i] = Math.exp(scores[i]! - max);
  for (let i = 0; i < e.length; i++) e[i]! /= z;
  return e;
}

const MIN_LOSS_GAIN = 1e-3;

/** Hyper-parameters of {@link fitWeights}. */
export interface FitSettings {
  /** Passes over the training examples at most. */
  epochs: number;
  /** Stop after this many epochs without a better validation score. */
  patience: number;
  batchSize: number;
  /** Adam step size. */
  lr: number;
  /** L2 penalty on the weights a batch touches. */
  l2: number;
  /** Seeds the order of the examples in each epoch. */
  seed: number;
}

/** Defaults of {@link FitSettings}. */
export const DEFAULT_FIT: FitSettings = Object.freeze({ epochs: 20, patience: 4, batchSize: 32, lr: 0.05, l2: 1e-4, seed: 0 });

/** What happened in one epoch. */
export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  /** Validation score (higher is better) and loss, from the caller's validator. */
  valScore: number;
  valLoss: number;
}

/** Result of {@link fitWeights}: the weights of the best validation epoch. */
export interface FitResult {
  weights: Float32Array;
  bestEpoch: number;
  history: EpochRecord[];
}

function crossEntropy(p: readonly number[], target: readonly number[]): number {
  let loss = 0;
  for (let i = 0; i < p.length; i++) if (target[i]! > 0) loss -= target[i]! * Math.log(Math.max(p[i]!, 1e-12));
  return loss;
}

/** Mean cross-entropy and accuracy (argmax) of weights on examples. */
export function lossAndAccuracy(weights: Float32Array, examples: readonly Example[]): { loss: number; accuracy: number } {
  let loss = 0;
  let right = 0;
  for (const ex of examples) {
    const p = softmax(optionScores(weights, ex.features));
    loss += crossEntropy(p, ex.target);
    if (argmaxOf(p) === argmaxOf(ex.target)) right++;
  }
  return { loss: loss / Math.max(1, examples.length), accuracy: right / Math.max(1, examples.length) };
}

/**
 * Trains the per-option linear scorer with softmax cross-entropy and lazy Adam (only the weights a
 * batch touches move), keeping the weights of the epoch with the best validation score
 * (ties: a validation loss lower by more than 0.001) and stopping early after `patience` epochs without one.
 */
export function fitWeights(
  examples: readonly Example[],
  size: number,
  validate: (weights: Float32Array) => { score: number; loss: number },
  settings: FitSettings,
  onEpoch?: (record: EpochRecord) => void,
): FitResult {
  const w = new Float32Array(size);
  const m = new Float32Array(size);
  const v = new Float32Array(size);
  const grad = new Float64Array(size);
  const touched = new Uint8Array(size);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  const rng = new SeededRng(settings.seed).fork('fit');
  let step = 0;
  let best: { w: Float32Array; epoch: number; score: number; loss: number } | null = null;
  const history: EpochRecord[] = [];
  const order = examples.map((_, i) => i);

  for (let epoch = 1; epoch <= settings.epochs; epoch++) {
    const shuffled = rng.shuffle(order);
    let lossSum = 0;
    for (let b = 0; b < shuffled.length; b += settings.batchSize) {
      const batch = shuffled.slice(b, b + settings.batchSize);
      const list: number[] = [];
      for (const idx of batch) {
        const ex = examples[idx]!;
        const p = softmax(optionScores(w, ex.features));
        lossSum += crossEntropy(p, ex.target);
        for (let i = 0; i < ex.features.length; i++) {
          const { index, value } = ex.features[i]!;
          const g = (p[i]! - ex.target[i]!) / batch.length;
          for (let k = 0; k < index.length; k++) {
            const h = index[k]!;
            if (!touched[h]) {
              touched[h] = 1;
              list.push(h);
            }
            grad[h] += g * value[k]!;
          }
        }
      }
      step++;
      const c1 = 1 - beta1 ** step;
      const c2 = 1 - beta2 ** step;
      for (const h of list) {
        const g = grad[h]! + settings.l2 * w[h]!;
        m[h] = beta1 * m[h]! + (1 - beta1) * g;
        v[h] = beta2 * v[h]! + (1 - beta2) * g * g;
        w[h] = w[h]! - (settings.lr * (m[h]! / c1)) / (Math.sqrt(v[h]! / c2) + eps);
        grad[h] = 0;
        touched[h] = 0;
      }
    }
    const val = validate(w);
    const record = { epoch, trainLoss: lossSum / Math.max(1, examples.length), valScore: val.score, valLoss: val.loss };
    history.push(record);
    onEpoch?.(record);
    // Better = higher score, or the same score with a validation loss lower by more than MIN_LOSS_GAIN.
    if (!best || val.score > best.score || (val.score === best.score && val.loss < best.loss - MIN_LOSS_GAIN)) {
      best = { w: w.slice(), epoch, score: val.score, loss: val.loss };
    } else if (epoch - best.epoch >= settings.patience) break;
  }
  return { weights: best ? best.w : w, bestEpoch: best ? best.epoch : 0, history };
}
