import type { MedAdSample } from '@medad/core';
import { LearnedJudgeModel, DEFAULT_MIN_CONFIDENCE } from './judge-model.js';
import { EVAL_VARIANTS, evaluationCases, type EvalVariant } from './variants.js';

/** Accuracy of each variant (null deductions count as wrong). */
export type VariantAccuracy = Record<EvalVariant, number>;

/** The held-out report: accuracy per CoT variant, overall and per task. */
export interface HeldOutReport {
  /** The split measured (the dataset's held-out split). */
  split: string;
  samples: number;
  /** The threshold used: below it a deduction is null, which counts as wrong. */
  minConfidence: number;
  accuracy: VariantAccuracy;
  /** Fraction of null deductions per variant. */
  nullRate: VariantAccuracy;
  perTask: Record<string, { samples: number; accuracy: VariantAccuracy }>;
}

function zeros(): VariantAccuracy {
  return Object.fromEntries(EVAL_VARIANTS.map((v) => [v, 0])) as VariantAccuracy;
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

/** Measures a model on every {@link EVAL_VARIANTS} form of each sample's ground-truth CoT. */
export function evaluateJudgeModel(model: LearnedJudgeModel, samples: readonly MedAdSample[], minConfidence = DEFAULT_MIN_CONFIDENCE, split = 'test'): HeldOutReport {
  const right = zeros();
  const nulls = zeros();
  const tasks = new Map<string, { samples: number; right: VariantAccuracy }>();
  for (const s of samples) {
    const t = tasks.get(s.task) ?? { samples: 0, right: zeros() };
    t.samples++;
    tasks.set(s.task, t);
    const cases = evaluationCases(s);
    for (const v of EVAL_VARIANTS) {
      const d = model.deduce({ question: s.question, options: s.options, think: cases[v].think }, minConfidence);
      if (d === null) nulls[v]++;
      else if ('ABCD'.indexOf(d) === cases[v].target) {
        right[v]++;
        t.right[v]++;
      }
    }
  }
  const frac = (counts: VariantAccuracy, n: number) => Object.fromEntries(EVAL_VARIANTS.map((v) => [v, round(counts[v] / Math.max(1, n))])) as VariantAccuracy;
  const perTask: HeldOutReport['perTask'] = {};
  for (const [task, t] of [...tasks.entries()].sort((a, b) => a[0].localeCompare(b[0]))) perTask[task] = { samples: t.samples, accuracy: frac(t.right, t.samples) };
  return { split, samples: samples.length, minConfidence, accuracy: frac(right, samples.length), nullRate: frac(nulls, samples.length), perTask };
}
