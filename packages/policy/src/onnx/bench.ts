import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { ErrorCode, MedadError, SeededRng } from '@medad/core';
import { presetConfig } from '../vlm/config.js';
import { buildOnnxModels } from './export.js';
import { decoderWithoutNewKv } from './fixtures.js';
import { GraphBuilder } from './graph-builder.js';
import { OrtPolicy, type OrtGenerateOptions } from './ort-policy.js';
import { openSessions } from './session.js';
import { randomWeights } from './weights.js';

/** Settings of {@link benchOrt}. */
export interface OrtBenchOptions {
  /** ORT intra-op threads (default 2). */
  threads?: number;
  /** Timed MatMul runs; the best counts (default 40). */
  matmulRuns?: number;
  /** Generation batch (default 8) and new tokens per row (default 64). */
  genBatch?: number;
  genTokens?: number;
  /** Prompt tokens per row (default 32) and vocabulary size of the random `small` model (default 1024). */
  promptTokens?: number;
  vocabSize?: number;
  /** Timed generation runs; the best counts (default 3). */
  genRuns?: number;
}

/** What {@link benchOrt} measures; key names carry their unit. */
export interface OrtBenchResult {
  /** A plain [512×512]·[512×512] float32 MatMul graph: the machine's ORT roofline, GFLOP/s. */
  /** Median 512² MatMul throughput, the mean of a measurement before and after the generation figures. */
  ort_matmul_gflops: number;
  /** The second roofline measurement over the first: far from 1 when the machine changed phase mid-run. */
  ort_matmul_gflops_after_over_before: number;
  /** `small` preset, random weights, batch 8, 64 new tokens with the KV cache (prefill included), tokens/s. */
  gen_tokens_per_s_ort_kv: number;
  /** A default Con-GRPO step's rollouts: 24 prompts × G 8 = 192 rows, 40 sampled tokens each (image encoding and prefill included), tokens/s. */
  rollout_tokens_per_s: number;
  /** `rollout_tokens_per_s` under the name issue 23's goal uses. */
  gen_tokens_per_s_rollout: number;
  /** The same rollouts stepping on the full decoder (it builds the grown `present.*` cache each step) instead of its decode-step variant. */
  rollout_tokens_per_s_full_decoder: number;
  /** The same rollouts with a decoder exported before the `new.*` outputs: every step fetches the grown cache. */
  rollout_tokens_per_s_fetching_cache: number;
  /** The same rollouts on models taking their weights as inputs (the trainer's one session per run, `setWeights` each step). */
  rollout_tokens_per_s_weight_inputs: number;
  /** Exporting the weights into a built-in copy and opening its sessions (encoder, decoder, decode-step decoder: what re-exporting each step costs), ms. */
  rollout_session_open_ms: number;
  /** Decode FLOPs of the rollouts (per token: 2 × weights touched + attention over its context) over the roofline. */
  rollout_fraction_of_ort_roofline: number;
  /** Evaluation's greedy decoding: 64 prompts, 40 tokens each, tokens/s. */
  greedy_tokens_per_s: number;
  /**
   * The rollouts (on the trainer's live model, weights as inputs: compare with
   * `rollout_tokens_per_s_weight_inputs`) and the greedy decoding (compare with
   * `greedy_tokens_per_s`) on one intra-op thread, taking turns with them: the trainers'
   * `compute.decodeThreads` default.
   */
  rollout_tokens_per_s_weight_inputs_1_thread: number;
  greedy_tokens_per_s_1_thread: number;
  ort_backend: string;
  ort_threads: number;
}

/**
 * An open ORT MatMul probe (512³, `threads` intra-op threads): `measure(runs)` gives the GFLOP/s
 * of the median of `runs` products. Kept open, so a bench can interleave it with the work it
 * compares with (this machine's speed drifts by ±30% over minutes, and its CPU quota lets short
 * bursts run far faster than sustained work).
 */
export async function openMatmulProbe(threads: number): Promise<{ measure(runs: number): Promise<number>; close(): Promise<void> }> {
  const n = 512;
  const rng = new SeededRng(1);
  const b = Float32Array.from({ length: n * n }, () => rng.normal());
  const g = new GraphBuilder('matmul_roofline');
  g.input('a', 'float', [n, n]);
  g.op('MatMul', ['a', g.weight('b', b, [n, n])], {}, 'c');
  g.output('c', 'float', [n, n]);
  const { sessions } = await openSessions({ matmul: g.toBytes() }, { intraOpNumThreads: threads, executionProvider: 'cpu' });
  const a = new ort.Tensor('float32', Float32Array.from({ length: n * n }, () => rng.normal()), [n, n]);
  return {
    async measure(runs: number): Promise<number> {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const out = await sessions.matmul.run({ a });
        times.push(performance.now() - t0);
        out.c!.dispose();
      }
      // The median, not the fastest run: single runs burst far above what sustained work gets.
      times.sort((x, y) => x - y);
      return (2 * n ** 3) / (times[Math.floor(times.length / 2)]! / 1000) / 1e9;
    },
    close: () => sessions.matmul.release(),
  };
}

/** `batch` matrix products `[m, k]·[k, n]`. */
export interface MatmulShape {
  batch: number;
  m: number;
  k: number;
  n: number;
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: { op_name?: string; input_type_shape?: Array<Record<string, number[]>>; output_type_shape?: Array<Record<string, number[]>> };
}

const MATMUL_OPS = new Set(['Gemm', 'MatMul', 'FusedMatMul']);

/**
 * The last run recorded in an ORT profile (the Chrome-trace events of a session opened with
 * `profileFilePrefix`): its matrix products (Gemm, MatMul, FusedMatMul, after ORT's fusions) and
 * how many other nodes it ran.
 */
export function profiledRun(events: readonly ProfileEvent[]): { matmuls: MatmulShape[]; otherNodes: number } {
  const runs = events.filter((e) => e.name === 'model_run' && e.ts !== undefined && e.dur !== undefined);
  const last = runs[runs.length - 1];
  if (!last) return { matmuls: [], otherNodes: 0 };
  const prod = (xs: readonly number[]): number => xs.reduce((a, x) => a * x, 1);
  const shapes: MatmulShape[] = [];
  let otherNodes = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.ts! < last.ts! || e.ts! > last.ts! + last.dur!) continue;
    if (!MATMUL_OPS.has(e.args?.op_name ?? '')) {
      otherNodes++;
      continue;
    }
    const out = Object.values(e.args!.output_type_shape![0]!)[0]!;
    const a = Object.values(e.args!.input_type_shape![0]!)[0]!;
    const m = out[out.length - 2]!;
    // A is [.., m, k] or, transposed, [.., k, m]: its last two extents are m and k either way.
    shapes.push({ batch: prod(out.slice(0, -2)), m, k: (a[a.length - 1]! * a[a.length - 2]!) / m, n: out[out.length - 1]! });
  }
  return { matmuls: shapes, otherNodes };
}

/**
 * A graph of exactly these matrix products on random operands (ORT, `threads` intra-op threads):
 * `measure()` gives the ms of one run of them all, the time a step with these products would take
 * if every other node were free. `flops` is their total.
 */
export async function openMatmulSet(shapes: readonly MatmulShape[], threads: number): Promise<{ flops: number; measure(): Promise<number>; close(): Promise<void> }> {
  const rng = new SeededRng(2);
  const g = new GraphBuilder('matmul_set');
  let flops = 0;
  const corners = shapes.map(({ batch, m, k, n }, i) => {
    const random = (len: number): Float32Array => Float32Array.from({ length: len }, () => rng.uniform(-1, 1));
    // 2-D products stay 2-D, as the step's Gemms are.
    const dims = (r: number, c: number): number[] => (batch === 1 ? [r, c] : [batch, r, c]);
    const product = g.op('MatMul', [g.weight(`a${i}`, random(batch * m * k), dims(m, k)), g.weight(`b${i}`, random(batch * k * n), dims(k, n))]);
    flops += 2 * batch * m * k * n;
    // One element of each product reaches the output, so running the graph moves no large tensor to JS.
    return g.op('Slice', [g.op('Flatten', [product], { axis: { int: 0 } }), g.int64([0, 0]), g.int64([1, 1])]);
  });
  g.op('Concat', corners, { axis: { int: 1 } }, 'corners');
  g.output('corners', 'float', [1, shapes.length]);
  // Operands are initializers, so: no graph optimization (it would fold the products into
  // constants) and no prepacking (the step's weights are inputs, never prepacked).
  const session = await ort.InferenceSession.create(g.toBytes(), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'disabled',
    extra: { session: { disable_prepacking: '1' } },
  });
  return {
    flops,
    async measure(): Promise<number> {
      const t0 = performance.now();
      await session.run({});
      return performance.now() - t0;
    },
    close: () => session.release(),
  };
}

async function matmulGflops(threads: number, runs: number): Promise<number> {
  const probe = await openMatmulProbe(threads);
  try {
    // Warm-up for half a second (threads, caches and the CPU's clock), then the measured runs.
    for (const t0 = performance.now(); performance.now() - t0 < 500; ) await probe.measure(1);
    return await probe.measure(runs);
  } finally {
    await probe.close();
  }
}

/**
 * Measures ORT's MatMul roofline and cached generation speed of the `small` preset (random
 * weights; sampled at temperature 1 with no stop token so every row makes all its tokens).
 */
export async function benchOrt(options: OrtBenchOptions = {}): Promise<OrtBenchResult> {
  const threads = options.threads ?? 2;
  const batch = options.genBatch ?? 8;
  const newTokens = options.genTokens ?? 64;
  const promptLen = options.promptTokens ?? 32;
  const gflopsBefore = await matmulGflops(threads, options.matmulRuns ?? 40);
  const cfg = presetConfig('small', options.vocabSize ?? 1024);
  const opened = performance.now();
  const policy = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, randomWeights(cfg, 1, 0.1)), { intraOpNumThreads: threads });
  const openMs = performance.now() - opened;
  const rng = new SeededRng(2);
  const prompts = Array.from({ length: batch }, () => Array.from({ length: promptLen }, () => rng.int(cfg.vocabSize)));
  const pixels = Float32Array.from({ length: batch * 3 * cfg.imageSize ** 2 }, () => rng.uniform(-1, 1));
  const genOptions = { maxNewTokens: newTokens, stopIds: [], eosId: -1, seed: 3 };
  await policy.generate(prompts, pixels, { ...genOptions, maxNewTokens: 4 }); // warm-up
  let best = Infinity;
  for (let r = 0; r < (options.genRuns ?? 3); r++) {
    const t0 = performance.now();
    const out = await policy.generate(prompts, pixels, genOptions);
    best = Math.min(best, performance.now() - t0);
    const made = out.flat().reduce((n, c) => n + c.tokens.length, 0);
    if (made !== batch * newTokens) {
      throw new MedadError(ErrorCode.Internal, `benchOrt generated ${made} tokens, expected ${batch * newTokens}`, {
        fix: 'lower genTokens so prompt + new tokens fit in maxTextLen 160',
      });
    }
  }
  // Rollouts and greedy evaluation at the trainer's shapes, with and without the new.* outputs.
  const models = buildOnnxModels(cfg, randomWeights(cfg, 1, 0.1));
  const legacy = await OrtPolicy.fromModels(cfg, { imageEncoder: models.imageEncoder, decoder: decoderWithoutNewKv(models.decoder) }, { intraOpNumThreads: threads });
  const rolloutPrompts = Array.from({ length: 24 }, () => Array.from({ length: 35 }, () => rng.int(cfg.vocabSize)));
  const rolloutPixels = Float32Array.from({ length: 24 * 3 * cfg.imageSize ** 2 }, () => rng.uniform(-1, 1));
  const rolloutOptions = { groupSize: 8, temperature: 1, maxNewTokens: 40, stopIds: [], eosId: -1, seed: 4 };
  /** Tokens per second of one generation call. */
  const tokensPerS = async (p: OrtPolicy, prompts: number[][], px: Float32Array, opts: OrtGenerateOptions): Promise<number> => {
    const t0 = performance.now();
    const out = await p.generate(prompts, px, opts);
    return out.flat().reduce((n, c) => n + c.tokens.length, 0) / ((performance.now() - t0) / 1000);
  };
  const fullDecoder = await OrtPolicy.fromModels(cfg, { imageEncoder: models.imageEncoder, decoder: models.decoder }, { intraOpNumThreads: threads });
  const inputsModels = buildOnnxModels(cfg, 'inputs');
  const liveWeights = randomWeights(cfg, 1, 0.1);
  const live = await OrtPolicy.fromModels(cfg, inputsModels, { intraOpNumThreads: threads });
  live.setWeights(liveWeights);
  const live1 = await OrtPolicy.fromModels(cfg, inputsModels, { intraOpNumThreads: 1 });
  live1.setWeights(liveWeights);
  // The rollout arms take turns, round after round (fastest round each), so a change of the
  // machine's phase during the bench touches every arm alike.
  const arms = [policy, legacy, fullDecoder, live, live1];
  const fastest = arms.map(() => Infinity);
  let made = 0;
  for (let r = 0; r < (options.genRuns ?? 3) + 1; r++) {
    for (const [i, p] of arms.entries()) {
      const t0 = performance.now();
      const out = await p.generate(rolloutPrompts, rolloutPixels, rolloutOptions);
      fastest[i] = Math.min(fastest[i]!, performance.now() - t0);
      made = out.flat().reduce((n, c) => n + c.tokens.length, 0);
    }
  }
  const [rollout, rolloutLegacy, rolloutFull, rolloutLive, rolloutLive1] = fastest.map((ms) => made / (ms / 1000)) as [number, number, number, number, number];
  await fullDecoder.dispose();
  await live.dispose();
  const greedyPrompts = Array.from({ length: 64 }, () => Array.from({ length: 35 }, () => rng.int(cfg.vocabSize)));
  const greedyPixels = Float32Array.from({ length: 64 * 3 * cfg.imageSize ** 2 }, () => rng.uniform(-1, 1));
  // 2 threads and 1, taking turns as the rollout arms do.
  const greedyOptions = { greedy: true, maxNewTokens: 40, stopIds: [], eosId: -1 };
  await live1.dispose();
  const policy1 = await OrtPolicy.fromModels(cfg, models, { intraOpNumThreads: 1 });
  let greedy = 0;
  let greedy1 = 0;
  for (let r = 0; r < (options.genRuns ?? 3); r++) {
    greedy = Math.max(greedy, await tokensPerS(policy, greedyPrompts, greedyPixels, greedyOptions));
    greedy1 = Math.max(greedy1, await tokensPerS(policy1, greedyPrompts, greedyPixels, greedyOptions));
  }
  await policy1.dispose();
  await legacy.dispose();
  await policy.dispose();
  // The roofline again after the generation figures: the mean of both is what they are compared with,
  // and their ratio shows whether the machine changed phase during the run.
  const gflopsAfter = await matmulGflops(threads, options.matmulRuns ?? 40);
  const gflops = (gflopsBefore + gflopsAfter) / 2;
  // Decode FLOPs per token: every weight matrix once (2 FLOP per weight) and attention over the
  // image, the prompt and half the completion on average.
  const { dModel: d, dFF, nLayers, vocabSize } = cfg;
  const context = policy.imageTokens + 35 + 20;
  const flopsPerToken = 2 * (nLayers * (4 * d * d + 2 * d * dFF) + d * vocabSize) + nLayers * 4 * d * context;
  return {
    ort_matmul_gflops: round(gflops),
    ort_matmul_gflops_after_over_before: round(gflopsAfter / gflopsBefore, 2),
    gen_tokens_per_s_ort_kv: round((batch * newTokens) / (best / 1000)),
    rollout_tokens_per_s: round(rollout),
    // The name issue 23's goal uses for the same figure.
    gen_tokens_per_s_rollout: round(rollout),
    rollout_tokens_per_s_full_decoder: round(rolloutFull),
    rollout_tokens_per_s_fetching_cache: round(rolloutLegacy),
    rollout_tokens_per_s_weight_inputs: round(rolloutLive),
    rollout_session_open_ms: round(openMs),
    rollout_fraction_of_ort_roofline: Math.round((1e4 * rollout * flopsPerToken) / (gflops * 1e9)) / 1e4,
    greedy_tokens_per_s: round(greedy),
    rollout_tokens_per_s_weight_inputs_1_thread: round(rolloutLive1),
    greedy_tokens_per_s_1_thread: round(greedy1),
    ort_backend: policy.provider.backend,
    ort_threads: threads,
  };
}

function round(x: number, digits = 1): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
