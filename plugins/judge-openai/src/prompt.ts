import { OPTION_LETTERS, type ConclusionReading, type JudgeInput, type OptionLetter } from '@medad/core';

/** The `keep` prompt's version (part of the cache key); bumped whenever that prompt changes. */
export const JUDGE_PROMPT_VERSION = 1;
/** The `strip` (findings) prompt's version (part of the cache key); bumped whenever that prompt changes. */
export const FINDINGS_PROMPT_VERSION = 2;

/** The prompt version of a reading, for the cache key. */
export function promptVersion(reading: ConclusionReading): number {
  return reading === 'strip' ? FINDINGS_PROMPT_VERSION : JUDGE_PROMPT_VERSION;
}

/** The system message under `keep`: which option the reasoning concludes; do not solve the question. */
export const JUDGE_SYSTEM_PROMPT =
  'You check the reasoning of a multiple-choice medical question. Read the question, the options and the reasoning, ' +
  'and decide which option the reasoning concludes. Judge only from the reasoning; do not answer the question yourself ' +
  'and do not use the image (you cannot see it). Reply with the single letter of that option, or NONE if the reasoning ' +
  'does not point to any option.';

/** The system message under `strip` (default): which option the findings support, whatever the reasoning concludes. */
export const FINDINGS_SYSTEM_PROMPT =
  'You check the reasoning of a multiple-choice medical question. Read the question, the options and the findings of the ' +
  'reasoning: what it says the image shows (the modality, the organ, the appearance and position of any lesion). Decide ' +
  'which option those findings support. Judge from the findings only: ignore any concluding statement or stated answer ' +
  '("so the answer is ..."), do not answer the question yourself and do not use the image (you cannot see it). Reply with ' +
  'the single letter of that option, or NONE if the findings do not point to one option.';

/** A chat message of the judge prompt. */
export interface JudgeMessage {
  role: 'system' | 'user';
  content: string;
}

/**
 * The chat messages for one judge input: question, lettered options and the reasoning, nothing
 * else. Under `strip` the caller passes the findings (`stripConclusion`) and the prompt asks which
 * option they support, ignoring any concluding statement; under `keep`, which option the reasoning concludes.
 */
export function buildJudgeMessages(input: JudgeInput, reading: ConclusionReading = 'keep'): JudgeMessage[] {
  const letters = OPTION_LETTERS.slice(0, input.options.length).join(', ');
  const ask =
    reading === 'strip'
      ? `Which option do the findings of the reasoning support? Ignore any concluding statement. Reply with one letter (${letters}) or NONE.`
      : `Which option does the reasoning conclude? Reply with one letter (${letters}) or NONE.`;
  const user = [
    `Question: ${input.question.trim()}`,
    'Options:',
    ...input.options.slice(0, OPTION_LETTERS.length).map((o, i) => `(${OPTION_LETTERS[i]}) ${o.trim()}`),
    'Reasoning:',
    '<reasoning>',
    input.think.trim(),
    '</reasoning>',
    ask,
  ].join('\n');
  return [
    { role: 'system', content: reading === 'strip' ? FINDINGS_SYSTEM_PROMPT : JUDGE_SYSTEM_PROMPT },
    { role: 'user', content: user },
  ];
}

/** What a judge model replied: an option letter, an explicit "no option", or something unreadable. */
export type JudgeReply = { kind: 'letter'; letter: OptionLetter } | { kind: 'none' } | { kind: 'unparseable' };

const NONE = /^(?:none|n\/a|null|no option|no answer|cannot tell)$/i;
const LONE = /^\(?\s*([A-D])\s*\)?$/i;
const LEADING = /^\(?([A-D])(?:\)|[.:]\s)/;
const LABELLED = /(?<![\p{L}\p{N}])answer\s*(?:is|:|=|-)?\s*\(?([A-D]|none)(?![\p{L}\p{N}])/iu;

/**
 * Reads a judge reply: a lone letter ("B", "(b)"), `<answer>B</answer>`, "Answer: B" /
 * "The answer is (B)", a reply starting "(B) CT", or NONE; reasoning-model `<think>` blocks are
 * skipped. Anything else is unparseable.
 */
export function parseJudgeReply(reply: string, optionCount: number = OPTION_LETTERS.length): JudgeReply {
  let text = reply.replace(/<think>[\s\S]*?<\/think>/gi, '').trim();
  const tag = /<answer>([\s\S]*?)<\/answer>/i.exec(text);
  if (tag) text = tag[1]!.trim();
  text = text.replace(/^[*_`"'\s]+|[*_`"'.\s]+$/g, '');
  if (NONE.test(text)) return { kind: 'none' };
  let raw = LONE.exec(text)?.[1] ?? LEADING.exec(text)?.[1];
  if (!raw) {
    const labelled = LABELLED.exec(text)?.[1];
    // Upper case only after "answer", so "the answer is a lesion" is not read as A.
    if (labelled && NONE.test(labelled)) return { kind: 'none' };
    if (labelled && /^[A-D]$/.test(labelled)) raw = labelled;
  }
  if (!raw) return { kind: 'unparseable' };
  const letter = raw.toUpperCase() as OptionLetter;
  return OPTION_LETTERS.indexOf(letter) < optionCount ? { kind: 'letter', letter } : { kind: 'unparseable' };
}
