import { join } from 'node:path';
import { ErrorCode, MedadError, TASKS, silentProgress, type MedAdSample, type ProgressReporter, type Task } from '@medad/core';
import { readImageFile } from '../image/codec.js';
import { flipImage } from '../image/raw.js';
import { loadDatasetDir, type LoadedDataset } from '../store.js';
import { imageFeatures } from './features.js';
import { predictImageOnly, trainImageOnly, type BaselinePrediction, type FeaturedSample } from './image-only.js';
import { predictTextOnly, trainTextOnly } from './text-only.js';

/** Test accuracy (percent) of both baselines on one task. */
export interface BaselineTaskRow {
  task: Task;
  train: number;
  test: number;
  /** Image-only classifier accuracy on the test split, percent. */
  imageOnly: number;
  /** Text-only (question + options) classifier accuracy on the test split, percent. */
  textOnly: number;
}

/** What {@link runBaselines} returns. */
export interface BaselineReport {
  root: string;
  seed: number;
  rows: BaselineTaskRow[];
  /** Over all test samples, percent. */
  overall: { imageOnly: number; textOnly: number; test: number };
  predictions: { imageOnly: BaselinePrediction[]; textOnly: BaselinePrediction[] };
  seconds: number;
}

/** Options of {@link runBaselines}. */
export interface BaselineOptions {
  /** Seed of the held-out split used to pick the L2 penalty (default 0). */
  seed?: number;
  progress?: ProgressReporter;
}

function pct(ok: number, n: number): number {
  return n ? Math.round((1000 * ok) / n) / 10 : 0;
}

function accuracy(preds: readonly BaselinePrediction[]): number {
  return pct(preds.filter((p) => p.predicted === p.answer).length, preds.length);
}

/**
 * Trains both baselines per task on the train split and scores them on the test split: the
 * image-only classifier (pixel features → option text, trained with mirror-image augmentation)
 * and the text-only one (question + options).
 */
export function runBaselinesOn(loaded: LoadedDataset, options: BaselineOptions = {}): BaselineReport {
  const started = Date.now();
  const seed = options.seed ?? 0;
  const progress = options.progress ?? silentProgress;
  const train = loaded.samples.filter((s) => s.split === 'train');
  const test = loaded.samples.filter((s) => s.split === 'test');
  if (!train.length || !test.length) {
    throw new MedadError(ErrorCode.InvalidData, `${loaded.root} needs both a train and a test split (has ${train.length} train, ${test.length} test)`, {
      fix: 'baselines train on the train split and score the test split; use a dataset with both',
    });
  }
  const cache = new Map<string, Omit<FeaturedSample, 'sample'>>();
  const featured = (s: MedAdSample): FeaturedSample => {
    const withFlips = s.split === 'train';
    let f = cache.get(s.image);
    if (!f || (withFlips && !f.flips)) {
      const img = readImageFile(join(loaded.root, s.image));
      f = {
        features: f?.features ?? imageFeatures(img),
        flips: withFlips
          ? [imageFeatures(flipImage(img, true, false)), imageFeatures(flipImage(img, false, true)), imageFeatures(flipImage(img, true, true))]
          : undefined,
      };
      cache.set(s.image, f);
    }
    return { sample: s, ...f };
  };
  const total = loaded.samples.length;
  progress.start(total, 'baselines: image features');
  let done = 0;
  const byTask = new Map<Task, { train: FeaturedSample[]; test: FeaturedSample[] }>();
  for (const s of loaded.samples) {
    const entry = byTask.get(s.task) ?? { train: [], test: [] };
    entry[s.split === 'train' ? 'train' : 'test'].push(featured(s));
    byTask.set(s.task, entry);
    if (++done % 100 === 0 || done === total) progress.update(done);
  }
  progress.stop();

  const rows: BaselineTaskRow[] = [];
  const imagePreds: BaselinePrediction[] = [];
  const textPreds: BaselinePrediction[] = [];
  progress.start(TASKS.length, 'baselines: training');
  TASKS.forEach((task, i) => {
    const data = byTask.get(task);
    if (!data || !data.train.length || !data.test.length) return;
    const img = predictImageOnly(trainImageOnly(data.train, seed), data.test);
    const txt = predictTextOnly(
      trainTextOnly(data.train.map((x) => x.sample), seed),
      data.test.map((x) => x.sample),
    );
    imagePreds.push(...img);
    textPreds.push(...txt);
    rows.push({ task, train: data.train.length, test: data.test.length, imageOnly: accuracy(img), textOnly: accuracy(txt) });
    progress.update(i + 1, { task });
  });
  progress.stop();
  return {
    root: loaded.root,
    seed,
    rows,
    overall: { imageOnly: accuracy(imagePreds), textOnly: accuracy(textPreds), test: imagePreds.length },
    predictions: { imageOnly: imagePreds, textOnly: textPreds },
    seconds: (Date.now() - started) / 1000,
  };
}

/** Loads a dataset directory and runs both baselines on it. */
export function runBaselines(dir: string, options: BaselineOptions = {}): BaselineReport {
  return runBaselinesOn(loadDatasetDir(dir), options);
}
