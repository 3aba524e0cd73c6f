import { SeededRng } from '@medad/core';

/** Hyper-parameters of {@link trainSoftmaxRegression}. */
export interface SoftmaxOptions {
  /** L2 penalty on the weights (not the biases). */
  l2: number;
  /** Passes over the data (default 30). */
  epochs?: number;
  /** Mini-batch size (default 32). */
  batchSize?: number;
  learningRate?: number;
  /** Seed of the mini-batch order (default 0). */
  seed?: number;
}

/** A trained multinomial logistic regression over standardized dense features. */
export interface SoftmaxModel {
  classes: number;
  dim: number;
  mean: Float64Array;
  std: Float64Array;
  /** classes × dim weights, row-major. */
  weights: Float64Array;
  bias: Float64Array;
}

/** Per-feature mean and standard deviation (std floored so constant features stay at 0). */
function standardizer(x: readonly Float32Array[], dim: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (const row of x) for (let j = 0; j < dim; j++) mean[j]! += row[j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= x.length;
  for (const row of x) for (let j = 0; j < dim; j++) std[j]! += (row[j]! - mean[j]!) ** 2;
  for (let j = 0; j < dim; j++) std[j] = Math.max(Math.sqrt(std[j]! / x.length), 1e-6);
  return { mean, std };
}

/** Class probabilities of one feature vector. */
export function softmaxProbs(model: SoftmaxModel, row: Float32Array): Float64Array {
  const { classes, dim, mean, std, weights, bias } = model;
  const z = new Float64Array(classes);
  for (let c = 0; c < classes; c++) {
    let s = bias[c]!;
    const off = c * dim;
    for (let j = 0; j < dim; j++) s += weights[off + j]! * ((row[j]! - mean[j]!) / std[j]!);
    z[c] = s;
  }
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += z[c] = Math.exp(z[c]! - m);
  for (let c = 0; c < classes; c++) z[c]! /= sum;
  return z;
}

/** Trains a multinomial logistic regression by mini-batch Adam (seeded order) on cross-entropy + L2. */
export function trainSoftmaxRegression(x: readonly Float32Array[], y: readonly number[], classes: number, options: SoftmaxOptions): SoftmaxModel {
  const dim = x[0]?.length ?? 0;
  const n = x.length;
  const { mean, std } = standardizer(x, dim);
  const xs = new Float32Array(n * dim);
  x.forEach((row, i) => {
    for (let j = 0; j < dim; j++) xs[i * dim + j] = (row[j]! - mean[j]!) / std[j]!;
  });
  const w = new Float64Array(classes * dim);
  const bias = new Float64Array(classes);
  const params = classes * dim + classes;
  const m1 = new Float64Array(params);
  const m2 = new Float64Array(params);
  const grad = new Float64Array(params);
  const epochs = options.epochs ?? 30;
  const batch = options.batchSize ?? 32;
  const lr = options.learningRate ?? 0.01;
  const rng = new SeededRng(options.seed ?? 0);
  const z = new Float64Array(classes);
  let t = 0;
  const steps = epochs * Math.ceil(n / batch);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let e = 0; e < epochs; e++) {
    const perm = rng.shuffle(order);
    for (let b0 = 0; b0 < n; b0 += batch) {
      const rows = perm.slice(b0, b0 + batch);
      grad.fill(0);
      for (const i of rows) {
        const off = i * dim;
        let m = -Infinity;
        for (let c = 0; c < classes; c++) {
          let s = bias[c]!;
          const wo = c * dim;
          for (let j = 0; j < dim; j++) s += w[wo + j]! * xs[off + j]!;
          z[c] = s;
          if (s > m) m = s;
        }
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += z[c] = Math.exp(z[c]! - m);
        for (let c = 0; c < classes; c++) {
          const g = (z[c]! / sum - (y[i] === c ? 1 : 0)) / rows.length;
          const wo = c * dim;
          for (let j = 0; j < dim; j++) grad[wo + j]! += g * xs[off + j]!;
          grad[classes * dim + c]! += g;
        }
      }
      t++;
      const b1 = 1 - 0.9 ** t;
      const b2 = 1 - 0.999 ** t;
      for (let k = 0; k < params; k++) {
        const g = k < classes * dim ? grad[k]! + options.l2 * w[k]! : grad[k]!;
        m1[k] = 0.9 * m1[k]! + 0.1 * g;
        m2[k] = 0.999 * m2[k]! + 0.001 * g * g;
        const step = (lr * (1 - (t - 1) / steps) * (m1[k]! / b1)) / (Math.sqrt(m2[k]! / b2) + 1e-8);
        if (k < classes * dim) w[k]! -= step;
        else bias[k - classes * dim]! -= step;
      }
    }
  }
  return { classes, dim, mean, std, weights: w, bias };
}

/** Splits indices 0..n-1 into a seeded training part and a held-out part of about `fraction`. */
export function holdout(n: number, fraction: number, rng: SeededRng): { fit: number[]; held: number[] } {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const cut = Math.max(1, Math.round(n * fraction));
  return { held: order.slice(0, cut).sort((a, b) => a - b), fit: order.slice(cut).sort((a, b) => a - b) };
}
