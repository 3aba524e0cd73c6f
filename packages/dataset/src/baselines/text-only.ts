import { OPTION_LETTERS, SeededRng, hashString, letterIndex, type MedAdSample } from '@medad/core';
import type { BaselinePrediction } from './image-only.js';
import { holdout } from './logreg.js';

const DIM = 1 << 15;
const L2_GRID = [1e-4, 1e-3, 1e-2];

/** Lower-case word tokens of a text. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

/**
 * Hashed sparse features of one (question, option) pair: option unigrams and bigrams, the whole
 * option, question-word × option-word crosses, and the option's position — everything a text
 * model could exploit if the question or the option wording leaked the answer.
 */
export function pairFeatures(question: string, option: string, position: number): Int32Array {
  const q = [...new Set(tokenize(question))];
  const o = tokenize(option);
  const keys = [`pos:${position}`, `opt:${o.join(' ')}`];
  for (let i = 0; i < o.length; i++) {
    keys.push(`o:${o[i]}`);
    if (i + 1 < o.length) keys.push(`oo:${o[i]} ${o[i + 1]}`);
    for (const w of q) keys.push(`qo:${w}|${o[i]}`);
  }
  return Int32Array.from(new Set(keys.map((k) => hashString(k) % DIM)));
}

/** A trained text-only baseline: a conditional logit over the four options. */
export interface TextOnlyModel {
  weights: Float64Array;
  l2: number;
}

type Encoded = { sample: MedAdSample; feats: Int32Array[] };

function encode(s: MedAdSample): Encoded {
  return { sample: s, feats: s.options.map((o, i) => pairFeatures(s.question, o, i)) };
}

function scores(w: Float64Array, e: Encoded): number[] {
  return e.feats.map((f) => {
    let s = 0;
    for (const k of f) s += w[k]!;
    return s;
  });
}

function argmax(v: number[]): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[b]!) b = i;
  return b;
}

function fit(items: readonly Encoded[], l2: number, iterations = 200, lr = 0.05): Float64Array {
  const w = new Float64Array(DIM);
  const m1 = new Float64Array(DIM);
  const m2 = new Float64Array(DIM);
  const g = new Float64Array(DIM);
  for (let it = 1; it <= iterations; it++) {
    g.fill(0);
    for (const e of items) {
      const z = scores(w, e);
      const mx = Math.max(...z);
      const ex = z.map((v) => Math.exp(v - mx));
      const sum = ex.reduce((a, b) => a + b, 0);
      const gold = letterIndex(e.sample.answer);
      e.feats.forEach((f, i) => {
        const d = (ex[i]! / sum - (i === gold ? 1 : 0)) / items.length;
        for (const k of f) g[k]! += d;
      });
    }
    const b1 = 1 - 0.9 ** it;
    const b2 = 1 - 0.999 ** it;
    for (let k = 0; k < DIM; k++) {
      const gk = g[k]! + l2 * w[k]!;
      if (gk === 0 && m1[k] === 0) continue;
      m1[k] = 0.9 * m1[k]! + 0.1 * gk;
      m2[k] = 0.999 * m2[k]! + 0.001 * gk * gk;
      w[k]! -= (lr * (m1[k]! / b1)) / (Math.sqrt(m2[k]! / b2) + 1e-8);
    }
  }
  return w;
}

function accuracy(w: Float64Array, items: readonly Encoded[]): number {
  let ok = 0;
  for (const e of items) if (OPTION_LETTERS[argmax(scores(w, e))] === e.sample.answer) ok++;
  return items.length ? ok / items.length : 0;
}

/**
 * Trains the text-only baseline for one task on question + options (no image): a conditional
 * logit over the four options with hashed bag-of-words features, L2 chosen on a seeded quarter
 * of the training samples. It measures how much the text alone gives away.
 */
export function trainTextOnly(train: readonly MedAdSample[], seed: number): TextOnlyModel {
  const enc = train.map(encode);
  const { fit: fitIdx, held } = holdout(enc.length, 0.25, new SeededRng(seed));
  let best = L2_GRID[0]!;
  let bestAcc = -1;
  if (held.length >= 8) {
    for (const l2 of L2_GRID) {
      const acc = accuracy(fit(fitIdx.map((i) => enc[i]!), l2), held.map((i) => enc[i]!));
      if (acc > bestAcc) {
        bestAcc = acc;
        best = l2;
      }
    }
  }
  return { l2: best, weights: fit(enc, best) };
}

/** Predicts answer letters from question and option text alone. */
export function predictTextOnly(model: TextOnlyModel, samples: readonly MedAdSample[]): BaselinePrediction[] {
  return samples.map((s) => ({ id: s.id, answer: s.answer, predicted: OPTION_LETTERS[argmax(scores(model.weights, encode(s)))]! }));
}
