import { ErrorCode, MedadError, definePlugin, parseAnswerLetter, z, type Reward, type RewardInput } from '@medad/core';

/** Config of the `care` reward (GRPO-CARE's consistency bonus; unknown fields are an error). */
export const careRewardConfig = z.strictObject({
  /**
   * A correct completion whose answer likelihood is at least (mean of its accurate peers − margin)
   * gets the bonus: GRPO-CARE's `consistency_margin` (0.01 in its general-benchmark script, 0 in
   * its SEED-Bench-R1 one).
   */
  margin: z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1').default(0.01),
  /** Likelihoods are clamped to at most this before comparing (GRPO-CARE's `confidence_upper_bound`, 0.95). */
  confidenceUpperBound: z.number().gt(0, 'must be > 0').max(1, 'must be ≤ 1').default(0.95),
  /** Accept an answer that is an option's exact text ("CT") as that option's letter (as the accuracy reward does). */
  acceptOptionText: z.boolean().default(true),
});

/** The care reward's settings. */
export type CareRewardConfig = z.output<typeof careRewardConfig>;

/** The accuracy GRPO-CARE's bonus builds on: 1 when the answered letter is the key, else 0 (paper eq. 5). */
export function baseAccuracy(x: RewardInput, config: Pick<CareRewardConfig, 'acceptOptionText'>): number {
  const text = x.parsed.answerText;
  return text !== null && parseAnswerLetter(text, config.acceptOptionText ? x.sample.options : undefined) === x.sample.answer ? 1 : 0;
}

/**
 * GRPO-CARE's consistency bonus for one group (the G completions of one prompt), per completion:
 * the accurate completions are those with accuracy > 0.1 and ≥ the group's mean accuracy; their
 * answer likelihoods (clamped to `confidenceUpperBound`) give a mean; an accurate completion whose
 * likelihood is ≥ that mean − `margin` gets its accuracy as bonus, every other completion 0.
 * A completion without a likelihood (no answer tokens) is never accurate here.
 */
export function careBonus(accuracy: readonly number[], likelihood: ReadonlyArray<number | null>, config: Pick<CareRewardConfig, 'margin' | 'confidenceUpperBound'>): number[] {
  const meanAccuracy = accuracy.reduce((a, b) => a + b, 0) / Math.max(1, accuracy.length);
  const confidence = likelihood.map((p) => (p === null ? null : Math.min(p, config.confidenceUpperBound)));
  const accurate = accuracy.map((a, i) => a > 0.1 && a >= meanAccuracy && confidence[i] !== null);
  const selected = confidence.filter((_, i) => accurate[i]) as number[];
  if (!selected.length) return accuracy.map(() => 0);
  const meanConfidence = selected.reduce((a, b) => a + b, 0) / selected.length;
  return accuracy.map((a, i) => (accurate[i] && confidence[i]! >= meanConfidence - config.margin ? a : 0));
}

/**
 * GRPO-CARE (Chen et al., 2025): a bonus for correct completions whose answer is at least as
 * likely given their reasoning, under a slowly-evolving EMA reference of the policy, as their
 * accurate group peers' (`careBonus`). The trainer sets `answerLikelihood` and `group`.
 */
export const careRewardPlugin = definePlugin({
  kind: 'reward',
  id: 'care',
  version: '0.1.0',
  description: "GRPO-CARE's consistency bonus: 1 for a correct completion whose answer likelihood given its think (EMA reference) is ≥ its accurate group peers' mean − margin, else 0",
  configSchema: careRewardConfig,
  create: (_deps, config): Reward => ({
    name: 'care',
    needsAnswerLikelihood: true,
    async score(batch) {
      const missing = batch.filter((x) => x.answerLikelihood === undefined).length;
      if (missing) {
        throw new MedadError(ErrorCode.InvalidConfig, `The care reward got ${missing} completion(s) without an answerLikelihood`, {
          fix: 'run it in the Con-GRPO trainer (it sets answerLikelihood from its EMA reference when a reward has needsAnswerLikelihood), or set answerLikelihood (a number, or null for no answer tokens) on each RewardInput',
        });
      }
      const out = new Array<number>(batch.length).fill(0);
      const groups = new Map<string, number[]>();
      batch.forEach((x, i) => {
        // Without the trainer's group index, completions of one sample form a group.
        const key = x.group === undefined ? `sample:${x.sample.id}` : `group:${x.group}`;
        const members = groups.get(key);
        if (members) members.push(i);
        else groups.set(key, [i]);
      });
      for (const members of groups.values()) {
        const bonus = careBonus(
          members.map((i) => baseAccuracy(batch[i]!, config)),
          members.map((i) => batch[i]!.answerLikelihood ?? null),
          config,
        );
        members.forEach((i, k) => (out[i] = bonus[k]!));
      }
      return out;
    },
  }),
});
