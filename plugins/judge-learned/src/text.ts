import { conclusionStart as coreConclusionStart, stripConclusion } from '@medad/core';

/**
 * Text handling of the learned judge: letter masking (the judge never reads option letters),
 * the conclusion clause (removed or rewritten to build training and evaluation variants),
 * tokens and option mentions.
 */

// "(C)", "[c]", "( B )": a letter in brackets.
const BRACKET_LETTER = /[(\[]\s*[A-Da-d]\s*[)\]]/g;
// "option b", "choice C", "letter D": the word stays, the letter goes.
const WORD_LETTER = /\b(option|choice|letter)\s+[A-Da-d](?![\w-])/gi;
// "the answer is D.", "answer: B": a bare capital letter that ends the clause. "the answer is A
// diffuse abnormality" keeps its article because a word follows it.
const ANSWER_LETTER = /\b([Aa]nswer(?:\s+is)?\s*[:=]?\s*)[A-D](?=\s*(?:$|[.,;:!?)\n]))/g;
// "B. CT" or "B) CT" at the start of a line.
const LINE_LETTER = /^(\s*)[A-D][.)]\s+/gm;

/**
 * Removes every option-letter mention from a reasoning and keeps the option texts, so a
 * deduction can only come from what the reasoning says ("(D) Calcification" → "Calcification").
 */
export function maskLetters(think: string): string {
  return think
    .replace(BRACKET_LETTER, ' ')
    .replace(WORD_LETTER, '$1')
    .replace(ANSWER_LETTER, '$1')
    .replace(LINE_LETTER, '$1')
    .replace(/[ \t]+/g, ' ')
    .replace(/ +([.,;:!?])/g, '$1')
    .trim();
}

/** Index where the conclusion clause begins, or -1 (the one definition: `conclusionStart` in @medad/core). */
export const conclusionStart: (think: string) => number = coreConclusionStart;

/**
 * The reasoning without its conclusion clause ("I see tiny bright dots; this fits Calcification,
 * so the answer is (D) Calcification." → "I see tiny bright dots."): `stripConclusion` in @medad/core.
 */
export const removeConclusion: (think: string) => string = stripConclusion;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Rewrites the conclusion clause so it names another option (text and letter), leaving the
 * findings as they were: a reasoning whose conclusion disagrees with its evidence. The judge must
 * follow the conclusion, which is what the reasoning says.
 */
export function swapConclusion(think: string, options: readonly string[], from: number, to: number): string {
  const at = conclusionStart(think);
  if (at < 0) return think;
  const letters = 'ABCD';
  const text = new RegExp(`(?<![\\w-])${escapeRegExp(options[from]!)}(?![\\w-])`, 'gi');
  const tail = think
    .slice(at)
    .replace(text, options[to]!)
    .replaceAll(`(${letters[from]})`, `(${letters[to]})`);
  return think.slice(0, at) + tail;
}

const ARTICLES = new Set(['a', 'an', 'the']);

/** Light stemming so "lesions" matches "lesion" and "dots" matches "dot". */
export function stem(word: string): string {
  return word.length > 3 && word.endsWith('s') && !/(?:ss|us|is)$/.test(word) ? word.slice(0, -1) : word;
}

/** Lower-case stemmed word tokens; hyphens and slashes split words ("CE-MRI" → ce, mri). */
export function tokenize(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).map(stem);
}

/** The tokens an option is mentioned by: its own tokens without a leading article. */
export function optionPhrase(option: string): string[] {
  const tokens = tokenize(option);
  let i = 0;
  while (i < tokens.length - 1 && ARTICLES.has(tokens[i]!)) i++;
  return tokens.slice(i);
}

/** One place where a reasoning names an option by its text. */
export interface TextMention {
  /** Index of the option. */
  option: number;
  /** First token of the mention. */
  start: number;
  /** One past its last token. */
  end: number;
}

function occurrences(tokens: readonly string[], phrase: readonly string[]): number[] {
  const out: number[] = [];
  if (phrase.length === 0) return out;
  outer: for (let i = 0; i + phrase.length <= tokens.length; i++) {
    for (let k = 0; k < phrase.length; k++) if (tokens[i + k] !== phrase[k]) continue outer;
    out.push(i);
  }
  return out;
}

/**
 * Mentions of the option texts in a token sequence, in order. Two-word options also match in
 * reversed order ("upper left" = Left Upper); a match inside a longer one is dropped, so
 * "CE-MRI" never also counts as "MRI".
 */
export function findOptionMentions(tokens: readonly string[], phrases: readonly (readonly string[])[]): TextMention[] {
  const candidates: TextMention[] = [];
  phrases.forEach((phrase, option) => {
    const forms = phrase.length === 2 ? [phrase, [phrase[1]!, phrase[0]!]] : [phrase];
    for (const form of forms) for (const start of occurrences(tokens, form)) candidates.push({ option, start, end: start + form.length });
  });
  candidates.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start || a.option - b.option);
  const taken = new Uint8Array(tokens.length);
  const kept: TextMention[] = [];
  for (const c of candidates) {
    let free = true;
    for (let i = c.start; i < c.end; i++) if (taken[i]) free = false;
    if (!free) continue;
    for (let i = c.start; i < c.end; i++) taken[i] = 1;
    kept.push(c);
  }
  return kept.sort((a, b) => a.start - b.start);
}
