import type { OptionLetter } from '../domain.js';

/** What a judge sees: the question, the options and only the policy's reasoning. */
export interface JudgeInput {
  question: string;
  options: readonly [string, string, string, string] | readonly string[];
  think: string;
}

/** The judge contract: deduce which option the reasoning supports, or null when it cannot tell. */
export interface Judge {
  readonly name: string;
  deduce(batch: readonly JudgeInput[]): Promise<Array<OptionLetter | null>>;
}
