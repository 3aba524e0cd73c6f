import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';

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
