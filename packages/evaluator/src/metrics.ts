import { TASKS, type Task } from '@medad/core';
import type { Prediction } from './predictions.js';

/** Percentages (0-100) summarising one decoding run. */
export interface EvalSummary {
  /** Total correct / total questions (the paper's overall). */
  overall: number;
  perTask: Partial<Record<Task, number>>;
  /** Judge deduction equals the parsed answer, over all items (the run's judge: by default it reads the findings, `conclusion: 'strip'`). */
  consistency: number;
  /** The same with the judge that reads the whole think, concluding sentence included (`conclusion: 'keep'`); NaN when none ran. */
  consistencyKeep: number;
  formatRate: number;
  /** No answer letter could be parsed. */
  invalidRate: number;
  /** The reasoning concludes the right finding. */
  thinkCorrectness: number;
  perTaskThink: Partial<Record<Task, number>>;
  n: number;
}

const pct = (k: number, n: number): number => (n === 0 ? NaN : (100 * k) / n);

/** Consistent: the judge, reading the findings without the concluding sentence, reaches the answer given. */
export const isConsistent = (p: Prediction): boolean => p.parsed !== null && p.judgeDeduction === p.parsed;

/** Consistent under the "keep" reading (the judge reads the whole think, conclusion included). */
export const isConsistentKeep = (p: Prediction): boolean => p.parsed !== null && p.judgeDeductionKeep === p.parsed;

/**
 * Accuracy per task and overall, consistency (both readings), format, invalid and think-correctness
 * rates. `judged: false` (no judge ran) reports consistency as NaN (not measured) instead of 0;
 * consistencyKeep is NaN unless `judgedKeep` (default: some prediction has `judgeDeductionKeep`).
 */
export function summarize(predictions: readonly Prediction[], options: { judged?: boolean; judgedKeep?: boolean } = {}): EvalSummary {
  const perTask: Partial<Record<Task, number>> = {};
  const perTaskThink: Partial<Record<Task, number>> = {};
  for (const task of TASKS) {
    const items = predictions.filter((p) => p.task === task);
    if (!items.length) continue;
    perTask[task] = pct(items.filter((p) => p.correct).length, items.length);
    perTaskThink[task] = pct(items.filter((p) => p.thinkCorrect).length, items.length);
  }
  const n = predictions.length;
  return {
    overall: pct(predictions.filter((p) => p.correct).length, n),
    perTask,
    consistency: options.judged === false ? NaN : pct(predictions.filter(isConsistent).length, n),
    consistencyKeep:
      (options.judgedKeep ?? predictions.some((p) => p.judgeDeductionKeep !== undefined))
        ? pct(predictions.filter(isConsistentKeep).length, n)
        : NaN,
    formatRate: pct(predictions.filter((p) => p.formatOk).length, n),
    invalidRate: pct(predictions.filter((p) => p.parsed === null).length, n),
    thinkCorrectness: pct(predictions.filter((p) => p.thinkCorrect).length, n),
    perTaskThink,
    n,
  };
}

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

/** Mean ± sample std of a list of numbers (NaNs ignored). */
export function meanStd(xs: readonly number[]): MeanStd {
  const v = xs.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** Summaries over several seeds: every metric as mean ± sample std. */
export interface SeedAggregate {
  seeds: number[];
  overall: MeanStd;
  perTask: Partial<Record<Task, MeanStd>>;
  consistency: MeanStd;
  consistencyKeep: MeanStd;
  formatRate: MeanStd;
  invalidRate: MeanStd;
  thinkCorrectness: MeanStd;
}

/** Aggregates per-seed summaries into mean ± std. */
export function aggregateSeeds(runs: ReadonlyArray<{ seed: number; summary: EvalSummary }>): SeedAggregate {
  const pick = (f: (s: EvalSummary) => number | undefined): MeanStd =>
    meanStd(runs.map((r) => f(r.summary)).filter((x): x is number => x !== undefined));
  const perTask: Partial<Record<Task, MeanStd>> = {};
  for (const task of TASKS) {
    if (runs.some((r) => r.summary.perTask[task] !== undefined)) perTask[task] = pick((s) => s.perTask[task]);
  }
  return {
    seeds: runs.map((r) => r.seed),
    overall: pick((s) => s.overall),
    perTask,
    consistency: pick((s) => s.consistency),
    consistencyKeep: pick((s) => s.consistencyKeep),
    formatRate: pick((s) => s.formatRate),
    invalidRate: pick((s) => s.invalidRate),
    thinkCorrectness: pick((s) => s.thinkCorrectness),
  };
}
