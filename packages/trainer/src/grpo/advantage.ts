/** How rewards become advantages (TRL's `scale_rewards`; the paper uses `none`: A = R − mean). */
export type AdvantageScale = 'none' | 'group' | 'batch';

/**
 * Group-relative advantages: each completion's reward minus its group's mean, optionally divided
 * by the group's std (`group`, standard GRPO) or the whole batch's std (`batch`).
 * `rewards[i]` holds the G rewards of prompt i's group.
 */
export function groupRelativeAdvantage(rewards: readonly (readonly number[])[], scale: AdvantageScale = 'none', eps = 1e-4): number[][] {
  const centered = rewards.map((group) => {
    const mean = group.reduce((a, b) => a + b, 0) / Math.max(1, group.length);
    return group.map((r) => r - mean);
  });
  if (scale === 'none') return centered;
  if (scale === 'group') {
    return centered.map((group, i) => {
      const std = sampleStd(rewards[i]!);
      return group.map((a) => a / (std + eps));
    });
  }
  const std = sampleStd(rewards.flat());
  return centered.map((group) => group.map((a) => a / (std + eps)));
}

/** Population std (what GRPO implementations use for group normalisation). */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
}

/** Fraction of groups whose rewards are all equal (they carry no learning signal). */
export function zeroVarianceFraction(rewards: readonly (readonly number[])[]): number {
  if (rewards.length === 0) return 0;
  const flat = rewards.filter((g) => g.every((r) => Math.abs(r - g[0]!) < 1e-12)).length;
  return flat / rewards.length;
}

/**
 * Indices of the groups to train on: every group when `limit` is Infinity, else the first `limit`
 * groups whose rewards are not all equal (DAPO dynamic sampling).
 */
export function selectGroups(groups: readonly (readonly number[])[], limit: number): number[] {
  const all = groups.map((_, i) => i);
  if (!Number.isFinite(limit)) return all;
  return all.filter((i) => zeroVarianceFraction([groups[i]!]) === 0).slice(0, limit);
}
