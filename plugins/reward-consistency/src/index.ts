import {
  ErrorCode,
  JudgeToken,
  MedadError,
  definePlugin,
  parseAnswerLetter,
  z,
  type JudgeInput,
  type OptionLetter,
  type Resolver,
  type Reward,
  type RewardInput,
} from '@medad/core';

/** Config of the `consistency` reward (unknown fields are an error). */
export const consistencyRewardConfig = z.strictObject({
  /**
   * When the term pays: `always` (the paper's eq. 6: whenever the judge deduces the answered
   * option) or `correct` (only when that option is also the key — "right for the stated reasons";
   * a consistent wrong answer then earns no more than an inconsistent one).
   */
  when: z.enum(['always', 'correct']).default('always'),
});

/** The consistency reward's settings. */
export type ConsistencyRewardConfig = z.output<typeof consistencyRewardConfig>;

/** The option letter the policy answered (a letter, or an option's exact text), or null. */
export function policyAnswer(x: RewardInput): OptionLetter | null {
  return x.parsed.answerText === null ? null : parseAnswerLetter(x.parsed.answerText, x.sample.options);
}

/**
 * The judge's deductions for a batch: the trainer's `judgeDeduction` where set, otherwise one
 * batched call to the judge registered under `JudgeToken` (only for completions whose score
 * depends on it: a think to read and an answer to compare with).
 */
export async function judgeDeductions(batch: readonly RewardInput[], deps: Resolver): Promise<Array<OptionLetter | null>> {
  const out = batch.map((x) => (x.judgeDeduction === undefined ? null : x.judgeDeduction));
  const missing = batch
    .map((x, i) => ({ x, i }))
    .filter(({ x }) => x.judgeDeduction === undefined && x.parsed.think?.trim() && policyAnswer(x) !== null);
  if (missing.length === 0) return out;
  const judge = deps.tryResolve(JudgeToken);
  if (!judge) {
    throw new MedadError(ErrorCode.InvalidConfig, `The consistency reward got ${missing.length} completion(s) without a judgeDeduction and no judge is registered`, {
      fix: 'configure a judge for the run (e.g. judge "rule"), or register one under JudgeToken in the container, or set judgeDeduction on each RewardInput',
    });
  }
  const inputs: JudgeInput[] = missing.map(({ x }) => ({ question: x.sample.question, options: x.sample.options, think: x.parsed.think! }));
  const deduced = await judge.deduce(inputs);
  if (deduced.length !== inputs.length) {
    throw new MedadError(ErrorCode.Internal, `Judge "${judge.name}" returned ${deduced.length} deductions for ${inputs.length} inputs`, {
      fix: `fix the "${judge.name}" judge: deduce() must return exactly one letter or null per input`,
    });
  }
  missing.forEach(({ i }, k) => (out[i] = deduced[k] ?? null));
  return out;
}

/** The consistency reward (paper eq. 6): 1 when the judge, reading only question and think, deduces the option the policy answered. */
export const consistencyRewardPlugin = definePlugin({
  kind: 'reward',
  id: 'consistency',
  version: '0.1.0',
  description: "eq. 6: 1 when the judge's deduction from question and think equals the policy's answer, else 0 (when: correct — only for correct answers)",
  configSchema: consistencyRewardConfig,
  create: (deps, config): Reward => ({
    name: 'consistency',
    needsJudge: true,
    async score(batch) {
      const deductions = await judgeDeductions(batch, deps);
      return batch.map((x, i) => {
        const answer = policyAnswer(x);
        if (config.when === 'correct' && answer !== x.sample.answer) return 0;
        return answer !== null && deductions[i] === answer ? 1 : 0;
      });
    },
  }),
});
