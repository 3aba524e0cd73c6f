import * as tf from '@tensorflow/tfjs';
import type { VlmModel } from '@medad/policy';
import { shardLoss, type LossDenominators, type ShardSample } from './shard-loss.js';

/** Gradients (by weight name) and loss shares of one shard. */
export interface ShardGrads {
  grads: Map<string, tf.Tensor>;
  nll: number;
  letterNll: number;
}

/** Gradients of {@link shardLoss} for one shard with respect to every model weight that it reaches. */
export function shardGrads(model: VlmModel, shard: readonly ShardSample[], denom: LossDenominators, focalGamma = 0): ShardGrads {
  const params = model.params;
  const byVar = new Map([...params].map(([name, v]) => [v.name, name]));
  const parts: { nll?: tf.Scalar; letterNll?: tf.Scalar } = {};
  const { value, grads } = tf.variableGrads(() => shardLoss(model, shard, denom, parts, focalGamma), [...params.values()]);
  const nll = parts.nll!.dataSync()[0]!;
  const letterNll = parts.letterNll!.dataSync()[0]!;
  tf.dispose([parts.nll!, parts.letterNll!, value]);
  return { grads: new Map(Object.entries(grads).map(([v, g]) => [byVar.get(v)!, g])), nll, letterNll };
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
