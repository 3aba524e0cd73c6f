import { OPTION_LETTERS, SPLITS, TASKS, type MedAdSample } from '@medad/core';
import { loadDatasetDir } from './store.js';

/** Counts of a dataset by split, task, modality, anatomy, source and answer letter. */
export interface DatasetStats {
  root: string;
  total: number;
  bySplit: Record<string, number>;
  byTask: Record<string, number>;
  byModality: Record<string, number>;
  byAnatomy: Record<string, number>;
  bySource: Record<string, number>;
  byAnswer: Record<string, number>;
  /** Answer-letter counts per task, to check letter balance where it matters. */
  byTaskAnswer: Record<string, Record<string, number>>;
  /** Task counts per split. */
  bySplitTask: Record<string, Record<string, number>>;
  /** Lines of samples.jsonl that failed validation (not counted above). */
  invalidLines: number;
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

function sortedKeys(m: Record<string, number>, order?: readonly string[]): Record<string, number> {
  const keys = Object.keys(m).sort((a, b) => {
    const ia = order ? order.indexOf(a) : -1;
    const ib = order ? order.indexOf(b) : -1;
    if (ia >= 0 || ib >= 0) return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib);
    return a.localeCompare(b);
  });
  return Object.fromEntries(keys.map((k) => [k, m[k]!]));
}

/** Counts samples (already loaded) along every axis the benchmark is balanced on. */
export function computeStats(samples: readonly MedAdSample[], root = '', invalidLines = 0): DatasetStats {
  const s: DatasetStats = {
    root,
    total: samples.length,
    bySplit: {},
    byTask: {},
    byModality: {},
    byAnatomy: {},
    bySource: {},
    byAnswer: {},
    byTaskAnswer: {},
    bySplitTask: {},
    invalidLines,
  };
  for (const x of samples) {
    bump(s.bySplit, x.split);
    bump(s.byTask, x.task);
    bump(s.byModality, x.modality);
    bump(s.byAnatomy, x.anatomy);
    bump(s.bySource, x.source);
    bump(s.byAnswer, x.answer);
    bump((s.byTaskAnswer[x.task] ??= {}), x.answer);
    bump((s.bySplitTask[x.split] ??= {}), x.task);
  }
  s.bySplit = sortedKeys(s.bySplit, SPLITS);
  s.byTask = sortedKeys(s.byTask, TASKS);
  s.byModality = sortedKeys(s.byModality);
  s.byAnatomy = sortedKeys(s.byAnatomy);
  s.bySource = sortedKeys(s.bySource);
  s.byAnswer = sortedKeys(s.byAnswer, OPTION_LETTERS);
  for (const t of Object.keys(s.byTaskAnswer)) s.byTaskAnswer[t] = sortedKeys(s.byTaskAnswer[t]!, OPTION_LETTERS);
  for (const t of Object.keys(s.bySplitTask)) s.bySplitTask[t] = sortedKeys(s.bySplitTask[t]!, TASKS);
  return s;
}

/** Reads a dataset directory and counts it by split, task, modality, anatomy, source and answer letter. */
export function datasetStats(dir: string): DatasetStats {
  const loaded = loadDatasetDir(dir);
  return computeStats(loaded.samples, loaded.root, new Set(loaded.issues.map((i) => i.line)).size);
}
