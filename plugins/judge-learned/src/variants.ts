import { OPTION_LETTERS, letterIndex, type MedAdSample, type SeededRng } from '@medad/core';
import { conclusionStart, maskLetters, removeConclusion, swapConclusion, tokenize } from './text.js';

/** The forms of a ground-truth CoT the held-out report measures. */
export const EVAL_VARIANTS = ['raw', 'lettersMasked', 'wrongLetter', 'conclusionRemoved', 'swappedConclusion'] as const;
/** One of {@link EVAL_VARIANTS}. */
export type EvalVariant = (typeof EVAL_VARIANTS)[number];

/** What each variant is, for reports and the README. */
export const VARIANT_DESCRIPTIONS: Readonly<Record<EvalVariant, string>> = Object.freeze({
  raw: 'the ground-truth CoT as written ("…, so the answer is (D) Calcification.")',
  lettersMasked: 'the CoT with every option letter removed (only option texts remain)',
  wrongLetter: 'the CoT with a wrong letter beside the right option text ("(A) Calcification")',
  conclusionRemoved: 'the findings only: the conclusion clause ("this fits …", "so the answer is …") removed',
  swappedConclusion: 'the conclusion rewritten to name another option; expected: the option concluded, not the one the findings fit',
});

/** A reasoning to judge and the option index it should be deduced as. */
export interface JudgeCase {
  think: string;
  target: number;
}

function nextIndex(i: number, n: number): number {
  return (i + 1) % n;
}

/** The evaluation variants of one sample (deterministic: the wrong letter and the swapped option are the next one). */
export function evaluationCases(sample: MedAdSample): Record<EvalVariant, JudgeCase> {
  const target = letterIndex(sample.answer);
  const n = sample.options.length;
  const other = nextIndex(target, n);
  const cot = sample.cot;
  return {
    raw: { think: cot, target },
    lettersMasked: { think: maskLetters(cot), target },
    wrongLetter: { think: cot.replaceAll(`(${sample.answer})`, `(${OPTION_LETTERS[other]})`), target },
    conclusionRemoved: { think: removeConclusion(maskLetters(cot)), target },
    swappedConclusion: { think: swapConclusion(cot, sample.options, target, other), target: other },
  };
}

// Ways a reasoning rules an option out, before or after its conclusion.
const NEGATIONS_BEFORE = [
  'not {d}',
  'it is not {d}',
  'it is clearly not {d}',
  'this is certainly not {d}',
  'rather than {d}',
  '{d} is ruled out',
  'unlike {d}',
  '{d} is unlikely',
  'not the {d}',
  'definitely not {d}',
];
const NEGATIONS_AFTER = ['not {d}', 'rather than {d}', 'and {d} is ruled out', 'not {d} as the findings differ', 'and not {d}', 'and certainly not {d}'];

/**
 * The words the augmentation adds (negation phrases, "so the answer is"): they belong to the
 * reasoning frame, so training treats them as frame words and never crosses them with options.
 */
export const AUGMENTATION_WORDS: readonly string[] = [
  ...new Set(tokenize([...NEGATIONS_BEFORE, ...NEGATIONS_AFTER].join(' ').replaceAll('{d}', ' ') + ' so the answer is')),
].sort();

/** A training reasoning and its target: a distribution over the options (one-hot when one option is concluded). */
export interface TrainingCase {
  think: string;
  target: number[];
}

function oneHot(i: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => (k === i ? 1 : 0));
}

/** Uniform over the options, leaving out `except` (an option the reasoning rules out). */
function spread(n: number, except = -1): number[] {
  const m = except >= 0 ? n - 1 : n;
  return Array.from({ length: n }, (_, k) => (k === except ? 0 : 1 / m));
}

function withoutFinalStop(s: string): string {
  return s.replace(/[.!?]\s*$/, '');
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * The training cases of one sample: the CoT itself (letters are masked when featurized); its
 * findings alone (so the model learns what findings point to); its conclusion swapped to a random
 * other option (so an explicit conclusion outranks the findings); a negated distractor before or
 * after the conclusion (so "not X" / "X is ruled out" does not count as naming X); an option only
 * ruled out (no option concluded: spread over the rest). With `unrelated` (a sample of another
 * task), that sample's findings, sometimes with a bare letter, asked against this sample's options:
 * nothing here is concluded, so the target is uniform and such reasoning falls below `minConfidence`.
 */
export function trainingCases(sample: MedAdSample, rng: SeededRng, unrelated?: MedAdSample): TrainingCase[] {
  const target = letterIndex(sample.answer);
  const n = sample.options.length;
  const cot = sample.cot;
  const hot = oneHot(target, n);
  const cases: TrainingCase[] = [{ think: cot, target: hot }];
  const at = conclusionStart(cot);
  if (at >= 0) {
    cases.push({ think: removeConclusion(cot), target: hot });
    const swapTo = (target + 1 + rng.int(n - 1)) % n;
    cases.push({ think: swapConclusion(cot, sample.options, target, swapTo), target: oneHot(swapTo, n) });
    const distractor = sample.options[(target + 1 + rng.int(n - 1)) % n]!;
    if (rng.bernoulli(0.5)) {
      const phrase = rng.pick(NEGATIONS_BEFORE).replace('{d}', distractor);
      cases.push({ think: `${withoutFinalStop(removeConclusion(cot))}; ${phrase}${cot.slice(at).replace(/^[.!?]\s+/, '. ')}`, target: hot });
    } else {
      const phrase = rng.pick(NEGATIONS_AFTER).replace('{d}', distractor);
      cases.push({ think: `${withoutFinalStop(cot)}, ${phrase}.`, target: hot });
    }
  }
  const ruledOut = rng.int(n);
  cases.push({ think: `${capitalize(rng.pick(NEGATIONS_BEFORE).replace('{d}', sample.options[ruledOut]!))}.`, target: spread(n, ruledOut) });
  if (unrelated) {
    const findings = removeConclusion(unrelated.cot);
    const think = rng.bernoulli(0.5) ? `${findings} So the answer is (${OPTION_LETTERS[rng.int(n)]}).` : findings;
    cases.push({ think, target: spread(n) });
  }
  return cases;
}
