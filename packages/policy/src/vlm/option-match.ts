import { ErrorCode, MedadError } from '@medad/core';
import type { WordTokenizer } from './tokenizer.js';

/**
 * Token ids that delimit the options of a prompt (`… Options: (A) x (B) y (C) z (D) w Answer:`,
 * see `renderPrompt`): the opening ` (`, the four letters, the closing `)` and ` Answer` that ends
 * the last option. Stored in `config.json` as `optionMatch` so the model (and any runtime of its
 * ONNX export) can find each option's words from the prompt's ids alone.
 */
export interface OptionMarkers {
  open: number;
  close: number;
  end: number;
  letters: [number, number, number, number];
}

/** Number of options the match features describe (A–D). */
export const OPTION_COUNT = 4;

/** The markers of a tokenizer, or a clear error when one of them is not a single token. */
export function optionMarkers(tokenizer: WordTokenizer): OptionMarkers {
  const one = (text: string): number => {
    const ids = tokenizer.encode(text);
    if (ids.length !== 1) {
      throw new MedadError(ErrorCode.InvalidConfig, `optionMatch needs "${text}" to be one token of the tokenizer, it is ${ids.length}`, {
        fix: 'train the tokenizer on rendered prompts (renderPrompt) so the option markers are in its vocabulary, or turn optionMatch off',
      });
    }
    return ids[0]!;
  };
  return { open: one(' ('), close: one(')'), end: one(' Answer'), letters: [one('A'), one('B'), one('C'), one('D')] };
}

/**
 * The ids of each option's words in a prompt (`(L) words` up to the next option or ` Answer`),
 * read from the prompt's ids; padding and everything outside the options are ignored.
 */
export function optionWordSets(promptIds: ArrayLike<number>, m: OptionMarkers): Set<number>[] {
  const sets = Array.from({ length: OPTION_COUNT }, () => new Set<number>());
  let current = -1;
  for (let t = 0; t < promptIds.length; t++) {
    const x = promptIds[t]!;
    const letter = x === m.open && promptIds[t + 2] === m.close ? (m.letters as readonly number[]).indexOf(promptIds[t + 1]!) : -1;
    if (letter >= 0) {
      current = letter;
      t += 2;
    } else if (x === m.end) {
      if (current === OPTION_COUNT - 1) break;
      current = -1;
    } else if (current >= 0) sets[current]!.add(x);
  }
  return sets;
}

/**
 * Exact-match features (ARCHITECTURE.md): for each token, which options contain that token among
 * their words — `[tokens.length, 4]` of 0/1, written into `out` at `offset` (rows of 4).
 */
export function optionMatchRows(tokens: ArrayLike<number>, sets: readonly Set<number>[], out: Float32Array, offset = 0): Float32Array {
  for (let t = 0; t < tokens.length; t++) {
    const x = tokens[t]!;
    for (let L = 0; L < OPTION_COUNT; L++) if (sets[L]!.has(x)) out[offset + t * OPTION_COUNT + L] = 1;
  }
  return out;
}

/**
 * Features of whole rows `[B, T]` (each row: its prompt, then its completion, padding before or after): each row's
 * option words come from the row itself (the prompt part ends at ` Answer`).
 */
export function optionMatchGrid(ids: ArrayLike<number>, B: number, T: number, m: OptionMarkers): Float32Array {
  const out = new Float32Array(B * T * OPTION_COUNT);
  for (let b = 0; b < B; b++) {
    const row = Array.prototype.slice.call(ids, b * T, (b + 1) * T) as number[];
    optionMatchRows(row, optionWordSets(row, m), out, b * T * OPTION_COUNT);
  }
  return out;
}
