import type { WordTokenizer } from '@medad/policy';

const LETTERS = new Set(['A', 'B', 'C', 'D']);

/**
 * Indices of the *answer-letter tokens* of an SFT target: the letter inside `<answer> … </answer>`
 * and the letter of the think's last parenthesised option reference `(X)` — the tokens that map
 * the reasoned-about option to its letter (DESIGN.md §5). Other tokens are not included.
 */
export function answerLetterPositions(tokenizer: WordTokenizer, ids: readonly number[]): number[] {
  const text = ids.map((id) => tokenizer.idToToken(id));
  const out: number[] = [];
  let lastInThink = -1;
  let inAnswer = false;
  for (let i = 0; i < text.length; i++) {
    const t = text[i]!;
    if (t === '<answer>') inAnswer = true;
    else if (t === '</answer>') inAnswer = false;
    else if (LETTERS.has(t.trim())) {
      if (inAnswer) out.push(i);
      else if (text[i - 1]?.trim() === '(' && text[i + 1] === ')') lastInThink = i;
    }
  }
  if (lastInThink >= 0) out.unshift(lastInThink);
  return out;
}

/**
 * Per-token loss weights of an SFT target: 1 everywhere, `answerWeight` on its answer-letter tokens
 * ({@link answerLetterPositions}). With `answerWeight` 1 the result is all ones.
 */
export function targetWeights(tokenizer: WordTokenizer, ids: readonly number[], answerWeight: number): Float32Array {
  const w = new Float32Array(ids.length).fill(1);
  if (answerWeight !== 1) for (const i of answerLetterPositions(tokenizer, ids)) w[i] = answerWeight;
  return w;
}
