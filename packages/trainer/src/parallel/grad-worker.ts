/**
 * Worker-thread side of data-parallel SFT ({@link DataParallel}): holds a replica of the model on
 * its own tfjs backend instance, and per step reads the current weights from shared memory,
 * computes the gradients of its shard (SFT or Con-GRPO loss) and writes them to its shared gradient buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, VlmModel, type ComputeBackend, type VlmConfig } from '@medad/policy';
import { readWeights, shardGrads, type FlatLayout } from './grads.js';
import type { ShardJob } from './shard-loss.js';

/** What the coordinator passes to a worker at start. */
export interface GradWorkerInit {
  config: VlmConfig;
  attention: 'per-sample' | 'batched';
  backend: ComputeBackend;
  layout: FlatLayout;
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

/** A step request: one shard of a batch, with the batch's denominators. */
export type GradWorkerStep = ShardJob;

/** A worker's reply: which weights got a gradient (written to its buffer) and its report. */
export type GradWorkerReply = { type: 'ready' } | { type: 'done'; present: string[]; report: number[] } | { type: 'error'; message: string; stack?: string };

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as GradWorkerInit;
  try {
    await selectBackend({ backend: init.backend });
    const weights = new Float32Array(init.weights);
    const grads = new Float32Array(init.grads);
    const { layout } = init;
    const initial = new Map(layout.names.map((n, i) => [n, weights.slice(layout.offsets[i]!, layout.offsets[i]! + layout.shapes[i]!.reduce((a, b) => a * b, 1))]));
    const model = VlmModel.fromWeights(init.config, initial, { attention: init.attention });
    port.on('message', (msg: GradWorkerStep) => {
      try {
        readWeights(model, layout, weights);
        const r = shardGrads(model, msg);
        const present: string[] = [];
        layout.names.forEach((name, i) => {
          const g = r.grads.get(name);
          if (!g) return;
          grads.set(g.dataSync() as Float32Array, layout.offsets[i]!);
          present.push(name);
        });
        tf.dispose([...r.grads.values()]);
        port.postMessage({ type: 'done', present, report: r.report } satisfies GradWorkerReply);
      } catch (e) {
        port.postMessage({ type: 'error', message: (e as Error).message, stack: (e as Error).stack } satisfies GradWorkerReply);
      }
    });
    port.postMessage({ type: 'ready' } satisfies GradWorkerReply);
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message, stack: (e as Error).stack } satisfies GradWorkerReply);
  }
}

void main();
