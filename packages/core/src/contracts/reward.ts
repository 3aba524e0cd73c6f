import type { MedAdSample, OptionLetter } from '../domain.js';

/** A completion split into its parts (see `parseCompletion`). */
export interface ParsedCompletion {
  /** Text inside `<think>…</think>`, or null when absent. */
  think: string | null;
  /** Text inside `<answer>…</answer>`, or null when absent. */
  answerText: string | null;
  /** The option letter the answer names, or null. */
  answer: OptionLetter | null;
  /** True when the completion is exactly `<think>…</think>` then `<answer>…</answer>` (eq. 4). */
  wellFormed: boolean;
}

/** One completion to score, with everything a reward may need. */
export interface RewardInput {
  sample: MedAdSample;
  completion: string;
  parsed: ParsedCompletion;
  /** The judge's deduction from the think text; set by the trainer when a judge is configured. */
  judgeDeduction?: OptionLetter | null;
  /**
   * Likelihood of the answer given prompt and think under the trainer's EMA reference (the
   * geometric mean probability of the tokens inside `<answer>…</answer>`); set by the trainer when a
   * reward has `needsAnswerLikelihood`, null when the completion has no (non-empty) answer.
   */
  answerLikelihood?: number | null;
  /** Index of the prompt group (the G completions of one prompt) this completion belongs to; set by the trainer. */
  group?: number;
}

/** The reward contract: one score per completion (null = not applicable to this sample). */
export interface Reward {
  readonly name: string;
  /** Whether the trainer must run the judge before calling `score`. */
  readonly needsJudge?: boolean;
  /** Whether the trainer must set `answerLikelihood` (it then keeps an EMA reference of the policy). */
  readonly needsAnswerLikelihood?: boolean;
  score(batch: readonly RewardInput[]): Promise<Array<number | null>> | Array<number | null>;
}
