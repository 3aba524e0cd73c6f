import { OPTION_LETTERS, type OptionLetter } from './domain.js';
import type { ParsedCompletion } from './contracts/reward.js';

const WELL_FORMED = /^\s*<think>([\s\S]*?)<\/think>\s*<answer>([\s\S]*?)<\/answer>\s*$/;
const THINK = /<think>([\s\S]*?)<\/think>/;
const ANSWER = /<answer>([\s\S]*?)<\/answer>/;
const LEADING_LETTER = /^\s*\(?\s*([A-D])\s*(?:[).:\]]|\s|$)/;
const LONE_LETTER = /^\s*\(?\s*([A-D])\s*\)?\s*\.?\s*$/;

function countOf(text: string, tag: string): number {
  return text.split(tag).length - 1;
}

/**
 * The option letter an answer text names: a leading letter ("B", "(B) ...", "B. ..."),
 * or, when options are given, the option whose text it equals (case-insensitive).
 */
export function parseAnswerLetter(answerText: string, options?: readonly string[]): OptionLetter | null {
  const m = LEADING_LETTER.exec(answerText);
  if (m) return m[1] as OptionLetter;
  if (options) {
    const norm = answerText.trim().toLowerCase().replace(/[.\s]+$/, '');
    const i = options.findIndex((o) => o.trim().toLowerCase() === norm);
    if (i >= 0 && i < 4) return OPTION_LETTERS[i]!;
  }
  return null;
}

/** Splits a completion into think and answer and reports whether it has the exact format of eq. 4. */
export function parseCompletion(text: string, options?: readonly string[]): ParsedCompletion {
  const oneEach = ['<think>', '</think>', '<answer>', '</answer>'].every((t) => countOf(text, t) === 1);
  const strict = WELL_FORMED.exec(text);
  const think = THINK.exec(text)?.[1]?.trim() ?? null;
  const answerText = ANSWER.exec(text)?.[1]?.trim() ?? null;
  return {
    think,
    answerText,
    answer: answerText === null ? null : parseAnswerLetter(answerText, options),
    wellFormed: oneEach && strict !== null,
  };
}

/** For outside models: the answer from `<answer>`, or failing that a reply that is a lone option letter. */
export function parseLenientAnswer(text: string, options?: readonly string[]): OptionLetter | null {
  const parsed = parseCompletion(text, options);
  if (parsed.answer) return parsed.answer;
  const lone = LONE_LETTER.exec(text);
  return lone ? (lone[1] as OptionLetter) : null;
}
