import { OPTION_LETTERS, type OptionLetter } from '@medad/core';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The option a reasoning concludes, judged from the option *texts* it names (not letters):
 * the option whose text is mentioned last; at the same end position the longer text wins
 * (so "CE-MRI" beats "MRI"). Used for think-correctness: does the reasoning name the right finding?
 */
export function concludedOption(think: string | null, options: readonly string[]): OptionLetter | null {
  if (!think) return null;
  const text = think.toLowerCase();
  let best: { end: number; len: number; index: number } | null = null;
  options.forEach((option, index) => {
    const needle = option.trim().toLowerCase();
    if (!needle) return;
    const re = new RegExp(`(?<![a-z0-9-])${escape(needle)}(?![a-z0-9-])`, 'g');
    for (const m of text.matchAll(re)) {
      const end = m.index + m[0].length;
      if (!best || end > best.end || (end === best.end && needle.length > best.len)) best = { end, len: needle.length, index };
    }
  });
  const found = best as { end: number; len: number; index: number } | null;
  return found && found.index < 4 ? OPTION_LETTERS[found.index]! : null;
}
