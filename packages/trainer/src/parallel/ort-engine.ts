import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ErrorCode, MedadError } from '@medad/core';
import { gradientGraphUnsupported, OrtGradients, type ComputeBackend, type VlmModel } from '@medad/policy';
import { DataParallel, resolveThreads } from './data-parallel.js';
import { chunkedGradients, type ShardGrads } from './grads.js';
import { groundingBce, groundingTerm, jobSequences, linearInLogProbs, objectiveFromLogProbs, type ShardJob } from './shard-loss.js';

/** Which engine computes training gradients: `ort` (ONNX Runtime gradient graph), `tfjs` (tfjs autodiff, data-parallel over threads), `auto`. */
export type GradEngineName = 'auto' | 'ort' | 'tfjs';

/** What the SFT and Con-GRPO loops need from a gradient engine. */
export interface GradientEngine {
  /** `ort` or `tfjs`. */
  readonly name: 'ort' | 'tfjs';
  /** Threads the engine computes on. */
  readonly threads: number;
  /** Gradients (by weight name; tensors owned by the caller) and the report of one batch. */
  gradients(job: ShardJob, maxRowsPerPass?: number): Promise<ShardGrads>;
  /** Tells the engine the model's weights changed (call after each optimizer step). */
  publishWeights(): void;
  close(): Promise<void>;
}

/** The engine `auto` resolves to for a model: ORT unless its config needs an op the gradient graph lacks. */
export function resolveGradEngine(requested: GradEngineName | undefined, model: VlmModel): { engine: 'ort' | 'tfjs'; reason?: string } {
  const unsupported = gradientGraphUnsupported(model.config);
  if (requested === 'tfjs') return { engine: 'tfjs' };
  if (requested === 'ort') {
    if (unsupported) throw new MedadError(ErrorCode.BadUserInput, `--grad-engine ort cannot train this model: ${unsupported}`, { fix: 'use --grad-engine tfjs (or auto) for this config' });
    return { engine: 'ort' };
  }
  if (requested !== undefined && requested !== 'auto') {
    throw new MedadError(ErrorCode.BadUserInput, `grad engine must be auto, ort or tfjs, got ${JSON.stringify(requested)}`, { fix: 'pass --grad-engine auto (the default), ort or tfjs' });
  }
  return unsupported ? { engine: 'tfjs', reason: unsupported } : { engine: 'ort' };
}

/** Starts the gradient engine for a model: ORT on `threads` intra-op threads, or tfjs data-parallel over `threads` workers. */
export async function startGradientEngine(engine: 'ort' | 'tfjs', model: VlmModel, threads: number, backend: ComputeBackend): Promise<GradientEngine> {
  return engine === 'ort' ? OrtGradientEngine.start(model, threads) : DataParallel.start(model, threads, backend);
}

/** One log line saying which engine computes gradients, on how many threads, and why. */
export function gradEngineMessage(choice: { engine: 'ort' | 'tfjs'; reason?: string }, threads: number): string {
  if (choice.engine === 'ort') return `gradients through ONNX Runtime on ${threads} thread${threads === 1 ? '' : 's'}`;
  return `gradients through tfjs${threads > 1 ? `, each batch split over ${threads} threads` : ''}${choice.reason ? ` (${choice.reason})` : ''}`;
}

/**
 * Threads of an engine: for `ort`, intra-op threads (`auto` = every core); for `tfjs`, worker
 * threads ({@link resolveThreads}: `auto` = 2 on wasm/cpu with ≥ 2 cores, 1 on tfjs-node).
 */
export function engineThreads(engine: 'ort' | 'tfjs', requested: number | 'auto' | undefined, backend: string): number {
  if (engine === 'tfjs' || (requested !== undefined && requested !== 'auto')) return resolveThreads(requested, backend);
  return Math.max(1, availableParallelism());
}

/**
 * Training gradients through ONNX Runtime ({@link OrtGradients}): the loss is defined once on
 * per-token log-probs ({@link objectiveFromLogProbs}, as in the tfjs engine); its derivative with
 * respect to them (tfjs on a `[B, Tc]` tensor) becomes the per-token coefficients of the ONNX
 * gradient graph. Losses that are not linear in the log-probs (Con-GRPO's ratio, focal weights)
 * take a forward-only pass first. Results equal the tfjs engine's within float tolerance (tested).
 */
export class OrtGradientEngine implements GradientEngine {
  readonly name = 'ort' as const;
  private weights: Map<string, Float32Array> | null = null;

  private constructor(
    readonly model: VlmModel,
    readonly threads: number,
    private readonly ort: OrtGradients,
  ) {}

  static async start(model: VlmModel, threads: number): Promise<OrtGradientEngine> {
    return new OrtGradientEngine(model, threads, await OrtGradients.create(model.config, { intraOpNumThreads: threads }));
  }

  publishWeights(): void {
    this.weights = null;
  }

  gradients(job: ShardJob, maxRowsPerPass = Number.POSITIVE_INFINITY): Promise<ShardGrads> {
    return chunkedGradients(job, Math.max(1, maxRowsPerPass * this.threads), (part) => this.once(part));
  }

  private async once(job: ShardJob): Promise<ShardGrads> {
    this.weights ??= this.model.weights();
    const { prompts, completions } = jobSequences(job);
    const Tc = Math.max(0, ...completions.map((c) => c.length));
    const grid = (rows: readonly ArrayLike<number>[] | null): { logProbs: tf.Tensor2D; mask: tf.Tensor2D } => {
      const lp = new Float32Array(completions.length * Tc);
      const mask = new Float32Array(completions.length * Tc);
      completions.forEach((c, b) => {
        for (let j = 0; j < c.length; j++) {
          mask[b * Tc + j] = 1;
          if (rows) lp[b * Tc + j] = rows[b]![j]!;
        }
      });
      return { logProbs: tf.tensor2d(lp, [completions.length, Tc]), mask: tf.tensor2d(mask, [completions.length, Tc]) };
    };
    // d loss / d log p per token: at the actual log-probs when the loss is not linear in them.
    const before = linearInLogProbs(job) ? null : await this.ort.logProbs(this.weights, prompts, completions);
    const coefs = tf.tidy(() => {
      const { logProbs, mask } = grid(before);
      const x = tf.variable(logProbs, true);
      let report: tf.Tensor | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const r = objectiveFromLogProbs(job, x, mask);
        report = r.report;
        return r.loss;
      }, [x]);
      const g = grads[x.name]!.arraySync() as number[][];
      tf.dispose([report!, value, x]);
      return g;
    });
    const term = groundingTerm(job, this.model.imageTokens);
    const { grads, logProbs, groundLogits } = await this.ort.run(this.weights, prompts, completions, coefs, term ?? undefined);
    const report = tf.tidy(() => {
      const { logProbs: lp, mask } = grid(logProbs);
      const r = objectiveFromLogProbs(job, lp, mask);
      const values = Array.from(r.report.dataSync());
      r.report.dispose();
      return values;
    });
    if (term && groundLogits) report[2] = groundingBce(groundLogits, term, this.model.imageTokens) / term.lambda;
    const shapes = new Map([...this.model.params].map(([n, v]) => [n, v.shape]));
    return { grads: new Map([...grads].map(([n, g]) => [n, tf.tensor(g, shapes.get(n)!, 'float32')])), report };
  }

  async close(): Promise<void> {
    await this.ort.release();
  }
}
