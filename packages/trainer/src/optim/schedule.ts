/** Learning-rate schedule settings. */
export interface ScheduleOptions {
  /** Peak learning rate. */
  lr: number;
  /** Linear warmup steps from 0 to `lr`. */
  warmupSteps: number;
  /** Total optimisation steps (the cosine reaches `minLr` here). */
  totalSteps: number;
  /** Floor of the cosine decay (default 0.1·lr). */
  minLr?: number;
}

/** Linear warmup then cosine decay to `minLr`; constant `minLr` past `totalSteps`. */
export function warmupCosine(step: number, o: ScheduleOptions): number {
  const minLr = o.minLr ?? o.lr * 0.1;
  if (o.warmupSteps > 0 && step < o.warmupSteps) return (o.lr * (step + 1)) / o.warmupSteps;
  const span = Math.max(1, o.totalSteps - o.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - o.warmupSteps) / span));
  return minLr + 0.5 * (o.lr - minLr) * (1 + Math.cos(Math.PI * progress));
}
