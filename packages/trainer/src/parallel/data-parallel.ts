import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { ErrorCode, MedadError } from '@medad/core';
import type { ComputeBackend, VlmModel } from '@medad/policy';
import type { GradWorkerInit, GradWorkerReply, GradWorkerStep } from './grad-worker.js';
import { chunkedGradients, flatLayout, shardGrads, writeWeights, type FlatLayout, type ShardGrads } from './grads.js';
import { withShard, type ShardJob } from './shard-loss.js';

/**
 * How many threads compute gradients: `auto` = 2 on the single-threaded wasm and cpu backends
 * when the machine has at least 2 cores, else 1 (tfjs-node already uses every core).
 */
export function resolveThreads(requested: number | 'auto' | undefined, backend: string): number {
  if (requested === undefined || requested === 'auto') return backend === 'tensorflow' ? 1 : Math.min(2, Math.max(1, availableParallelism()));
  if (!Number.isInteger(requested) || requested < 1) {
    throw new MedadError(ErrorCode.BadUserInput, `threads must be a positive integer or "auto", got ${JSON.stringify(requested)}`, {
      fix: 'pass --threads auto (the default), 1 or 2',
    });
  }
  return requested;
}

/** Splits a micro-batch into `n` contiguous shards of near-equal size (the first ones one larger). */
export function splitShards<T>(batch: readonly T[], n: number): T[][] {
  const k = Math.min(n, batch.length);
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor(batch.length / k) + (i < batch.length % k ? 1 : 0);
    out.push(batch.slice(start, start + size));
    start += size;
  }
  return out;
}

interface Pending {
  resolve: (r: Extract<GradWorkerReply, { type: 'done' }>) => void;
  reject: (e: Error) => void;
}

/**
 * Data-parallel gradients (SFT or Con-GRPO loss) over worker threads, each with its own tfjs (wasm) instance and a
 * replica of the model. A micro-batch is split into one shard per thread; this thread computes
 * shard 0 while the workers compute the others; every shard's loss is divided by the whole
 * micro-batch's denominators, so the summed gradient equals the micro-batch's (float tolerance;
 * tested). Weights go to the workers and gradients come back through SharedArrayBuffers; the
 * optimizer runs here only, so checkpoints and resume are unchanged.
 */
export class DataParallel {
  readonly name = 'tfjs' as const;
  private readonly pending = new Map<Worker, Pending>();
  private readonly slot: Map<string, number>;
  private closed = false;

  private constructor(
    readonly model: VlmModel,
    readonly threads: number,
    private readonly layout: FlatLayout,
    private readonly weights: Float32Array,
    private readonly workers: Worker[],
    private readonly gradBuffers: Float32Array[],
  ) {
    this.slot = new Map(layout.names.map((n, i) => [n, i]));
  }

  /** Starts `threads − 1` workers holding the model's current weights (1 = no workers). */
  static async start(model: VlmModel, threads: number, backend: ComputeBackend): Promise<DataParallel> {
    const layout = flatLayout(model);
    const bytes = layout.total * Float32Array.BYTES_PER_ELEMENT;
    const weightBuf = new SharedArrayBuffer(threads > 1 ? bytes : 0);
    const weights = new Float32Array(weightBuf);
    if (threads > 1) writeWeights(model, layout, weights);
    const workers: Worker[] = [];
    const gradBuffers: Float32Array[] = [];
    const dp = new DataParallel(model, threads, layout, weights, workers, gradBuffers);
    try {
      for (let i = 1; i < threads; i++) {
        const gradBuf = new SharedArrayBuffer(bytes);
        const init: GradWorkerInit = { config: model.config, attention: model.attention, backend, layout, weights: weightBuf, grads: gradBuf };
        const worker = new Worker(new URL('./grad-worker.js', import.meta.url), { workerData: init });
        workers.push(worker);
        gradBuffers.push(new Float32Array(gradBuf));
        await dp.attach(worker, i);
      }
    } catch (e) {
      await dp.close();
      throw e;
    }
    return dp;
  }

  /** Wires a worker's messages and errors, and waits for it to load the model. */
  private attach(worker: Worker, index: number): Promise<void> {
    const fail = (message: string): Error =>
      new MedadError(ErrorCode.Internal, `Gradient worker ${index} failed: ${message}`, { fix: 'rerun with --threads 1 to train on one thread, and report the error' });
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: GradWorkerReply) => {
        if (m.type === 'ready') {
          ready = true;
          resolve();
          return;
        }
        const p = this.pending.get(worker);
        if (m.type === 'error') {
          const err = fail(m.message);
          if (!ready) reject(err);
          p?.reject(err);
        } else p?.resolve(m);
        this.pending.delete(worker);
      });
      worker.on('error', (e) => {
        const err = fail(e.message);
        if (!ready) reject(err);
        this.pending.get(worker)?.reject(err);
        this.pending.delete(worker);
      });
      worker.on('exit', (code) => {
        if (this.closed) return;
        const err = fail(`exited with code ${code}`);
        if (!ready) reject(err);
        this.pending.get(worker)?.reject(err);
        this.pending.delete(worker);
      });
    });
  }

  /**
   * Gradients and report of one batch (`job` holds the whole batch and its denominators): split
   * over the threads, summed here in shard order (deterministic); batches of more than
   * `threads × maxPerThread` items run as several such passes. Returned gradient tensors belong
   * to the caller.
   */
  gradients(job: ShardJob, maxPerThread = Number.POSITIVE_INFINITY): Promise<ShardGrads> {
    // Larger than one pass may hold (wasm memory): chunks in order, summed.
    return chunkedGradients(job, this.threads * maxPerThread, (part) => this.gradientsOnce(part));
  }

  private async gradientsOnce(job: ShardJob): Promise<ShardGrads> {
    const shards = splitShards<unknown>(job.shard, this.threads).map((part) => withShard(job, part));
    const replies = shards.slice(1).map((shard, i) => {
      const worker = this.workers[i]!;
      return new Promise<Extract<GradWorkerReply, { type: 'done' }>>((resolve, reject) => {
        this.pending.set(worker, { resolve, reject });
        worker.postMessage(shard satisfies GradWorkerStep);
      });
    });
    // Shard 0 runs here while the workers run theirs; a worker failure surfaces after it.
    let local: ShardGrads;
    try {
      local = shardGrads(this.model, shards[0]!);
    } catch (e) {
      await Promise.allSettled(replies);
      throw e;
    }
    let done: Array<Extract<GradWorkerReply, { type: 'done' }>>;
    try {
      done = await Promise.all(replies);
    } catch (e) {
      tf.dispose([...local.grads.values()]);
      throw e;
    }
    const report = local.report.slice();
    const grads = local.grads;
    done.forEach((r, w) => {
      r.report.forEach((v, k) => (report[k] = (report[k] ?? 0) + v));
      const flat = this.gradBuffers[w]!;
      for (const name of r.present) {
        const i = this.slot.get(name)!;
        const size = this.layout.shapes[i]!.reduce((a, b) => a * b, 1);
        const remote = tf.tensor(flat.subarray(this.layout.offsets[i]!, this.layout.offsets[i]! + size), this.layout.shapes[i]!, 'float32');
        const prev = grads.get(name);
        if (prev) {
          grads.set(name, prev.add(remote));
          tf.dispose([prev, remote]);
        } else grads.set(name, remote);
      }
    });
    return { grads, report };
  }

  /** Publishes the model's current weights to the workers (call after each optimizer step). */
  publishWeights(): void {
    if (this.threads > 1) writeWeights(this.model, this.layout, this.weights);
  }

  /** Stops the workers (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
