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
}

/** The reward contract: one score per completion (null = not applicable to this sample). */
export interface Reward {
  readonly name: string;
  /** Whether the trainer must run the judge before calling `score`. */
  readonly needsJudge?: boolean;
  score(batch: readonly RewardInput[]): Promise<Array<number | null>> | Array<number | null>;
}
