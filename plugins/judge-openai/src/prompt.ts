import { OPTION_LETTERS, type JudgeInput, type OptionLetter } from '@medad/core';

/** Bumped whenever the prompt changes, so cached deductions from an older prompt are not reused. */
export const JUDGE_PROMPT_VERSION = 1;

/** The system message: judge the reasoning, do not solve the question. */
export const JUDGE_SYSTEM_PROMPT =
  'You check the reasoning of a multiple-choice medical question. Read the question, the options and the reasoning, ' +
  'and decide which option the reasoning concludes. Judge only from the reasoning; do not answer the question yourself ' +
  'and do not use the image (you cannot see it). Reply with the single letter of that option, or NONE if the reasoning ' +
  'does not point to any option.';

/** A chat message of the judge prompt. */
export interface JudgeMessage {
  role: 'system' | 'user';
  content: string;
}

/** The chat messages for one judge input: question, lettered options and the reasoning, nothing else. */
export function buildJudgeMessages(input: JudgeInput): JudgeMessage[] {
  const letters = OPTION_LETTERS.slice(0, input.options.length).join(', ');
  const user = [
    `Question: ${input.question.trim()}`,
    'Options:',
    ...input.options.slice(0, OPTION_LETTERS.length).map((o, i) => `(${OPTION_LETTERS[i]}) ${o.trim()}`),
    'Reasoning:',
    '<reasoning>',
    input.think.trim(),
    '</reasoning>',
    `Which option does the reasoning conclude? Reply with one letter (${letters}) or NONE.`,
  ].join('\n');
  return [
    { role: 'system', content: JUDGE_SYSTEM_PROMPT },
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
