import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { ErrorCode, MedadError, type BBox, type OptionLetter, type Task } from '@medad/core';

/** One evaluated item, as stored in `predictions.jsonl`. */
export interface Prediction {
  id: string;
  task: Task;
  /** The answer key. */
  answer: OptionLetter;
  /** The model's raw output. */
  raw: string;
  /** The parsed answer letter, or null when none could be read. */
  parsed: OptionLetter | null;
  /** The judge's deduction from question + think, or null. */
  judgeDeduction: OptionLetter | null;
  /** The deduction of the second judge that reads the whole think (`conclusion: 'keep'`), when one ran. */
  judgeDeductionKeep?: OptionLetter | null;
  correct: boolean;
  /** Output has the exact `<think>…</think><answer>…</answer>` format. */
  formatOk: boolean;
  /** The reasoning concludes the right finding (the key's option), whatever the letter says. */
  thinkCorrect: boolean;
  /** Seed of the decoding run that produced it. */
  seed: number;
  /** With zoom: the region the inset enlarged, in the image's pixels (the model's own with `predicted`). */
  zoomBox?: BBox;
}

/** Appends predictions, one JSON object per line. */
export function appendPredictions(file: string, rows: readonly Prediction[]): void {
  if (rows.length) appendFileSync(file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
}

/**
 * Reads `predictions.jsonl`; a torn last line (an interrupted run) is ignored, any other bad
 * line is an error naming the file and line.
 */
export function readPredictions(file: string): Prediction[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Prediction[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const row = JSON.parse(line) as Prediction;
      if (typeof row.id !== 'string' || typeof row.correct !== 'boolean') throw new Error('missing "id" or "correct"');
      out.push(row);
    } catch (err) {
      const last = i === lines.length - 1 || lines.slice(i + 1).every((l) => !l.trim());
      if (last) return;
      throw new MedadError(ErrorCode.InvalidData, `${file}:${i + 1}: not a prediction (${(err as Error).message})`, {
        fix: 'delete the line or the file and re-run the evaluation',
      });
    }
  });
  return out;
}
