import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '@medad/core';
import { selectBackend, type ComputeBackend } from './backend.js';
import { generateTokens } from './generate.js';
import { sequenceLogProbs, type EncodedPrompt } from './logprobs.js';
import type { AttentionImpl } from './vlm/attention.js';
import { presetConfig, type VlmConfig, type VlmPreset } from './vlm/config.js';
import { VlmModel } from './vlm/model.js';
import { SPECIAL_IDS } from './vlm/tokenizer.js';
import { OrtGradients } from './onnx/ort-grad.js';
import { openMatmulProbe, openMatmulSet, profiledRun, type MatmulShape } from './onnx/bench.js';

/** Settings of {@link benchPolicy}; defaults mirror SFT on the embedded benchmark. */
export interface PolicyBenchOptions {
  preset?: VlmPreset;
  backend?: ComputeBackend | 'auto';
  attention?: AttentionImpl | 'auto';
  batchSize?: number;
  /** Vocabulary size of the synthetic tokens (the embedded benchmark's tokenizer has ~1k). */
  vocabSize?: number;
  promptLen?: number;
  completionLen?: number;
  trainSteps?: number;
  /** Intra-op threads of the ORT gradient step (default 2). */
  ortThreads?: number;
  /** Rounds of one ORT gradient step and one roofline probe (default 15). */
  interleavedRounds?: number;
  /** Prompts and new tokens for the generation figures. */
  genPrompts?: number;
  genTokens?: number;
  seed?: number;
}

/** What {@link benchPolicy} measured (units in the key names). */
export interface PolicyBenchResult {
  /** Positions (image + text tokens) per second through forward + backward + Adam. */
  train_tokens_per_s: number;
  train_step_ms: number;
  /** Model FLOPs (3× forward matmul FLOPs, attention included) per second of a training step. */
  train_gflops_effective: number;
  gen_tokens_per_s_tfjs_nocache: number;
  gen_tokens_per_s_tfjs_kv: number;
  /**
   * Peak of one plain 2-D matMul on this backend and thread (the best of a 512² square and the
   * model's widest MLP product): the ceiling of any tfjs training step on one thread.
   */
  tfjs_matmul_gflops: number;
  /** The same gradient step (forward + backward, no optimizer) through the ONNX Runtime gradient graph, 2 threads. */
  ort_grad_step_ms: number;
  /** Model FLOPs per second of {@link ort_grad_step_ms}. */
  ort_grad_gflops_effective: number;
  /**
   * The ORT gradient step over the ORT MatMul roofline measured beside it: the median over rounds
   * of one step followed by a probe of about its length (min, max and the probes' median beside).
   */
  ort_grad_fraction_interleaved: number;
  ort_grad_fraction_interleaved_min: number;
  ort_grad_fraction_interleaved_max: number;
  ort_grad_interleaved_rounds: number;
  ort_grad_interleaved_roofline_gflops_median: number;
  /**
   * The step's matrix products alone (the Gemm/MatMul nodes of a profiled step, after ORT's
   * fusions, as one graph of plain MatMuls), ms, timed in the same rounds: what the step would
   * take if every other node were free.
   */
  ort_grad_matmul_only_ms: number;
  /** Median over rounds of matmul-only time over step time: the share of the step its products need. */
  ort_grad_matmul_share: number;
  /** The step's model FLOPs over the matmul-only time, over the probe: the ceiling of {@link ort_grad_fraction_interleaved} with these kernels. */
  ort_grad_matmul_only_fraction_interleaved: number;
  /** FLOPs of those products over the model FLOPs the fractions count (above 1: products the FLOP count leaves out). */
  ort_grad_matmul_flops_over_model_flops: number;
  /** Elementwise and other non-product nodes of the profiled step, and its product nodes. */
  ort_grad_nodes_other: number;
  ort_grad_nodes_matmul: number;
  backend: string;
  preset: string;
  batch_size: number;
  positions_per_sample: number;
  parameters: number;
}

/** Forward matmul FLOPs of one sample with `T` text tokens of which `C` are scored. */
export function forwardFlops(cfg: VlmConfig, P: number, T: number, C: number): number {
  const d = cfg.dModel;
  const perTokenLinear = cfg.nLayers * (2 * 4 * d * d + 2 * 2 * d * cfg.dFF);
  let flops = P * 2 * 3 * cfg.patchSize * cfg.patchSize * d + (P + T) * perTokenLinear;
  // Patch stem: four quarters through 3(p/2)² → C, then 4C → d, per patch.
  if (cfg.patchStem) flops += P * (4 * 2 * 3 * (cfg.patchSize / 2) ** 2 * cfg.patchStem + 2 * 4 * cfg.patchStem * d);
  // Attention: scores and weighted values, 4·keys·d per query per layer.
  flops += cfg.nLayers * P * 4 * P * d;
  for (let t = 0; t < T; t++) flops += cfg.nLayers * 4 * (P + t + 1) * d;
  return flops + C * 2 * d * cfg.vocabSize;
}

function syntheticPrompts(cfg: VlmConfig, n: number, promptLen: number, rng: SeededRng): EncodedPrompt[] {
  const P = (cfg.imageSize / cfg.patchSize) ** 2;
  return Array.from({ length: n }, () => ({
    patches: Float32Array.from({ length: P * 3 * cfg.patchSize ** 2 }, () => rng.uniform(-1, 1)),
    promptIds: [SPECIAL_IDS.image, ...Array.from({ length: promptLen - 1 }, () => 9 + 256 + rng.int(cfg.vocabSize - 265))],
  }));
}

/**
 * Profiles one ORT gradient step (after a warm-up one) in a fresh instance and returns its matrix
 * products and how many other nodes it ran.
 */
async function profileOrtStep(cfg: VlmConfig, threads: number, step: (g: OrtGradients) => Promise<unknown>): Promise<{ matmuls: MatmulShape[]; otherNodes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'medad-ort-profile-'));
  try {
    const g = await OrtGradients.create(cfg, { intraOpNumThreads: threads, profileFilePrefix: join(dir, 'grad') });
    try {
      await step(g);
      await step(g);
    } finally {
      g.endProfiling();
      await g.release();
    }
    // Files of both sessions; the log-prob one never ran, so the last run is the step's.
    return profiledRun(readdirSync(dir).flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Parameters<typeof profiledRun>[0]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function timeIt(fn: () => void, reps: number): number {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

/**
 * Measures the tfjs policy on this machine: training step time and throughput (batch of
 * `batchSize`, cross-entropy on the completion, Adam), and generation tokens/s with and without
 * the KV cache. No assertions: the lead's `npm run bench -- policy` records the numbers.
 */
export async function benchPolicy(options: PolicyBenchOptions = {}): Promise<PolicyBenchResult> {
  const { backend } = await selectBackend({ backend: options.backend });
  const preset = options.preset ?? 'small';
  const B = options.batchSize ?? 16;
  const promptLen = options.promptLen ?? 30;
  const completionLen = options.completionLen ?? 45;
  const cfg = presetConfig(preset, options.vocabSize ?? 1024);
  const rng = new SeededRng(options.seed ?? 1);
  const model = VlmModel.create(cfg, options.seed ?? 1, { attention: options.attention });
  const P = model.imageTokens;
  try {
    const prompts = syntheticPrompts(cfg, B, promptLen, rng);
    const completions = prompts.map(() => Array.from({ length: completionLen }, () => 265 + rng.int(cfg.vocabSize - 265)));
    const optimizer = tf.train.adam(1e-4);
    const vars = [...model.params.values()];
    const step = (): void => {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const { logProbs, mask } = sequenceLogProbs(model, prompts, completions);
          return logProbs.sum().neg().div(mask.sum()) as tf.Scalar;
        }, vars);
        optimizer.applyGradients(grads as Record<string, tf.Variable>);
      });
    };
    const stepMs = timeIt(step, options.trainSteps ?? 5);
    optimizer.dispose();
    const T = promptLen + completionLen;
    const flops = 3 * B * forwardFlops(cfg, P, T, completionLen);
    // The gradient step through ONNX Runtime (what the trainer's default engine runs).
    const ortThreads = options.ortThreads ?? 2;
    const weights = model.weights();
    const coefs = completions.map((c) => Float32Array.from(c, () => -1 / (B * completionLen)));
    const profiled = await profileOrtStep(cfg, ortThreads, (g) => g.run(weights, prompts, completions, coefs));
    const matmuls = await openMatmulSet(profiled.matmuls, ortThreads);
    const ortGrad = await OrtGradients.create(cfg, { intraOpNumThreads: ortThreads });
    const probe = await openMatmulProbe(ortThreads);
    let ortStepMs: number;
    const rounds: Array<{ stepMs: number; matmulMs: number; rooflineGflops: number }> = [];
    try {
      const run = (): Promise<unknown> => ortGrad.run(weights, prompts, completions, coefs);
      for (let i = 0; i < 2; i++) await run();
      const runs = options.trainSteps ?? 5;
      const t0 = performance.now();
      for (let i = 0; i < runs; i++) await run();
      ortStepMs = (performance.now() - t0) / runs;
      // Rounds of one step then the roofline probe, so that each fraction compares the step with
      // the machine's speed of the same second. The probe lasts about two steps: one 512³ product
      // takes ~1.5 ms at the 2-thread speeds measured here (180–330 GFLOP/s).
      await probe.measure(20);
      await matmuls.measure();
      for (let r = 0; r < (options.interleavedRounds ?? 15); r++) {
        const t = performance.now();
        await run();
        const stepMs = performance.now() - t;
        const matmulMs = await matmuls.measure();
        rounds.push({ stepMs, matmulMs, rooflineGflops: await probe.measure(Math.max(5, Math.round((2 * stepMs) / 1.5))) });
      }
    } finally {
      await ortGrad.release();
      await probe.close();
      await matmuls.close();
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const fractions = rounds.map((r) => flops / (r.stepMs / 1000) / 1e9 / r.rooflineGflops);

    const nGen = options.genPrompts ?? 8;
    const genTokens = options.genTokens ?? 32;
    const genPrompts = syntheticPrompts(cfg, nGen, promptLen, rng);
    const genOpts = { greedy: true, maxNewTokens: genTokens, stopIds: [] as number[] };
    const count = (useCache: boolean): number => {
      let tokens = 0;
      const ms = timeIt(() => {
        tokens = generateTokens(model, genPrompts, { ...genOpts, useCache }).flat().reduce((a, g) => a + g.tokens.length, 0);
      }, 1);
      return tokens / (ms / 1000);
    };
    const kv = count(true);
    const nocache = count(false);
    const matmulGflops = Math.max(
      ...[
        [512, 512, 512],
        [B * (P + T), cfg.dModel, cfg.dFF],
      ].map(([m, k, n]) => {
        const a = tf.randomNormal([m!, k!]);
        const b = tf.randomNormal([k!, n!]);
        const ms = timeIt(() => tf.matMul(a, b).dataSync(), 10);
        tf.dispose([a, b]);
        return (2 * m! * k! * n!) / (ms / 1000) / 1e9;
      }),
    );
    return {
      train_tokens_per_s: (B * (P + T)) / (stepMs / 1000),
      train_step_ms: stepMs,
      train_gflops_effective: flops / (stepMs / 1000) / 1e9,
      gen_tokens_per_s_tfjs_nocache: nocache,
      gen_tokens_per_s_tfjs_kv: kv,
      tfjs_matmul_gflops: matmulGflops,
      ort_grad_step_ms: ortStepMs,
      ort_grad_gflops_effective: flops / (ortStepMs / 1000) / 1e9,
      ort_grad_fraction_interleaved: median(fractions),
      ort_grad_fraction_interleaved_min: Math.min(...fractions),
      ort_grad_fraction_interleaved_max: Math.max(...fractions),
      ort_grad_interleaved_rounds: rounds.length,
      ort_grad_interleaved_roofline_gflops_median: median(rounds.map((r) => r.rooflineGflops)),
      ort_grad_matmul_only_ms: median(rounds.map((r) => r.matmulMs)),
      ort_grad_matmul_share: median(rounds.map((r) => r.matmulMs / r.stepMs)),
      ort_grad_matmul_only_fraction_interleaved: median(rounds.map((r) => flops / (r.matmulMs / 1000) / 1e9 / r.rooflineGflops)),
      ort_grad_matmul_flops_over_model_flops: matmuls.flops / flops,
      ort_grad_nodes_other: profiled.otherNodes,
      ort_grad_nodes_matmul: profiled.matmuls.length,
      backend,
      preset,
      batch_size: B,
      positions_per_sample: P + T,
      parameters: model.parameterCount(),
    };
  } finally {
    model.dispose();
  }
}
