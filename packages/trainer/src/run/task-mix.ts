import { SeededRng, TASKS, validateTaskWeights, type Task, type TaskWeights } from '@medad/core';

export { parseTaskWeights, validateTaskWeights, type TaskWeights } from '@medad/core';

/** The batch of step `step`: epochs are seeded permutations, so the data cursor is a function of the step. */
export function batchIndices(n: number, batchSize: number, step: number, seed: number): number[] {
  const perEpoch = Math.max(1, Math.floor(n / batchSize));
  const start = (step % perEpoch) * batchSize;
  return epochOrder(n, seed, Math.floor(step / perEpoch)).slice(start, start + batchSize);
}

/** The seeded permutation of epoch `epoch` ({@link batchIndices}). */
function epochOrder(n: number, seed: number, epoch: number): number[] {
  return new SeededRng(seed * 7919 + epoch).shuffle(Array.from({ length: n }, (_, i) => i));
}

/**
 * Batches drawn with per-task weights: every epoch keeps the heaviest tasks' samples whole and a
 * seeded subset of `round(n_t · w_t / max w)` samples of each lighter task, shuffled together, so
 * a task of weight ½ appears half as often per sample. Without weights (or all equal) the batches
 * are exactly {@link batchIndices}'. A pure function of the step, so a resumed run continues the
 * same sequence.
 */
export class TaskMixSampler {
  private readonly n: number;
  private readonly byTask: number[][];
  private readonly counts: number[];
  private readonly poolSize: number;
  private cached: { epoch: number; order: number[] } | null = null;

  constructor(
    tasks: readonly Task[],
    private readonly batchSize: number,
    private readonly seed: number,
    private readonly weights: TaskWeights = {},
  ) {
    validateTaskWeights(weights);
    this.byTask = TASKS.map((t) => tasks.flatMap((x, i) => (x === t ? [i] : [])));
    const w = TASKS.map((t) => weights[t] ?? 1);
    const maxW = Math.max(...TASKS.map((t, k) => (this.byTask[k]!.length ? w[k]! : 0)), 1e-12);
    this.counts = this.byTask.map((idx, k) => (idx.length ? Math.max(1, Math.round((idx.length * w[k]!) / maxW)) : 0));
    this.poolSize = this.counts.reduce((a, b) => a + b, 0);
    this.n = tasks.length;
  }

  /** Whether the weights change anything (some task with samples is drawn less than once per epoch). */
  get weighted(): boolean {
    return this.counts.some((c, k) => c < this.byTask[k]!.length);
  }

  /** Samples per epoch. */
  get epochSize(): number {
    return this.weighted ? this.poolSize : this.n;
  }

  indices(step: number): number[] {
    const perEpoch = Math.max(1, Math.floor(this.epochSize / this.batchSize));
    const epoch = Math.floor(step / perEpoch);
    if (this.cached?.epoch !== epoch) {
      if (this.weighted) {
        const rng = new SeededRng(this.seed * 7919 + epoch);
        const pool = this.byTask.flatMap((idx, k) => (this.counts[k]! < idx.length ? rng.shuffle(idx).slice(0, this.counts[k]!) : idx));
        this.cached = { epoch, order: rng.shuffle(pool) };
      } else this.cached = { epoch, order: epochOrder(this.n, this.seed, epoch) }; // = batchIndices, shuffled once per epoch
    }
    const start = (step % perEpoch) * this.batchSize;
    return this.cached.order.slice(start, start + this.batchSize);
  }
}
