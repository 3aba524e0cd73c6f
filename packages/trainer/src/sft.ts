import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  ErrorCode,
  MedadError,
  RunStatus,
  SeededRng,
  silentLogger,
  silentProgress,
  sftHyperSchema,
  trainComputeSchema,
  type EventSink,
  type SftHyper,
  type TrainCompute,
} from '@medad/core';
import { VlmPolicy, WordTokenizer, type ComputeBackend, type VlmPreset } from '@medad/policy';
import { answerLetterPositions, targetWeights } from './answer-weights.js';
import { AdamW, clipByGlobalNorm } from './optim/adamw.js';
import { warmupCosine } from './optim/schedule.js';
import { baseSamples } from './run/base-targets.js';
import { assertFitsModel, encodeSamples, groundingTargetsOf, openTrainingData, splitSamples, tokenizerCorpus, trainablePolicy, zoomBoxes } from './run/data.js';
import { heldOutEval, summaryMetrics } from './run/heldout.js';
import { readOptimizerState, readTrainerState, saveTrainingCheckpoint, checkpointDir } from './run/checkpoint.js';
import { MetricsLog, type MetricRow } from './run/metrics-log.js';
import type { TrainRunOptions } from './run/options.js';
import { TaskMixSampler } from './run/task-mix.js';
import { engineThreads, gradEngineMessage, resolveGradEngine, startGradientEngine } from './parallel/ort-engine.js';
import { lossDenominators, type ShardSample } from './parallel/shard-loss.js';

export { answerLetterPositions, targetWeights } from './answer-weights.js';

/**
 * Settings of an SFT ("cognitive injection") run: the spec's hyper-parameters and compute settings
 * (`sftHyperSchema`, `trainComputeSchema` in @medad/core, where each is documented and defaulted)
 * plus what the composed run hands in.
 */
export interface SftOptions extends TrainRunOptions, Partial<SftHyper>, Partial<TrainCompute> {
  /**
   * Exact-match option features for a fresh policy (`config.optionMatch`): each token's embedding
   * says which options' words contain it, so a CoT that names the option text before its letter
   * (the synthetic benchmark's default) makes the letter a one-step copy. Default on; ignored when
   * resuming or starting from a checkpoint (its config decides).
   */
  optionMatch?: boolean;
}

/** Defaults for the `small` preset on 2 cores: the spec schema's (see the trainer README for the measurements). */
export const SFT_DEFAULTS = {
  preset: 'small' as VlmPreset,
  seed: 0,
  optionMatch: true,
  ...sftHyperSchema.parse({}),
  ...trainComputeSchema.parse({}),
};

export { DEMO_DEFAULTS } from '@medad/core';

/** What an SFT run returns. */
export interface SftResult {
  policy: VlmPolicy;
  steps: number;
  finalEval: Record<string, number>;
  backend: string;
  resumedFrom: number;
  /** Threads that computed gradients. */
  threads: number;
  /** The engine that computed gradients. */
  gradEngine: 'ort' | 'tfjs';
}

/**
 * Supervised fine-tuning on CoT + answer tokens (image and prompt masked): AdamW, warmup + cosine,
 * global-norm clipping, gradient accumulation, periodic held-out evaluation and atomic checkpoints.
 * Re-running with the same `outDir` resumes from the last checkpoint (weights, optimizer, step),
 * and `metrics.jsonl` keeps each step exactly once.
 */
export async function trainSft(options: SftOptions): Promise<SftResult> {
  const o = { ...SFT_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as SftOptions & typeof SFT_DEFAULTS;
  const log = o.logger ?? silentLogger;
  const progress = o.progress ?? silentProgress;
  const runId = o.runId ?? `sft-${o.seed}`;
  const emit = async (e: Parameters<EventSink['emit']>[0]): Promise<void> => {
    await o.sink?.emit(e);
  };
  if (!(o.grounding >= 0)) {
    throw new MedadError(ErrorCode.BadUserInput, `grounding must be a number ≥ 0, got ${o.grounding}`, { fix: 'pass --grounding 0 (off) or a positive weight such as 1' });
  }
  mkdirSync(o.outDir, { recursive: true });
  const data = await openTrainingData(o.dataset ?? o.dataDir);
  const labelled = splitSamples(data, 'train');
  // The base stage trains on general descriptions and random letters instead of the CoTs and keys.
  const base = o.target === 'base' ? baseSamples(labelled, data, o.seed, o.baseCaption, o.baseMcq) : null;
  const train = base ?? labelled;
  const test = data.list('test');
  // The grounding loss needs boxes and a head: a fresh model gets the head when a train sample has a
  // bbox (the base stage too, untrained, so an SFT started from it keeps the grounding loss).
  const head = o.grounding > 0 && labelled.some((s) => s.bbox);
  let grounding = head && !base ? o.grounding : 0;
  if (o.grounding > 0 && !head) log.info('grounding off: no train sample has a bbox');
  if (base) log.info('base stage: targets are a general description of each image and a uniformly drawn answer letter (no task supervision)');
  const state = readTrainerState(o.outDir);
  let policy: VlmPolicy;
  let startStep = 0;
  if (state) {
    policy = await VlmPolicy.load(checkpointDir(o.outDir), { backend: o.backend });
    startStep = state.step;
    log.info(`resuming SFT from step ${startStep}`, { dir: o.outDir });
  } else if (o.from) {
    const fromDir = readTrainerState(o.from) ? checkpointDir(o.from) : o.from;
    policy = await VlmPolicy.load(fromDir, { backend: o.backend });
    log.info(`starting from the weights and tokenizer of ${fromDir}`);
  } else {
    // The tokenizer knows the CoT words and the base descriptions, so SFT can start from a base checkpoint.
    const corpus = tokenizerCorpus(base ? [...labelled, ...base] : labelled);
    if (o.createPolicy) {
      policy = await trainablePolicy(o.createPolicy, { corpus, seed: o.seed, groundingHead: head });
    } else {
      const config = head ? { groundingHead: true, ...o.modelConfig } : o.modelConfig;
      policy = await VlmPolicy.create({ preset: o.preset, tokenizer: WordTokenizer.train(corpus), seed: o.seed, backend: o.backend, config, optionMatch: o.optionMatch });
    }
  }
  if (grounding > 0 && !policy.model.config.groundingHead) {
    log.warn(`grounding off: the model in ${o.outDir} has no grounding head (the run started without grounding)`);
    grounding = 0;
  }
  const params = policy.model.params as ReadonlyMap<string, tf.Variable>;
  const engine = resolveGradEngine(o.gradEngine, policy.model);
  const threads = engineThreads(engine.engine, o.threads, policy.backend);
  const optimizer = new AdamW(params, { weightDecay: o.weightDecay });
  if (state) optimizer.setState(readOptimizerState(o.outDir));
  const metrics = new MetricsLog(join(o.outDir, 'metrics.jsonl'));
  metrics.openForResume(startStep);
  const runInfo = {
    kind: 'sft',
    runId,
    backend: policy.backend,
    threads,
    gradEngine: engine.engine,
    grounding,
    preset: policy.preset,
    parameters: [...params.values()].reduce((a, p) => a + p.size, 0),
    options: { ...o, sink: undefined, progress: undefined, logger: undefined },
  };
  writeFileSync(join(o.outDir, 'run.json'), JSON.stringify(runInfo, null, 2) + '\n');
  await emit({ type: 'status', runId, status: RunStatus.Running, time: Date.now(), message: `SFT on ${policy.backend}` });
  await emit({ type: 'info', runId, time: Date.now(), info: { backend: policy.backend } });

  // Coarse-to-fine (zoom: oracle): each train sample also appears on its image zoomed into its
  // lesion box, with no grounding target (where to look is learned on the global image).
  const global = encodeSamples(policy, data, train);
  const zoomed = o.zoom === 'oracle' ? encodeSamples(policy, data, train, zoomBoxes(policy, data, train, 'oracle')) : [];
  if (zoomed.length) log.info(`zoom oracle: ${zoomed.length} zoomed copies of the train samples join the ${global.length} global ones`);
  const encTrain = [...global, ...zoomed];
  assertFitsModel(policy.model.config, encTrain, true);
  const trainWeights = o.answerWeight === 1 ? null : encTrain.map((e) => targetWeights(policy.tokenizer, e.target, o.answerWeight));
  const trainLetters = encTrain.map((e) => {
    const m = new Float32Array(e.target.length);
    for (const i of answerLetterPositions(policy.tokenizer, e.target)) m[i] = 1;
    return m;
  });
  const evalRng = new SeededRng(o.seed + 17);
  const encEval = encodeSamples(policy, data, evalRng.shuffle(test).slice(0, o.evalSamples));
  const ground = grounding > 0 ? groundingTargetsOf(policy.model.config, global) : null;
  if (ground) {
    for (const line of ground.skipped.slice(0, 20)) log.warn(`grounding: skipped ${line}`);
    if (ground.skipped.length > 20) log.warn(`grounding: skipped ${ground.skipped.length - 20} more samples with bad boxes`);
    if (ground.annotated === 0) {
      log.warn('grounding off: no train sample has a usable bbox', { fix: 'fix the bbox fields listed above' });
      grounding = 0;
    } else log.info(`grounding loss ×${grounding} on the ${ground.annotated} of ${encTrain.length} train samples with a bbox`);
  }
  const shardSamples: ShardSample[] = encTrain.map((e, i) => ({ prompt: e.prompt, target: e.target, weights: trainWeights?.[i] ?? null, letters: trainLetters[i]!, ground: ground?.targets[i] ?? null }));
  const rng = state ? SeededRng.fromState(state.rng) : new SeededRng(o.seed);
  const sampler = new TaskMixSampler(encTrain.map((e) => e.sample.task), o.batchSize, o.seed, o.taskWeights);
  if (sampler.weighted) log.info(`task weights ${JSON.stringify(o.taskWeights)}: ${sampler.epochSize} of ${train.length} train samples per epoch`);
  const save = async (step: number): Promise<void> => {
    await saveTrainingCheckpoint(o.outDir, policy, optimizer, { kind: 'sft', step, rng: rng.getState(), seed: o.seed, options: runInfo.options, savedAt: new Date().toISOString() });
    await emit({ type: 'checkpoint', runId, step, time: Date.now(), path: checkpointDir(o.outDir) });
  };

  const parallel = await startGradientEngine(engine.engine, policy.model, threads, policy.backend as ComputeBackend);
  log.info(gradEngineMessage(engine, threads));
  let step = startStep;
  let finalEval: Record<string, number> = {};
  try {
    progress.start(o.steps, 'sft', startStep);
    let ranThisCall = 0;
    const t0 = Date.now();
    // Seconds spent in training steps (excluding held-out evaluation and checkpoints) in this call.
    let trainSeconds = 0;
    while (step < o.steps) {
      const started = Date.now();
      let tokens = 0;
      let lossSum = 0;
      let letterLossSum = 0;
      let groundLossSum = 0;
      let grads = new Map<string, tf.Tensor>();
      for (let micro = 0; micro < o.gradAccumulation; micro++) {
        const idx = sampler.indices(step * o.gradAccumulation + micro);
        tokens += idx.reduce((a, i) => a + encTrain[i]!.target.length + encTrain[i]!.prompt.promptIds.length + policy.model.imageTokens, 0);
        const batch = idx.map((i) => shardSamples[i]!);
        const g = await parallel.gradients({ kind: 'sft', shard: batch, denom: lossDenominators(batch), focalGamma: o.focalGamma, grounding });
        lossSum += g.report[0]!;
        letterLossSum += g.report[1]!;
        groundLossSum += g.report[2] ?? 0;
        for (const [name, t] of g.grads) {
          const prev = grads.get(name);
          const scaled = o.gradAccumulation > 1 ? tf.tidy(() => t.div(o.gradAccumulation)) : t;
          if (scaled !== t) t.dispose();
          if (prev) {
            grads.set(name, prev.add(scaled));
            prev.dispose();
            scaled.dispose();
          } else grads.set(name, scaled);
        }
      }
      const clipped = clipByGlobalNorm(grads, o.clipNorm);
      grads = clipped.grads;
      const lr = warmupCosine(step, { lr: o.lr, warmupSteps: o.warmupSteps, totalSteps: o.steps, minLr: o.minLr });
      optimizer.apply(grads, lr);
      parallel.publishWeights();
      tf.dispose([...grads.values()]);
      step++;
      ranThisCall++;
      const seconds = (Date.now() - started) / 1000;
      trainSeconds += seconds;
      const row: MetricRow = {
        step,
        loss: lossSum / o.gradAccumulation,
        loss_letter: letterLossSum / o.gradAccumulation,
        ...(grounding > 0 ? { loss_ground: groundLossSum / o.gradAccumulation } : {}),
        lr,
        grad_norm: clipped.norm,
        tokens_per_s: tokens / Math.max(seconds, 1e-6),
        step_ms: seconds * 1000,
        elapsed_s: (Date.now() - t0) / 1000,
        train_s: trainSeconds,
      };
      const overBudget = o.timeBudget !== undefined && (Date.now() - t0) / 1000 >= o.timeBudget;
      const isLast = step === o.steps || overBudget;
      if ((o.evalEvery > 0 && step % o.evalEvery === 0) || isLast) {
        const summary = await heldOutEval(policy, encEval, { decodeThreads: o.decodeThreads });
        finalEval = summaryMetrics(summary);
        Object.assign(row, finalEval);
        log.info(`step ${step}: held-out accuracy ${summary.overall.toFixed(1)}%, think-correct ${summary.thinkCorrectness.toFixed(1)}%`);
      }
      // Row first, then checkpoint: a kill in between drops rows past the checkpoint on resume
      // (they are recomputed), so each step appears exactly once.
      metrics.append(row);
      if (step % o.saveEvery === 0 || isLast) await save(step);
      await emit({ type: 'metric', runId, step, time: Date.now(), values: Object.fromEntries(Object.entries(row).filter(([, v]) => typeof v === 'number')) as Record<string, number> });
      progress.update(step, { loss: row.loss as number, 'tok/s': Math.round(row.tokens_per_s as number) });
      if (o.stopAfter !== undefined && ranThisCall >= o.stopAfter && !isLast) break;
      if (overBudget) break;
    }
    progress.stop();
    optimizer.dispose();
    if (step === o.steps) await emit({ type: 'status', runId, status: RunStatus.Succeeded, time: Date.now() });
  } finally {
    await parallel.close();
  }
  return { policy, steps: step, finalEval, backend: policy.backend, resumedFrom: startStep, threads, gradEngine: engine.engine };
}
