import * as tf from '@tensorflow/tfjs';
import type { VlmModel } from '@medad/policy';
import { shardObjective, withShard, type ShardJob } from './shard-loss.js';

/** Gradients (by weight name) and the report of one shard ({@link shardObjective}). */
export interface ShardGrads {
  grads: Map<string, tf.Tensor>;
  report: number[];
}

/** Gradients of {@link shardObjective} for one shard with respect to every model weight that it reaches. */
export function shardGrads(model: VlmModel, job: ShardJob): ShardGrads {
  const params = model.params;
  const byVar = new Map([...params].map(([name, v]) => [v.name, name]));
  let report: tf.Tensor1D | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const r = shardObjective(model, job);
    report = r.report;
    return r.loss;
  }, [...params.values()]);
  const values = Array.from(report!.dataSync());
  tf.dispose([report!, value]);
  return { grads: new Map(Object.entries(grads).map(([v, g]) => [byVar.get(v)!, g])), report: values };
}

/** Where each weight sits in one flat Float32 buffer (model.params order). */
export interface FlatLayout {
  names: string[];
  shapes: number[][];
  offsets: number[];
  total: number;
}

/** The flat layout of a model's weights. */
export function flatLayout(model: VlmModel): FlatLayout {
  const names: string[] = [];
  const shapes: number[][] = [];
  const offsets: number[] = [];
  let total = 0;
  for (const [name, v] of model.params) {
    names.push(name);
    shapes.push(v.shape.slice());
    offsets.push(total);
    total += v.size;
  }
  return { names, shapes, offsets, total };
}

/** Copies the model's weights into `flat` (laid out by `layout`). */
export function writeWeights(model: VlmModel, layout: FlatLayout, flat: Float32Array): void {
  layout.names.forEach((name, i) => flat.set(model.params.get(name)!.dataSync() as Float32Array, layout.offsets[i]!));
}

/** Sets the model's weights from `flat` (laid out by `layout`). */
export function readWeights(model: VlmModel, layout: FlatLayout, flat: Float32Array): void {
  layout.names.forEach((name, i) => {
    const size = layout.shapes[i]!.reduce((a, b) => a * b, 1);
    const v = model.params.get(name)!;
    tf.tidy(() => v.assign(tf.tensor(flat.subarray(layout.offsets[i]!, layout.offsets[i]! + size), layout.shapes[i]!, 'float32')));
  });
}

/**
 * Gradients and report of a job run in chunks of at most `chunk` rows (in order), summed: every
 * chunk is normalised by the whole batch's denominators, so the sum is the batch's. One chunk
 * when the job fits. Returned gradient tensors belong to the caller.
 */
export async function chunkedGradients(job: ShardJob, chunk: number, once: (job: ShardJob) => Promise<ShardGrads>): Promise<ShardGrads> {
  if (job.shard.length <= chunk) return once(job);
  let total: ShardGrads | undefined;
  for (let start = 0; start < job.shard.length; start += chunk) {
    const part = await once(withShard(job, job.shard.slice(start, start + chunk)));
    if (!total) {
      total = part;
      continue;
    }
    const acc: ShardGrads = total;
    part.report.forEach((v, k) => (acc.report[k] = (acc.report[k] ?? 0) + v));
    for (const [name, g] of part.grads) {
      const prev = acc.grads.get(name);
      if (prev) {
        acc.grads.set(name, prev.add(g));
        tf.dispose([prev, g]);
      } else acc.grads.set(name, g);
    }
  }
  return total!;
}
