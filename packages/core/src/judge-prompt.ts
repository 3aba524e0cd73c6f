/**
 * The judge chat prompt, in one place (DESIGN.md §3): how the `openai` judge asks a chat model
 * which option a reasoning supports (`buildJudgeMessages`), how a reply is read
 * (`parseJudgeReply`), and how a server recovers the judge input from such a prompt
 * (`parseJudgePrompt`, what the rule judge's reference server answers with).
 */
import { OPTION_LETTERS, type OptionLetter } from './domain.js';
import type { ConclusionReading } from './completion.js';
import type { JudgeInput } from './contracts/judge.js';

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


/** A chat message as OpenAI-compatible clients send it (text parts only are read). */
export interface ChatMessageIn {
  role?: string;
  content?: string | Array<{ type?: string; text?: string }> | null;
}

/** What {@link parseJudgePrompt} recovers from a chat prompt. */
export type ParsedJudgePrompt = { ok: true; input: JudgeInput } | { ok: false; problem: string };

const OPTION_LINE = /^\s*[(\[]?([A-D])[)\].:]\s*(.+?)\s*$/;
const REASONING_TAG = /<(reasoning|think)>([\s\S]*?)<\/\1>/i;
const REASONING_LABEL = /^\s*(?:reasoning|think(?:ing)?|rationale)\s*:\s*/im;
const TRAILING_INSTRUCTION = /\n\s*(?:which option|what option|reply with|answer with|respond with)[\s\S]*$/i;

function textOf(message: ChatMessageIn): string {
  const c = message.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (p && typeof p.text === 'string' ? p.text : '')).join('\n');
  return '';
}

/**
 * Recovers question, options and reasoning from a judge prompt: the last user message holding
 * `Question: …`, option lines `(A) …` / `A. …` / `A) …`, and the reasoning inside
 * `<reasoning>…</reasoning>` (or `<think>…</think>`, or after a `Reasoning:` label).
 */
export function parseJudgePrompt(messages: readonly ChatMessageIn[]): ParsedJudgePrompt {
  const users = messages.filter((m) => m && (m.role === 'user' || m.role === undefined));
  const text = users.length ? textOf(users[users.length - 1]!) : '';
  if (!text.trim()) return { ok: false, problem: 'no user message with text content' };

  let head: string;
  let think: string;
  const tag = REASONING_TAG.exec(text);
  const label = REASONING_LABEL.exec(text);
  if (tag) {
    think = tag[2]!.trim();
    head = text.slice(0, tag.index).replace(REASONING_LABEL, '');
  } else if (label) {
    think = text.slice(label.index + label[0].length).replace(TRAILING_INSTRUCTION, '').trim();
    head = text.slice(0, label.index);
  } else {
    return { ok: false, problem: 'no reasoning found: put it inside <reasoning>…</reasoning> or after a "Reasoning:" label' };
  }

  const options: string[] = [];
  const questionLines: string[] = [];
  let inQuestion = false;
  for (const line of head.split('\n')) {
    const opt = OPTION_LINE.exec(line);
    if (opt) {
      options['ABCD'.indexOf(opt[1]!)] = opt[2]!;
      inQuestion = false;
      continue;
    }
    const q = /^\s*question\s*:\s*(.*)$/i.exec(line);
    if (q) {
      inQuestion = true;
      if (q[1]!.trim()) questionLines.push(q[1]!.trim());
      continue;
    }
    if (/^\s*(?:options|choices)\s*:?\s*$/i.test(line)) {
      inQuestion = false;
      continue;
    }
    if (inQuestion && line.trim()) questionLines.push(line.trim());
  }
  const count = options.length;
  if (count < 2 || Array.from({ length: count }, (_, i) => options[i]).some((o) => o === undefined)) {
    return { ok: false, problem: 'options must be given as consecutive lines "(A) text", "(B) text", … (at least two)' };
  }
  return { ok: true, input: { question: questionLines.join(' '), options, think } };
}
