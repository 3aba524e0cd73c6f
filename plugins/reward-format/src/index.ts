import { definePlugin, parseAnswerLetter, z, type Reward, type RewardInput } from '@medad/core';

/** Config of the `format` reward. */
export const formatRewardConfig = z.object({
  /** Also require the think to be non-empty (whitespace does not count). */
  requireThink: z.boolean().default(true),
  /** Also require the answer to name an option: a letter ("B", "(B) CT") or an option's exact text. */
  requireLetter: z.boolean().default(true),
});

/** The format reward's settings. */
export type FormatRewardConfig = z.output<typeof formatRewardConfig>;

/** Eq. 4: 1 when the completion is exactly `<think>…</think>` then `<answer>…</answer>` (plus the configured checks), else 0. */
export function formatScore(x: RewardInput, config: FormatRewardConfig): number {
  const { parsed } = x;
  if (!parsed.wellFormed) return 0;
  if (config.requireThink && !parsed.think?.trim()) return 0;
  if (config.requireLetter) {
    const letter = parsed.answer ?? (parsed.answerText === null ? null : parseAnswerLetter(parsed.answerText, x.sample.options));
    if (letter === null || !x.sample.options[letter.charCodeAt(0) - 65]) return 0;
  }
  return 1;
}

/** The format reward (paper eq. 4): rewards the `<think>…</think><answer>…</answer>` layout. */
export const formatRewardPlugin = definePlugin({
  kind: 'reward',
  id: 'format',
  version: '0.1.0',
  description: 'eq. 4: 1 when the completion is exactly <think>…</think> then <answer>…</answer>, else 0',
  configSchema: formatRewardConfig,
  create: (_deps, config): Reward => ({
    name: 'format',
    score: (batch) => batch.map((x) => formatScore(x, config)),
  }),
});
