import type { Reward, RewardInput } from '@medad/core';

/** A reward with its weight λ in the composite reward. */
export interface WeightedReward {
  reward: Reward;
  weight: number;
}

/** Per-completion composite rewards and each component's scores. */
export interface CompositeScores {
  total: number[];
  /** Component name → per-completion score (null = not applicable). */
  components: Record<string, Array<number | null>>;
}

/**
 * The composite reward R = Σ λk·Rk (paper eq. 7); a component that returns null for a completion
 * contributes nothing to that completion's total.
 */
export async function compositeReward(rewards: readonly WeightedReward[], batch: readonly RewardInput[]): Promise<CompositeScores> {
  const total = new Array<number>(batch.length).fill(0);
  const components: Record<string, Array<number | null>> = {};
  for (const { reward, weight } of rewards) {
    const scores = await reward.score(batch);
    if (scores.length !== batch.length) {
      throw new Error(`reward "${reward.name}" returned ${scores.length} scores for ${batch.length} completions`);
    }
    components[reward.name] = scores;
    scores.forEach((s, i) => {
      if (s !== null) total[i]! += weight * s;
    });
  }
  return { total, components };
}

/** Mean of the non-null entries (NaN when all are null). */
export function meanOf(xs: ReadonlyArray<number | null>): number {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
}
