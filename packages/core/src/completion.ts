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

// Where a reasoning starts to conclude: a clause that opens with a conclusion connective ("so",
// "therefore"), a verdict ("this fits", "consistent with") or an answer declaration ("the answer
// is", "answer:", "I choose"). "This is a …" opening a sentence describes, so it is not a cue.
const CONCLUSION_CUE = new RegExp(
  String.raw`(?:[,;:]\s*|[.!?]\s+|\n\s*|^\s*)(?:and\s+)?` +
    String.raw`(?:so|therefore|thus|hence|consequently|overall|in\s+conclusion|this\s+fits|which\s+fits|in\s+keeping\s+with|` +
    String.raw`(?:(?:this|which)\s+is\s+)?(?:consistent|compatible)\s+with|(?:this|which)\s+(?:suggests|indicates|points\s+to)|` +
    String.raw`this\s+is(?!\s+(?:a|an|the)(?![\p{L}\p{N}]))|(?:the\s+)?(?:final\s+|correct\s+|best\s+)?answer\s+(?:is|would\s+be|should\s+be|must\s+be)|` +
    String.raw`(?:final\s+)?answer\s*[:=]|i\s+(?:choose|chose|pick|select))(?![\p{L}\p{N}])`,
  'giu',
);
const SENTENCE_END = /[.!?]+(?=\s|$)|\n+/g;

/**
 * Index where a reasoning's conclusion begins, or -1 when it has none: the first conclusion cue
 * of the last sentence that holds one ("I see tiny bright dots; this fits Calcification, so the
 * answer is (D) Calcification." → at "; this fits"). The conclusion runs from there to the end.
 */
export function conclusionStart(think: string): number {
  const cues = [...think.matchAll(CONCLUSION_CUE)];
  if (cues.length === 0) return -1;
  const sentenceOf = (at: number) => {
    let k = 0;
    for (const m of think.matchAll(SENTENCE_END)) if (m.index + m[0].length <= at) k++;
    return k;
  };
  const word = (m: RegExpExecArray) => m.index + m[0].search(/\p{L}/u);
  const lastSentence = sentenceOf(word(cues[cues.length - 1]!));
  return cues.find((m) => sentenceOf(word(m)) === lastSentence)!.index;
}

/**
 * The findings of a reasoning: the text before its conclusion ({@link conclusionStart}), ending
 * with a full stop ("Evidence: a fan-shaped view. Therefore the answer is (C) Ultrasound." →
 * "Evidence: a fan-shaped view."). A reasoning without a conclusion cue is returned whole
 * (trimmed); one that is only a conclusion gives "". Judges read this under `conclusion: 'strip'`.
 */
export function stripConclusion(think: string): string {
  const at = conclusionStart(think);
  if (at < 0) return think.trim();
  const head = think.slice(0, at).trim();
  return head && !/[.!?]$/.test(head) ? `${head}.` : head;
}

/** How a judge reads a reasoning: `strip` judges the findings only ({@link stripConclusion}), `keep` the whole think. */
export type ConclusionReading = 'strip' | 'keep';
/** The readings, default first. */
export const CONCLUSION_READINGS: readonly ConclusionReading[] = ['strip', 'keep'];

/** The think a judge reads under a {@link ConclusionReading}. */
export function readingOf(think: string, reading: ConclusionReading): string {
  return reading === 'strip' ? stripConclusion(think) : think;
}

/** One place where a text names an option by its text (or an alias of it). */
export interface OptionTextSpan {
  /** Index of the option named. */
  index: number;
  start: number;
  end: number;
}

/** Settings of {@link findOptionTexts}. */
export interface OptionTextSettings {
  /** Other names per option, lower-case option text → aliases ("x-ray" → ["radiograph"]). */
  aliases?: Readonly<Record<string, readonly string[]>>;
}

const WORD = String.raw`[\p{L}\p{N}]`;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A tolerant pattern for a phrase: words separated by any run of spaces, hyphens, underscores or
 * slashes ("X-ray" = "x ray"), an optional plural on a last word of three letters or more, whole
 * words only. Use it case-insensitively with the `u` flag.
 */
export function phrasePattern(phrase: string): string | null {
  const tokens = phrase.trim().replace(/[.]+$/, '').split(/[\s\-_/]+/).filter(Boolean);
  if (tokens.length === 0) return null;
  const body = tokens.map(escapeRegex).join(String.raw`[\s\-_/]*`);
  const last = tokens[tokens.length - 1]!;
  const plural = /^\p{L}{3,}$/u.test(last) ? '(?:e?s)?' : '';
  return String.raw`(?<!${WORD})${body}${plural}(?!${WORD})`;
}

/** Compiled global, case-insensitive, unicode patterns by source, shared by every caller (bounded). */
const COMPILED = new Map<string, RegExp>();
const COMPILED_MAX = 4096;

/**
 * Every match of `pattern` (a regular-expression source, matched with the flags `giu`) in `text`,
 * as [start, end) spans, skipping empty matches. Each source is compiled once per process: the
 * judges and rewards match the same few hundred patterns against every completion of every
 * step, and compiling them again for each call cost a Con-GRPO step ~0.1 s.
 */
export function spansOf(pattern: string, text: string): Array<{ start: number; end: number }> {
  let re = COMPILED.get(pattern);
  if (!re) {
    if (COMPILED.size >= COMPILED_MAX) COMPILED.clear();
    re = new RegExp(pattern, 'giu');
    COMPILED.set(pattern, re);
  }
  const out: Array<{ start: number; end: number }> = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex = m.index + 1;
      continue;
    }
    out.push({ start: m.index, end: m.index + m[0].length });
  }
  re.lastIndex = 0;
  return out;
}

function optionPhrases(text: string, aliases: Readonly<Record<string, readonly string[]>>, allTexts: readonly string[]): string[] {
  const key = text.trim().toLowerCase().replace(/[.]+$/, '');
  const phrases = [text, ...(aliases[key] ?? [])];
  const words = key.split(/\s+/);
  const reversed = words.length === 2 ? `${words[1]} ${words[0]}` : null;
  // "Left Upper" is also said "upper left", unless that is another option's text.
  if (reversed && !allTexts.some((t) => t.trim().toLowerCase() === reversed)) phrases.push(reversed);
  return phrases;
}

/**
 * Which options a text names, by their texts: every whole-word, case-insensitive match of an
 * option text ({@link phrasePattern}), an alias, or a two-word text in reversed order ("upper
 * left" = Left Upper), in reading order. A match inside a longer one is dropped, so "CE-MRI" is
 * never also "MRI". The one place the project answers "which option does this text name".
 */
export function findOptionTexts(text: string, options: readonly string[], settings: OptionTextSettings = {}): OptionTextSpan[] {
  const aliases = settings.aliases ?? {};
  const found: OptionTextSpan[] = [];
  options.slice(0, OPTION_LETTERS.length).forEach((option, index) => {
    if (!option.trim()) return;
    for (const phrase of optionPhrases(option, aliases, options)) {
      const pattern = phrasePattern(phrase);
      if (!pattern) continue;
      for (const m of spansOf(pattern, text)) found.push({ index, ...m });
    }
  });
  // Longest first, and a match inside a longer one is not a mention ("MRI" inside "CE-MRI").
  found.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: OptionTextSpan[] = [];
  for (const s of found) if (!kept.some((k) => s.start < k.end && k.start < s.end)) kept.push(s);
  return kept.sort((a, b) => a.start - b.start || a.index - b.index);
}

/** The option whose text a reasoning names last ({@link findOptionTexts}), or null when it names none. */
export function lastNamedOption(text: string | null, options: readonly string[], settings: OptionTextSettings = {}): OptionLetter | null {
  if (!text) return null;
  const spans = findOptionTexts(text, options, settings);
  const last = spans.reduce<OptionTextSpan | null>((best, s) => (!best || s.end > best.end ? s : best), null);
  return last ? OPTION_LETTERS[last.index]! : null;
}
