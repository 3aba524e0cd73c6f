import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zoomSampleImage } from '@medad/dataset';
import {
  ErrorCode,
  MedadError,
  parseCompletion,
  silentProgress,
  type BBox,
  type Backbone,
  type Dataset,
  type Judge,
  type MedAdSample,
  type PolicyPrompt,
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
  /**
   * Coarse-to-fine diagnosis (MedReason-R1): `predicted` asks the backbone where to look
   * (`locate`, from the image alone) and answers on the image with a zoomed inset of that region;
   * `oracle` zooms into the labelled lesion box (an upper bound, never a result of the model);
   * `none` (default) answers on the image as it is. The inset is drawn as `medad data zoom` draws it.
   */
  zoom?: ZoomMode;
  /** Directory for `predictions.jsonl` and `eval.json`; an existing predictions file is resumed. */
  outDir?: string;
  progress?: ProgressReporter;
}

/** Where an evaluation zooms: nowhere, into the region the model predicts, or into the labelled one. */
export const ZOOM_MODES = ['none', 'predicted', 'oracle'] as const;
export type ZoomMode = (typeof ZOOM_MODES)[number];

/**
 * The images a batch is answered on under `zoom`, and the boxes their insets enlarge. `predicted`
 * reads nothing but the images (the backbone's `locate`); only `oracle` reads the samples' boxes.
 * The inset's corner is drawn from a stream seeded by the image path, as `medad data zoom` does.
 */
export async function zoomedPrompts(backbone: Backbone, prompts: readonly PolicyPrompt[], zoom: ZoomMode): Promise<{ prompts: PolicyPrompt[]; boxes: Array<BBox | undefined> }> {
  if (zoom === 'none') return { prompts: [...prompts], boxes: prompts.map(() => undefined) };
  let boxes: Array<BBox | null>;
  if (zoom === 'predicted') {
    if (!backbone.locate) {
      throw new MedadError(ErrorCode.BadUserInput, `zoom predicted: backbone "${backbone.describe().id}" predicts no region`, {
        fix: 'evaluate a tfjs-vlm checkpoint trained with hyper.grounding > 0 (it has a grounding head), or use zoom none or oracle',
      });
    }
    boxes = await backbone.locate(prompts);
  } else boxes = prompts.map((p) => p.sample.bbox ?? null);
  const out = prompts.map((p, i) => {
    const z = zoomSampleImage(p.image, boxes[i] ?? null, p.sample.image);
    return { prompt: { sample: p.sample, image: z.image }, box: z.crop };
  });
  return { prompts: out.map((o) => o.prompt), boxes: out.map((o) => o.box) };
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
  /** Where the answers were zoomed ({@link ZoomMode}). */
  zoom: ZoomMode;
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
  const zoom = o.zoom ?? 'none';
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
      const loaded = await Promise.all(batch.map(async (sample) => ({ sample, image: await o.dataset.loadImage(sample) })));
      const { prompts, boxes } = await zoomedPrompts(o.backbone, loaded, zoom);
      const groups = await o.backbone.generate(prompts, {
        groupSize: 1,
        greedy: decoding === 'greedy',
        temperature: decoding === 'greedy' ? 0 : (o.temperature ?? 1),
        topP: o.topP ?? 1,
        maxTokens: o.maxTokens,
        seed: seed * 1_000_003 + i,
      });
      const rows = (await scoreOutputs(batch, groups.map((g) => g[0]?.text ?? ''), seed, o.judge, o.judgeKeep)).map((r, j) => (boxes[j] ? { ...r, zoomBox: boxes[j] } : r));
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
    zoom,
  };
  if (o.outDir) writeFileSync(join(o.outDir, 'eval.json'), JSON.stringify(result, null, 2) + '\n');
  return result;
}
