import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { COMPLETIONS_FILE, parseCompletion, type BBox, type CompletionRecord, type MedAdSample } from '@medad/core';
import { loadDatasetDir } from '@medad/dataset';
import { bySeed, isConsistent, isConsistentKeep, pairedDifference, readPredictions, type PairedDifference, type Prediction } from '@medad/evaluator';
import { confinePath } from '../http/paths.js';

/** Which predictions of an evaluation to list. */
export interface PredictionFilter {
  task?: string | null;
  correct?: boolean | null;
  /** The judge reading the findings reached the model's answer. */
  consistent?: boolean | null;
}

/** One answered question, with what the viewer shows beside it. */
export interface PredictionView extends Prediction {
  /** Position in predictions.jsonl (the cursor). */
  index: number;
  think: string | null;
  consistent: boolean;
  consistentKeep: boolean | null;
  question: string | null;
  options: string[] | null;
  /** The image path inside the dataset directory. */
  image: string | null;
  annotations: SampleAnnotations | null;
}

/** What a viewer draws over a sample's image, in its pixels. */
export type SampleAnnotations = {
  bbox?: BBox;
  crop?: BBox;
  inset?: BBox;
  /** An evaluation with zoom: the region its inset enlarged (the model's own with `zoom: predicted`). */
  zoomed?: BBox;
};

/** The lesion box and the local zoom's crop and inset (`meta.zoom`) of a sample, when it has any. */
export function sampleAnnotations(s: MedAdSample | undefined): SampleAnnotations | null {
  if (!s) return null;
  const zoom = s.meta?.zoom as { crop?: BBox; inset?: BBox } | undefined;
  const out: SampleAnnotations = { ...(s.bbox ? { bbox: s.bbox } : {}), ...(zoom?.crop ? { crop: zoom.crop } : {}), ...(zoom?.inset ? { inset: zoom.inset } : {}) };
  return Object.keys(out).length ? out : null;
}

/**
 * Parsed files a viewer pages through (a dataset's samples, an evaluation's predictions), by path:
 * a page does not parse the whole file again; a changed file (size or mtime) is read again. At most
 * four files are kept, the least recently used dropped first.
 */
const parsedFiles = new Map<string, { stamp: string; value: unknown }>();

function parsedFile<T>(file: string, parse: () => T): T | undefined {
  if (!existsSync(file)) return undefined;
  const st = statSync(file);
  const stamp = `${st.size}:${st.mtimeMs}`;
  const hit = parsedFiles.get(file);
  parsedFiles.delete(file);
  const value = hit && hit.stamp === stamp ? (hit.value as T) : parse();
  parsedFiles.set(file, { stamp, value });
  while (parsedFiles.size > 4) parsedFiles.delete(parsedFiles.keys().next().value!);
  return value;
}

function samplesOf(dataDir: string): Map<string, MedAdSample> | undefined {
  return parsedFile(join(dataDir, 'samples.jsonl'), () => new Map(loadDatasetDir(dataDir).samples.map((s) => [s.id, s])));
}

/** The dataset an evaluation run answered, from the spec it ran (`<dir>/spec.json`). */
function datasetOf(runDir: string): string | undefined {
  try {
    const spec = JSON.parse(readFileSync(join(runDir, 'spec.json'), 'utf8')) as { data?: unknown };
    return typeof spec.data === 'string' ? spec.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The image file of a sample a run answered or trained on: the sample's `image` inside the run's
 * dataset directory, which must itself lie inside `roots` (symlinks resolved); undefined otherwise.
 */
export function sampleImageFile(runDir: string, sampleId: string, roots: readonly string[]): string | undefined {
  const data = datasetOf(runDir);
  const image = data ? samplesOf(data)?.get(sampleId)?.image : undefined;
  if (!data || !image) return undefined;
  try {
    const dir = confinePath(data, roots, 'dataset', 'dataset');
    const file = confinePath(join(dir, image), [dir], 'image', 'dataset');
    return existsSync(file) && statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The predictions an evaluation wrote (`<dir>/predictions.jsonl`), filtered, with the think split
 * out, both judge readings and the question, options and image joined from its dataset.
 */
export function runPredictions(runDir: string, filter: PredictionFilter): PredictionView[] {
  const rows = predictionsOf(runDir);
  const data = datasetOf(runDir);
  const samples = data ? samplesOf(data) : undefined;
  const out: PredictionView[] = [];
  rows.forEach((p, index) => {
    const consistent = isConsistent(p);
    if (filter.task && p.task !== filter.task) return;
    if (typeof filter.correct === 'boolean' && p.correct !== filter.correct) return;
    if (typeof filter.consistent === 'boolean' && consistent !== filter.consistent) return;
    const s = samples?.get(p.id);
    out.push({
      ...p,
      index,
      think: parseCompletion(p.raw).think,
      consistent,
      consistentKeep: p.judgeDeductionKeep === undefined ? null : isConsistentKeep(p),
      question: s?.question ?? null,
      options: s ? [...s.options] : null,
      image: s?.image ?? null,
      annotations: p.zoomBox ? { ...sampleAnnotations(s), zoomed: p.zoomBox } : sampleAnnotations(s),
    });
  });
  return out;
}

/** The predictions of an evaluation run directory (cached while the file is unchanged). */
function predictionsOf(runDir: string): Prediction[] {
  const file = join(runDir, 'predictions.jsonl');
  return parsedFile(file, () => readPredictions(file)) ?? [];
}

/**
 * Evaluation A − evaluation B in accuracy points, overall and per task, paired by seed and
 * question (@medad/evaluator `pairedDifference`: the intervals reproduce `medad reproduce` uses).
 */
export function pairedEvaluationDifference(dirA: string, dirB: string): Array<{ task: string } & PairedDifference> {
  const a = predictionsOf(dirA);
  const b = predictionsOf(dirB);
  const tasks = [...new Set(a.map((p) => p.task))];
  const of = (rows: Prediction[], task?: string) => bySeed(task ? rows.filter((p) => p.task === task) : rows);
  return [{ task: 'overall', ...pairedDifference(of(a), of(b)) }, ...tasks.map((task) => ({ task, ...pairedDifference(of(a, task), of(b, task)) }))];
}

/** A Con-GRPO completion with the think split out and its sample's question and options. */
export interface CompletionView extends CompletionRecord {
  /** Position in completions.jsonl (the cursor). */
  index: number;
  think: string | null;
  question: string | null;
  options: string[] | null;
  image: string | null;
  annotations: SampleAnnotations | null;
}

/**
 * The completions a Con-GRPO run logged (`<dir>/completions.jsonl`), of one step or all, joined
 * with their samples; a torn last line (a run killed mid-write) is skipped.
 */
export function runCompletions(runDir: string, step?: number | null): CompletionView[] {
  const file = join(runDir, COMPLETIONS_FILE);
  if (!existsSync(file)) return [];
  const data = datasetOf(runDir);
  const samples = data ? samplesOf(data) : undefined;
  const out: CompletionView[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (!line.trim()) return;
      let c: CompletionRecord;
      try {
        c = JSON.parse(line) as CompletionRecord;
      } catch {
        return;
      }
      if (typeof step === 'number' && c.step !== step) return;
      const s = samples?.get(c.sampleId);
      out.push({ ...c, index, think: parseCompletion(c.completion).think, question: s?.question ?? null, options: s ? [...s.options] : null, image: s?.image ?? null, annotations: c.zoomBox ? { ...sampleAnnotations(s), zoomed: c.zoomBox } : sampleAnnotations(s) });
    });
  return out;
}
