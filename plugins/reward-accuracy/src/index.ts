import { definePlugin, parseAnswerLetter, z, type OptionLetter, type Reward, type RewardInput } from '@medad/core';

/** Config of the `accuracy` reward. */
export const accuracyRewardConfig = z.object({
  /** Accept an answer that is an option's exact text ("CT") as that option's letter. */
  acceptOptionText: z.boolean().default(true),
});

/** The accuracy reward's settings. */
export type AccuracyRewardConfig = z.output<typeof accuracyRewardConfig>;

/** The option letter a completion answers, or null. */
export function answeredLetter(x: RewardInput, config: AccuracyRewardConfig): OptionLetter | null {
  const { parsed } = x;
  if (parsed.answerText === null) return null;
  // Re-read the answer text rather than trust parsed.answer: the trainer may have parsed with or
  // without options, and acceptOptionText must decide the same way in both cases.
  return parseAnswerLetter(parsed.answerText, config.acceptOptionText ? x.sample.options : undefined);
}

/** The accuracy reward (paper eq. 5): 1 when the answered letter equals the sample's key, else 0. */
export const accuracyRewardPlugin = definePlugin({
  kind: 'reward',
  id: 'accuracy',
  version: '0.1.0',
  description: 'eq. 5: 1 when the parsed answer letter equals the key, else 0',
  configSchema: accuracyRewardConfig,
  create: (_deps, config): Reward => ({
    name: 'accuracy',
    score: (batch) => batch.map((x) => (answeredLetter(x, config) === x.sample.answer ? 1 : 0)),
  }),
});
