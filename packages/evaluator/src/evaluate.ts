import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseCompletion,
  silentProgress,
  type Backbone,
  type Dataset,
  type Judge,
  type MedAdSample,
  type ProgressReporter,
  type Split,
} from '@medad/core';
import { concludedOption } from './conclusion.js';
import { aggregateSeeds, summarize, type EvalSummary, type SeedAggregate } from './metrics.js';
import { appendPredictions, readPredictions, type Prediction } from './predictions.js';

/** Settings of an evaluation. */
export interface EvaluateOptions {
  backbone: Backbone;
  dataset: Dataset;
  /** Judge for the consistency rate; without one, consistency is not measured (NaN). */
  judge?: Judge;
  /**
   * A second judge that reads the whole think (the judge plugin with `conclusion: 'keep'`), for
   * `consistencyKeep`: agreement with the concluding sentence, next to `consistency` from the findings.
   */
  judgeKeep?: Judge;
  split?: Split;
  /** `greedy` decodes once (seeds only label the run); `sample` decodes once per seed. */
  decoding?: 'greedy' | 'sample';
  seeds?: number[];
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  batchSize?: number;
  /** Only the first N samples of the split (for quick looks). */
  limit?: number;
  /** Directory for `predictions.jsonl` and `eval.json`; an existing predictions file is resumed. */
  outDir?: string;
  progress?: ProgressReporter;
}

/** What {@link evaluate} returns (and writes to `eval.json`). */
export interface EvaluationResult {
  /** Means over seeds, in percent. */
  overall: number;
  perTask: Record<string, number>;
  /** Consistency under the run judge's reading (by default the findings, `conclusion: 'strip'`). */
  consistency: number;
  /** Consistency under `judgeKeep` (the whole think, `conclusion: 'keep'`); NaN without one. */
  consistencyKeep: number;
  formatRate: number;
  invalidRate: number;
  thinkCorrectness: number;
  perTaskThink: Record<string, number>;
  /** Sample std over seeds of each headline metric. */
  std: { overall: number; consistency: number; consistencyKeep: number; formatRate: number; thinkCorrectness: number; perTask: Record<string, number> };
  seeds: number[];
  perSeed: Array<{ seed: number; summary: EvalSummary }>;
  aggregate: SeedAggregate;
  n: number;
  backbone: string;
}

async function collect(dataset: Dataset, split: Split, limit?: number): Promise<MedAdSample[]> {
  const out: MedAdSample[] = [];
  for await (const s of dataset.samples(split)) {
    out.push(s);
    if (limit !== undefined && out.length >= limit) break;
  }
  return out;
}

/** Scores one batch of outputs into prediction records (with `judgeKeep`, each also gets `judgeDeductionKeep`). */
export async function scoreOutputs(samples: readonly MedAdSample[], outputs: readonly string[], seed: number, judge?: Judge, judgeKeep?: Judge): Promise<Prediction[]> {
  const parsed = outputs.map((o, i) => parseCompletion(o, samples[i]!.options));
  const inputs = samples.map((s, i) => ({ question: s.question, options: s.options, think: parsed[i]!.think ?? '' }));
  const deductions = judge ? await judge.deduce(inputs) : samples.map(() => null);
  const kept = judgeKeep ? await judgeKeep.deduce(inputs) : undefined;
  return samples.map((s, i) => {
    const p = parsed[i]!;
    return {
      id: s.id,
      task: s.task,
      answer: s.answer,
      raw: outputs[i]!,
      parsed: p.answer,
      judgeDeduction: judge ? deductions[i]! : null,
      ...(kept ? { judgeDeductionKeep: kept[i]! } : {}),
      correct: p.answer === s.answer,
      formatOk: p.wellFormed,
      thinkCorrect: concludedOption(p.think, s.options) === s.answer,
      seed,
    };
  });
}

/**
 * Evaluates a backbone on a split: answers per seed, per-task accuracy and overall, format,
 * consistency, invalid and think-correctness rates, mean ± sample std over seeds. Resumable:
 * items already in `<outDir>/predictions.jsonl` are not asked again.
 */
export async function evaluate(o: EvaluateOptions): Promise<EvaluationResult> {
  const split = o.split ?? 'test';
  const decoding = o.decoding ?? 'greedy';
  const seeds = o.seeds?.length ? o.seeds : [0];
  const batchSize = o.batchSize ?? 16;
  const progress = o.progress ?? silentProgress;
  const samples = await collect(o.dataset, split, o.limit);
  const predFile = o.outDir ? join(o.outDir, 'predictions.jsonl') : undefined;
  if (o.outDir) mkdirSync(o.outDir, { recursive: true });
  const previous = predFile ? readPredictions(predFile) : [];
  const done = new Set(previous.map((p) => `${p.seed}:${p.id}`));
  const all: Prediction[] = [...previous];
  const decodeSeeds = decoding === 'greedy' ? [seeds[0]!] : seeds;
  progress.start(samples.length * decodeSeeds.length, `eval ${split}`);
  let count = 0;
  for (const seed of decodeSeeds) {
    const todo = samples.filter((s) => !done.has(`${seed}:${s.id}`));
    count += samples.length - todo.length;
    for (let i = 0; i < todo.length; i += batchSize) {
      const batch = todo.slice(i, i + batchSize);
      const prompts = await Promise.all(batch.map(async (sample) => ({ sample, image: await o.dataset.loadImage(sample) })));
      const groups = await o.backbone.generate(prompts, {
        groupSize: 1,
        greedy: decoding === 'greedy',
        temperature: decoding === 'greedy' ? 0 : (o.temperature ?? 1),
        topP: o.topP ?? 1,
        maxTokens: o.maxTokens,
        seed: seed * 1_000_003 + i,
      });
      const rows = await scoreOutputs(batch, groups.map((g) => g[0]?.text ?? ''), seed, o.judge, o.judgeKeep);
      if (predFile) appendPredictions(predFile, rows);
      all.push(...rows);
      count += batch.length;
      progress.update(count, { acc: (100 * all.filter((p) => p.correct).length) / Math.max(1, all.length) });
    }
  }
  progress.stop();
  const perSeed = decodeSeeds.map((seed) => ({ seed, summary: summarize(all.filter((p) => p.seed === seed), { judged: o.judge !== undefined, judgedKeep: o.judgeKeep !== undefined }) }));
  const agg = aggregateSeeds(perSeed);
  const perTask = Object.fromEntries(Object.entries(agg.perTask).map(([t, m]) => [t, m!.mean]));
  const perTaskStd = Object.fromEntries(Object.entries(agg.perTask).map(([t, m]) => [t, m!.std]));
  const perTaskThink: Record<string, number> = {};
  for (const [t] of Object.entries(agg.perTask)) {
    const vals = perSeed.map((r) => r.summary.perTaskThink[t as keyof EvalSummary['perTaskThink']] ?? NaN);
    perTaskThink[t] = vals.reduce((a, b) => a + b, 0) / vals.length;
  }
  const result: EvaluationResult = {
    overall: agg.overall.mean,
    perTask,
    consistency: agg.consistency.mean,
    consistencyKeep: agg.consistencyKeep.mean,
    formatRate: agg.formatRate.mean,
    invalidRate: agg.invalidRate.mean,
    thinkCorrectness: agg.thinkCorrectness.mean,
    perTaskThink,
    std: {
      overall: agg.overall.std,
      consistency: agg.consistency.std,
      consistencyKeep: agg.consistencyKeep.std,
      formatRate: agg.formatRate.std,
      thinkCorrectness: agg.thinkCorrectness.std,
      perTask: perTaskStd,
    },
    seeds: decodeSeeds,
    perSeed,
    aggregate: agg,
    n: samples.length,
    backbone: o.backbone.describe().id,
  };
  if (o.outDir) writeFileSync(join(o.outDir, 'eval.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}
