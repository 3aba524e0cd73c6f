import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, MedadError, errorMessage, z } from '@medad/core';
import type { HeldOutReport } from './evaluate.js';
import { FeatureVocabulary } from './features.js';
import { LearnedJudgeModel } from './judge-model.js';

/** The checkpoint file inside a learned-judge checkpoint directory. */
export const CHECKPOINT_FILE = 'judge.json';
/** The held-out report written beside it (the same report is inside the checkpoint). */
export const REPORT_FILE = 'report.json';
/** `format` of a learned-judge checkpoint. */
export const CHECKPOINT_FORMAT = 'medad-learned-judge';

const TRAIN_FIX = 'train one with `medad train judge --data DIR --out CKPT` and pass CKPT (the directory) or CKPT/judge.json as "checkpoint"';

const CheckpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(1),
  features: z.object({ context: z.number().int().min(0).max(8), bigrams: z.boolean(), question: z.boolean(), frameWords: z.array(z.string()) }),
  training: z.record(z.string(), z.unknown()),
  report: z.record(z.string(), z.unknown()),
  weights: z.object({ keys: z.array(z.string()), values: z.array(z.number()) }),
});

/** A learned-judge checkpoint: featurizer settings, training record, held-out report and the nonzero weights. */
export interface LearnedJudgeCheckpoint {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  features: LearnedJudgeModel['features'];
  /** How it was trained: data, seed, sizes, epochs, hyper-parameters, seconds. */
  training: Record<string, unknown>;
  report: HeldOutReport;
  /** The nonzero weights by feature key (a key absent here contributes 0, as an unseen one does). */
  weights: { keys: string[]; values: number[] };
}

function nonzeroWeights(model: LearnedJudgeModel): LearnedJudgeCheckpoint['weights'] {
  const keys: string[] = [];
  const values: number[] = [];
  model.vocabulary.keys().forEach((k, i) => {
    const w = model.weights[i]!;
    if (w !== 0) {
      keys.push(k);
      values.push(w);
    }
  });
  return { keys, values };
}

/** The same model without its zero weights: what a checkpoint stores and loads, deduction for deduction. */
export function compactModel(model: LearnedJudgeModel): LearnedJudgeModel {
  const { keys, values } = nonzeroWeights(model);
  return new LearnedJudgeModel({ ...model.features, frameWords: [...model.features.frameWords] }, new FeatureVocabulary(keys), Float32Array.from(values));
}

/** Builds the checkpoint object of a model. */
export function checkpointOf(model: LearnedJudgeModel, training: Record<string, unknown>, report: HeldOutReport): LearnedJudgeCheckpoint {
  return { format: CHECKPOINT_FORMAT, version: 1, features: { ...model.features }, training, report, weights: nonzeroWeights(model) };
}

/** Writes `judge.json` (atomically, via a temporary file) and `report.json` into `dir`; returns the checkpoint file. */
export function saveCheckpoint(dir: string, checkpoint: LearnedJudgeCheckpoint): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, CHECKPOINT_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(checkpoint) + '\n');
  renameSync(tmp, file);
  writeFileSync(join(dir, REPORT_FILE), JSON.stringify({ training: checkpoint.training, report: checkpoint.report }, null, 2) + '\n');
  return file;
}

/** The checkpoint file a path names: the path itself, or `judge.json` inside a directory. */
export function checkpointFile(path: string): string {
  const p = resolve(path);
  return existsSync(p) && statSync(p).isDirectory() ? join(p, CHECKPOINT_FILE) : p;
}

/** Reads a checkpoint (a directory holding `judge.json`, or the file); errors name the file and the fix. */
export function readCheckpoint(path: string): LearnedJudgeCheckpoint {
  const file = checkpointFile(path);
  if (!existsSync(file)) {
    throw new MedadError(ErrorCode.NotFound, `Learned judge checkpoint ${file} does not exist`, { fix: TRAIN_FIX, details: { file } });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MedadError(ErrorCode.InvalidData, `Learned judge checkpoint ${file} is not valid JSON (${errorMessage(err)})`, { cause: err, fix: TRAIN_FIX, details: { file } });
  }
  const parsed = CheckpointSchema.safeParse(raw);
  if (!parsed.success) {
    const what = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new MedadError(ErrorCode.InvalidData, `${file} is not a learned judge checkpoint (${what})`, { fix: TRAIN_FIX, details: { file } });
  }
  const { keys, values } = parsed.data.weights;
  if (keys.length !== values.length || new Set(keys).size !== keys.length) {
    throw new MedadError(ErrorCode.InvalidData, `${file} has corrupt weights (${keys.length} keys, ${new Set(keys).size} distinct, ${values.length} values)`, { fix: TRAIN_FIX, details: { file } });
  }
  // The report is informational (written by training); only the fields the model needs are checked.
  return parsed.data as unknown as LearnedJudgeCheckpoint;
}

/** The model a checkpoint holds. */
export function modelOf(checkpoint: LearnedJudgeCheckpoint): LearnedJudgeModel {
  return new LearnedJudgeModel(checkpoint.features, new FeatureVocabulary(checkpoint.weights.keys), Float32Array.from(checkpoint.weights.values));
}

/** Loads the model of a checkpoint directory or file. */
export function loadLearnedJudgeModel(path: string): LearnedJudgeModel {
  return modelOf(readCheckpoint(path));
}
