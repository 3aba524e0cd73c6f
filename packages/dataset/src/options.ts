import { ErrorCode, MedadError, OPTION_LETTERS, REGIONS, letterIndex, type OptionLetter, type SeededRng, type Task } from '@medad/core';
import { ANATOMIES, ANOMALY_FINDINGS, MODALITIES, PATHOLOGIES } from './vocab.js';

/** The option vocabulary of each task: the correct option and the distractors come from it. */
export const OPTION_SETS: Readonly<Record<Task, readonly string[]>> = Object.freeze({
  anatomy_identification: ANATOMIES,
  modality_classification: MODALITIES,
  anomaly_detection: ANOMALY_FINDINGS,
  pathology_characterization: PATHOLOGIES,
  lesion_localization: REGIONS,
});

/** Four options with the correct one at a given letter. */
export interface OptionSet {
  options: [string, string, string, string];
  answer: OptionLetter;
}

/**
 * Places `correct` at `letter` and fills the other three slots with distinct distractors drawn
 * uniformly from `pool`. With uniformly drawn answers, every value is then correct in 1 of 4 of
 * the questions it appears in, so option text alone predicts nothing.
 */
export function buildOptions(correct: string, pool: readonly string[], letter: OptionLetter, rng: SeededRng): OptionSet {
  const others = [...new Set(pool)].filter((o) => o !== correct);
  if (others.length < 3) {
    throw new MedadError(ErrorCode.BadUserInput, `Option pool for "${correct}" has ${others.length} distractors`, {
      fix: 'give an option pool with at least four distinct values',
    });
  }
  const distractors = rng.shuffle(others).slice(0, 3);
  const at = letterIndex(letter);
  const options: string[] = [];
  for (let i = 0, d = 0; i < 4; i++) options.push(i === at ? correct : distractors[d++]!);
  return { options: options as OptionSet['options'], answer: letter };
}

/**
 * `n` answer letters with each letter used floor(n/4) or ceil(n/4) times, in a seeded order
 * (each block of four holds every letter once).
 */
export function balancedLetters(n: number, rng: SeededRng): OptionLetter[] {
  const out: OptionLetter[] = [];
  while (out.length < n) out.push(...rng.shuffle(OPTION_LETTERS));
  return out.slice(0, n);
}

/**
 * `n` values cycling through `values` in seeded blocks, so each value is used equally often
 * (± 1) — how the generator keeps answer contents uniform.
 */
export function balancedValues<T>(values: readonly T[], n: number, rng: SeededRng): T[] {
  const out: T[] = [];
  while (out.length < n) out.push(...rng.shuffle(values));
  return out.slice(0, n);
}
