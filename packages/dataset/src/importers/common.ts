import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ErrorCode, MedadError, OPTION_LETTERS, SeededRng, type MedAdSample, type OptionLetter, type Split, type Task } from '@medad/core';
import { OPTION_SETS, balancedLetters, buildOptions } from '../options.js';
import { composeCot, pickQuestion } from '../templates.js';
import { ANATOMIES, ANATOMY_EVIDENCE, MODALITIES, MODALITY_EVIDENCE, PATHOLOGY_EVIDENCE } from '../vocab.js';

/** A file an importer could not use, with the reason. */
export interface ImportSkip {
  path: string;
  reason: string;
}

/** What an importer did. */
export interface ImportReport {
  dir: string;
  /** Input files (or image/mask pairs) turned into samples. */
  imported: number;
  skipped: ImportSkip[];
  images: number;
  samples: number;
  byTask: Partial<Record<Task, number>>;
}

/**
 * A vocabulary input of an import (`--modality`, `--anatomy`): trimmed and matched to the
 * benchmark's spelling whatever its case (`brain` → `Brain`). A value outside the vocabulary is
 * refused, listing the known ones: its questions would have the only answer that never appears as
 * a distractor, which a model learns to spot without looking at the image.
 */
export function vocabularyValue(flag: string, value: string, known: readonly string[]): string {
  const v = value.trim();
  const hit = known.find((k) => k.toLowerCase() === v.toLowerCase());
  if (hit) return hit;
  throw new MedadError(ErrorCode.BadUserInput, `${flag} ${JSON.stringify(value)} is not in the benchmark's vocabulary`, { fix: `use one of: ${known.join(', ')} (any case)` });
}

/** Like {@link vocabularyValue} for an open list (e.g. `--pathology Polyp`): a known value gets its spelling, another is kept trimmed. */
export function openVocabularyValue(value: string, known: readonly string[]): string {
  const v = value.trim();
  return known.find((k) => k.toLowerCase() === v.toLowerCase()) ?? v;
}

/**
 * Runs an import into a temporary sibling of `out` and renames it into place when it succeeded, so
 * a failed import leaves nothing behind and a reader never sees half a dataset. An existing,
 * non-empty `out` is refused unless `force` (then replaced).
 */
export async function importInto<R extends ImportReport>(out: string, force: boolean | undefined, write: (dir: string) => R | Promise<R>): Promise<R> {
  const target = resolve(out);
  if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0) && !force) {
    throw new MedadError(ErrorCode.Conflict, `${target} already exists`, { fix: 'choose another --out, or pass --force to replace it' });
  }
  const tmp = `${target}.importing-${process.pid}-${Date.now()}`;
  mkdirSync(dirname(target), { recursive: true });
  try {
    const report = await write(tmp);
    if (!report.samples) {
      throw new MedadError(ErrorCode.InvalidData, `Nothing to import: ${report.skipped.length} file(s) skipped${report.skipped[0] ? ` (first: ${report.skipped[0].reason})` : ''}`, {
        fix: 'check the inputs and flags named in the reasons',
      });
    }
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    return { ...report, dir: target };
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}

/** One question to make about an imported image: the task, its correct option and the evidence for the CoT. */
export interface ImportQuestion {
  task: Task;
  answer: string;
  evidence: string;
  extra?: Pick<MedAdSample, 'region' | 'bbox' | 'mask'>;
}

/** Evidence for a modality: the vocabulary's description, or a generic phrase for one it does not know. */
export function modalityEvidence(modality: string): string {
  return (MODALITY_EVIDENCE as Record<string, string>)[modality] ?? `the appearance typical of ${modality}`;
}

/** Evidence for an anatomy: the vocabulary's description, or a generic phrase. */
export function anatomyEvidence(anatomy: string): string {
  return (ANATOMY_EVIDENCE as Record<string, string>)[anatomy] ?? `the structures typical of the ${anatomy.toLowerCase()}`;
}

/** Evidence for a pathology: the vocabulary's description, or a generic phrase. */
export function pathologyEvidence(pathology: string): string {
  return (PATHOLOGY_EVIDENCE as Record<string, string>)[pathology] ?? `a lesion with the appearance of ${pathology.toLowerCase()}`;
}

/** The option pool of a task, with the correct answer added when it is outside the vocabulary. */
function poolFor(task: Task, answer: string): readonly string[] {
  const base = OPTION_SETS[task];
  return base.includes(answer) ? base : [answer, ...base];
}

/** A draft sample before its letter and options are fixed. */
export interface Draft {
  key: string;
  image: string;
  modality: string;
  anatomy: string;
  source: string;
  split: Split;
  question: ImportQuestion;
  meta?: Record<string, unknown>;
}

/** Turns drafts into samples: a paraphrased question, four options with letters balanced per task, a CoT. */
export function finishSamples(drafts: readonly Draft[], seed: number): MedAdSample[] {
  const rng = new SeededRng(`import/${seed}`);
  const letters = new Map<string, OptionLetter>();
  for (const task of Object.keys(OPTION_SETS) as Task[]) {
    const mine = drafts.filter((d) => d.question.task === task);
    const ls = balancedLetters(mine.length, rng.fork(`letters/${task}`));
    mine.forEach((d, i) => letters.set(d.key, ls[i]!));
  }
  return drafts.map((d) => {
    const text = rng.fork(d.key);
    const letter = letters.get(d.key) ?? OPTION_LETTERS[0];
    const { options, answer } = buildOptions(d.question.answer, poolFor(d.question.task, d.question.answer), letter, text);
    return {
      id: d.key,
      image: d.image,
      modality: d.modality,
      anatomy: d.anatomy,
      task: d.question.task,
      question: pickQuestion(d.question.task, text),
      options,
      answer,
      cot: composeCot(d.question.evidence, answer, d.question.answer, text),
      source: d.source,
      split: d.split,
      ...(d.question.extra ?? {}),
      ...(d.meta ? { meta: d.meta } : {}),
    };
  });
}

/** Seeded 70/30 assignment of groups (images, volumes) to train/test, so one image never sits in both. */
export function splitGroups(keys: readonly string[], seed: number, trainFraction = 0.7): Map<string, Split> {
  const order = new SeededRng(`import-split/${seed}`).shuffle([...keys].sort());
  const nTrain = keys.length < 2 ? keys.length : Math.min(keys.length - 1, Math.max(1, Math.round(keys.length * trainFraction)));
  return new Map(order.map((k, i) => [k, i < nTrain ? 'train' : 'test']));
}

/** Files directly inside a directory whose names match, sorted. */
export function listFiles(dir: string, pattern: RegExp): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((n) => pattern.test(n) && statSync(join(dir, n)).isFile())
    .sort();
}

/** True when the name is in the benchmark's modality vocabulary. */
export function knownModality(m: string): boolean {
  return (MODALITIES as readonly string[]).includes(m);
}

/** True when the name is in the benchmark's anatomy vocabulary. */
export function knownAnatomy(a: string): boolean {
  return (ANATOMIES as readonly string[]).includes(a);
}

/** Counts samples per task. */
export function countByTask(samples: readonly MedAdSample[]): Partial<Record<Task, number>> {
  const out: Partial<Record<Task, number>> = {};
  for (const s of samples) out[s.task] = (out[s.task] ?? 0) + 1;
  return out;
}
