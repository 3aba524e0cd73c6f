import { SeededRng } from '@medad/core';
import type { Prediction } from './predictions.js';

/** A paired difference between two configurations, in accuracy points, with its 95% interval. */
export interface PairedDifference {
  /** Mean over seeds of (accuracy of A − accuracy of B) on the questions both answered, in points. */
  mean: number;
  /** 95% percentile interval of the hierarchical bootstrap (seeds, then questions within a seed). */
  ci95: [number, number];
  /** Seeds both configurations were evaluated on. */
  seeds: number[];
  /** Paired questions per seed (the smallest, when they differ). */
  questions: number;
  /** The interval excludes 0; otherwise the difference is a tie. */
  significant: boolean;
}

/** Options of {@link pairedDifference}. */
export interface PairedOptions {
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Seed of the bootstrap's own RNG (default 0: the same inputs give the same interval). */
  seed?: number;
  /** What counts as a success (default `p.correct`; e.g. consistency). */
  outcome?: (p: Prediction) => boolean;
}

/** Per seed, the ±1/0 differences of the questions both sides answered (keyed by training seed). */
function pairedRows(a: ReadonlyMap<number, readonly Prediction[]>, b: ReadonlyMap<number, readonly Prediction[]>, outcome: (p: Prediction) => boolean): Map<number, Int8Array> {
  const rows = new Map<number, Int8Array>();
  for (const [seed, as] of a) {
    const bs = b.get(seed);
    if (!bs) continue;
    const other = new Map(bs.map((p) => [p.id, outcome(p)]));
    const d: number[] = [];
    for (const p of as) {
      const y = other.get(p.id);
      if (y !== undefined) d.push(Number(outcome(p)) - Number(y));
    }
    if (d.length) rows.set(seed, Int8Array.from(d));
  }
  return rows;
}

const meanOf = (d: Int8Array): number => d.reduce((s, x) => s + x, 0) / d.length;

/**
 * The paired difference A − B (DESIGN.md §8): each seed's arms share their SFT checkpoint and test
 * questions, so the per-question differences are paired. The point estimate is the mean over
 * seeds of each seed's mean difference; the 95% interval resamples seeds with replacement and,
 * within each drawn seed, its questions with replacement (both sources of noise), and takes the
 * 2.5th and 97.5th percentiles. An interval that contains 0 is a tie.
 */
export function pairedDifference(a: ReadonlyMap<number, readonly Prediction[]>, b: ReadonlyMap<number, readonly Prediction[]>, options: PairedOptions = {}): PairedDifference {
  const rows = pairedRows(a, b, options.outcome ?? ((p) => p.correct));
  const seeds = [...rows.keys()].sort((x, y) => x - y);
  if (!seeds.length) return { mean: NaN, ci95: [NaN, NaN], seeds: [], questions: 0, significant: false };
  const per = seeds.map((s) => rows.get(s)!);
  const mean = (100 * per.reduce((s, d) => s + meanOf(d), 0)) / per.length;
  const resamples = Math.max(1, options.resamples ?? 2000);
  const rng = new SeededRng(options.seed ?? 0);
  const draws = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let total = 0;
    for (let k = 0; k < per.length; k++) {
      const d = per[rng.int(per.length)]!;
      let sum = 0;
      for (let i = 0; i < d.length; i++) sum += d[rng.int(d.length)]!;
      total += sum / d.length;
    }
    draws[r] = (100 * total) / per.length;
  }
  draws.sort();
  const at = (q: number): number => draws[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))]!;
  const ci95: [number, number] = [at(0.025), at(0.975)];
  return { mean, ci95, seeds, questions: Math.min(...per.map((d) => d.length)), significant: ci95[0] > 0 || ci95[1] < 0 };
}

/** Groups predictions by their `seed` field (one evaluation per training seed). */
export function bySeed(predictions: readonly Prediction[]): Map<number, Prediction[]> {
  const out = new Map<number, Prediction[]>();
  for (const p of predictions) out.set(p.seed, [...(out.get(p.seed) ?? []), p]);
  return out;
}

/** `+1.23 [−0.40, +2.86]`, and whether it is a tie. */
export function formatPaired(d: PairedDifference): string {
  if (!Number.isFinite(d.mean)) return '—';
  const s = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
  return `${s(d.mean)} [${s(d.ci95[0])}, ${s(d.ci95[1])}]${d.significant ? '' : ' (tie)'}`;
}
