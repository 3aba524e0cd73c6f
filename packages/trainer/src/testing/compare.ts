import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { EncodedPrompt } from '@medad/policy';
import type { GrpoShardRow } from '../parallel/shard-loss.js';

/** Values of named tensors (weights or gradients) as plain arrays. */
export const weightArrays = (m: ReadonlyMap<string, tf.Tensor>): Map<string, Float32Array> => new Map([...m].map(([k, t]) => [k, t.dataSync() as Float32Array]));

/** Largest elementwise difference between two same-keyed sets of arrays. */
export function maxDifference(a: ReadonlyMap<string, Float32Array>, b: ReadonlyMap<string, Float32Array>): number {
  let max = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i]! - y[i]!));
  }
  return max;
}

/** The rows of a run directory's metrics.jsonl. */
export const metricRows = (dir: string): Array<Record<string, number>> =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

/**
 * Con-GRPO rows for gradient tests: completion `i` = the first 3 + i mod 4 tokens of `targets[i]`,
 * fixed old/reference log-probs and advantages −1, 0, 1 in turn (so ratios, clipping and KL all act).
 */
export function toyGrpoRows(prompts: readonly EncodedPrompt[], targets: readonly (readonly number[])[]): GrpoShardRow[] {
  return prompts.map((prompt, i) => ({
    prompt,
    completion: targets[i]!.slice(0, 3 + (i % 4)),
    oldLogProbs: Float32Array.from({ length: 3 + (i % 4) }, (_, t) => -2 - 0.1 * t),
    refLogProbs: Float32Array.from({ length: 3 + (i % 4) }, () => -2.5),
    advantage: (i % 3) - 1,
  }));
}
