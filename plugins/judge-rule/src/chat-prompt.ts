import type { JudgeInput } from '@medad/core';

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
