import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  RunStatus,
  SeededRng,
  parseCompletion,
  silentLogger,
  silentProgress,
  type EventSink,
  type Judge,
  type Logger,
  type ProgressReporter,
  type RewardInput,
} from '@medad/core';
import { OrtPolicy, VlmPolicy, buildOnnxModels, generateTokens, type ComputeBackend, type GeneratedSequence, type VlmPreset } from '@medad/policy';
import { groupRelativeAdvantage, zeroVarianceFraction, type AdvantageScale } from './grpo/advantage.js';
import { grpoLoss, grpoStats, type GrpoLossInputs, type LossAggregation } from './grpo/loss.js';
import { compositeReward, meanOf, type WeightedReward } from './grpo/rewards.js';
import { AdamW, clipByGlobalNorm } from './optim/adamw.js';
import { encodeSamples, loadSplit, trainTokenizer, type EncodedSample } from './run/data.js';
import { checkpointDir, readOptimizerState, readTrainerState, saveTrainingCheckpoint } from './run/checkpoint.js';
import { batchPixels, heldOutEval, ortCopy, summaryMetrics } from './run/heldout.js';
import { MetricsLog, type MetricRow } from './run/metrics-log.js';
import { batchIndices } from './sft.js';

/** Settings of a Con-GRPO run (paper eqs. 2–8). */
export interface ConGrpoOptions {
  dataDir: string;
  outDir: string;
  /** SFT checkpoint (or run directory) to start from; omitted = RL-only from a fresh policy. */
  from?: string;
  preset?: VlmPreset;
  rewards: WeightedReward[];
  /** The judge consistency rewards consult (run once per step, shared by all rewards). */
  judge?: Judge;
  seed?: number;
  steps?: number;
  /** Prompts per step; each gets `groupSize` completions. */
  promptsPerStep?: number;
  groupSize?: number;
  temperature?: number;
  topP?: number;
  maxNewTokens?: number;
  lr?: number;
  beta?: number;
  epsilon?: number;
  epsilonHigh?: number;
  advantageScale?: AdvantageScale;
  lossAggregation?: LossAggregation;
  /** μ: optimisation passes over each batch of rollouts. */
  mu?: number;
  clipNorm?: number;
  /** `ort` (ONNX Runtime with the current weights, the default) or `tfjs`. */
  rollout?: 'ort' | 'tfjs';
  evalEvery?: number;
  evalSamples?: number;
  saveEvery?: number;
  backend?: ComputeBackend | 'auto';
  runId?: string;
  sink?: EventSink;
  progress?: ProgressReporter;
  logger?: Logger;
  stopAfter?: number;
  /** Train on these sample indices only (a fixed batch, for tests). */
  fixedIndices?: number[];
}

/** Defaults chosen for the small model (see the trainer README for why they differ from the paper's). */
export const CON_GRPO_DEFAULTS = {
  seed: 0,
  steps: 100,
  promptsPerStep: 8,
  groupSize: 8,
  temperature: 1,
  topP: 1,
  maxNewTokens: 64,
  lr: 1e-4,
  beta: 0.04,
  epsilon: 0.2,
  advantageScale: 'group' as AdvantageScale,
  lossAggregation: 'grpo' as LossAggregation,
  mu: 1,
  clipNorm: 1,
  rollout: 'ort' as const,
  evalEvery: 25,
  evalSamples: 150,
  saveEvery: 25,
};

/** What a Con-GRPO run returns. */
export interface ConGrpoResult {
  policy: VlmPolicy;
  steps: number;
  finalEval: Record<string, number>;
  /** Mean composite reward per completed step, in order. */
  rewardHistory: number[];
}

async function rollouts(o: { engine: 'ort' | 'tfjs'; policy: VlmPolicy; batch: EncodedSample[]; G: number; temperature: number; topP: number; maxNew: number; seed: number }): Promise<GeneratedSequence[][]> {
  const room = o.policy.model.config.maxTextLen - Math.max(...o.batch.map((b) => b.prompt.promptIds.length));
  const opts = { groupSize: o.G, temperature: o.temperature, topP: o.topP, maxNewTokens: Math.min(o.maxNew, room), seed: o.seed };
  if (o.engine === 'tfjs') return generateTokens(o.policy.model, o.batch.map((b) => b.prompt), { ...opts, useCache: true });
  const ort = await ortCopy(o.policy);
  try {
    return await ort.generate(o.batch.map((b) => b.prompt.promptIds), batchPixels(o.batch), opts);
  } finally {
    await ort.dispose();
  }
}

/**
 * Con-GRPO: per prompt, G completions from the current (old) policy — rollouts through ONNX
 * Runtime with the current weights — scored by the weighted rewards (format, accuracy,
 * consistency via the judge), group-relative advantages, the PPO-clipped objective with a k3 KL
 * to the frozen starting policy, μ passes per batch. Resumable like SFT.
 */
export async function trainConGrpo(options: ConGrpoOptions): Promise<ConGrpoResult> {
  const o = { ...CON_GRPO_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as ConGrpoOptions & typeof CON_GRPO_DEFAULTS;
  const log = o.logger ?? silentLogger;
  const progress = o.progress ?? silentProgress;
  const runId = o.runId ?? `con-grpo-${o.seed}`;
  mkdirSync(o.outDir, { recursive: true });
  const { dataset, samples: train } = loadSplit(o.dataDir, 'train');
  const state = readTrainerState(o.outDir);
  const fromDir = o.from ? (readTrainerState(o.from) ? checkpointDir(o.from) : o.from) : undefined;
  const policy = state
    ? await VlmPolicy.load(checkpointDir(o.outDir), { backend: o.backend })
    : fromDir
      ? await VlmPolicy.load(fromDir, { backend: o.backend })
      : await VlmPolicy.create({ preset: o.preset ?? 'small', tokenizer: trainTokenizer(train), seed: o.seed, backend: o.backend });
  // The frozen reference: the starting policy (SFT checkpoint, or the fresh init for RL-only).
  const reference = fromDir ? await VlmPolicy.load(fromDir, { backend: o.backend }) : state ? await VlmPolicy.load(checkpointDir(o.outDir), { backend: o.backend }) : null;
  const refModels = buildOnnxModels(policy.model.config, (reference ?? policy).model.weights());
  reference?.dispose();
  const refOrt = o.beta > 0 ? await OrtPolicy.fromModels(policy.model.config, refModels) : null;
  const params = policy.model.params as ReadonlyMap<string, tf.Variable>;
  const optimizer = new AdamW(params, { weightDecay: 0 });
  const startStep = state?.step ?? 0;
  if (state) optimizer.setState(readOptimizerState(o.outDir));
  const metrics = new MetricsLog(join(o.outDir, 'metrics.jsonl'));
  const previous = metrics.openForResume(startStep);
  const rewardHistory = previous.map((r) => Number(r['reward_mean']));
  const runInfo = {
    kind: 'con-grpo',
    runId,
    backend: policy.backend,
    rollout: o.rollout,
    from: o.from ?? null,
    rewards: o.rewards.map((r) => ({ name: r.reward.name, weight: r.weight })),
    judge: o.judge?.name ?? null,
    options: { ...o, rewards: undefined, judge: undefined, sink: undefined, progress: undefined, logger: undefined },
  };
  writeFileSync(join(o.outDir, 'run.json'), JSON.stringify(runInfo, null, 2) + '\n');
  await o.sink?.emit({ type: 'status', runId, status: RunStatus.Running, time: Date.now(), message: `Con-GRPO on ${policy.backend}, rollouts via ${o.rollout}` });
  await o.sink?.emit({ type: 'info', runId, time: Date.now(), info: { backend: policy.backend, rollout: o.rollout } });

  const encTrain = encodeSamples(policy, dataset.root, o.fixedIndices ? o.fixedIndices.map((i) => train[i]!) : train);
  const test = dataset.list('test');
  const encEval = o.evalSamples > 0 && test.length ? encodeSamples(policy, dataset.root, new SeededRng(o.seed + 17).shuffle(test).slice(0, o.evalSamples)) : [];
  const vars = [...params.values()];
  const varNames = new Map([...params].map(([name, v]) => [v.name, name]));
  const rng = state ? SeededRng.fromState(state.rng) : new SeededRng(o.seed);
  const needsJudge = o.rewards.some((r) => r.reward.needsJudge);
  progress.start(o.steps, 'con-grpo');
  let step = startStep;
  let ran = 0;
  let finalEval: Record<string, number> = {};
  while (step < o.steps) {
    const t0 = Date.now();
    const idx = o.fixedIndices ? encTrain.map((_, i) => i) : batchIndices(encTrain.length, o.promptsPerStep, step, o.seed + 101);
    const batch = idx.map((i) => encTrain[i]!);
    const groups = await rollouts({ engine: o.rollout, policy, batch, G: o.groupSize, temperature: o.temperature, topP: o.topP, maxNew: o.maxNewTokens, seed: o.seed * 100_003 + step });
    const tRollout = Date.now();
    const rows = batch.flatMap((b, i) => groups[i]!.map((g) => ({ item: b, seq: g })));
    const texts = rows.map((r) => policy.tokenizer.decode(r.seq.tokens));
    const parsed = rows.map((r, i) => parseCompletion(texts[i]!, r.item.sample.options));
    let deductions: Array<RewardInput['judgeDeduction']> = rows.map(() => undefined);
    if (o.judge && needsJudge) {
      const asked = rows.map((_, i) => i).filter((i) => parsed[i]!.think !== null && parsed[i]!.answer !== null);
      const answers = await o.judge.deduce(asked.map((i) => ({ question: rows[i]!.item.sample.question, options: rows[i]!.item.sample.options, think: parsed[i]!.think! })));
      deductions = rows.map(() => null);
      asked.forEach((i, k) => (deductions[i] = answers[k] ?? null));
    }
    const tJudge = Date.now();
    const inputs: RewardInput[] = rows.map((r, i) => ({ sample: r.item.sample, completion: texts[i]!, parsed: parsed[i]!, judgeDeduction: deductions[i] }));
    const scores = await compositeReward(o.rewards, inputs);
    const grouped = batch.map((_, i) => scores.total.slice(i * o.groupSize, (i + 1) * o.groupSize));
    const advantages = groupRelativeAdvantage(grouped, o.advantageScale).flat();
    const prompts = rows.map((r) => r.item.prompt);
    const completions = rows.map((r) => r.seq.tokens);
    const pixels = rows.map((r) => r.item.nchw);
    const refLogProbs = refOrt ? await refOrt.logProbs({ prompts: prompts.map((p) => p.promptIds), completions, pixels: concat(pixels) }) : null;
    const Lc = Math.max(1, ...completions.map((c) => c.length));
    const pad = (rowsLp: ArrayLike<number>[]): tf.Tensor2D => {
      const data = new Float32Array(rows.length * Lc);
      rowsLp.forEach((lp, b) => data.set(Array.from(lp).slice(0, Lc), b * Lc));
      return tf.tensor2d(data, [rows.length, Lc]);
    };
    const old = pad(rows.map((r) => r.seq.tokenLogProbs));
    const ref = refLogProbs ? pad(refLogProbs) : undefined;
    const adv = tf.tensor1d(advantages);
    const lossOpts = { epsilon: o.epsilon, epsilonHigh: o.epsilonHigh, beta: o.beta, aggregation: o.lossAggregation, maxCompletionLength: o.maxNewTokens };
    // Current log-probs (differentiable) with the rollout's old and reference log-probs, all [rows, Lc].
    const lossInputs = (): GrpoLossInputs => {
      const { logProbs, mask } = policy.logProbs(prompts, completions);
      const widen = (t: tf.Tensor2D): tf.Tensor2D => (Lc > t.shape[1] ? t.pad([[0, 0], [0, Lc - t.shape[1]]]) : t);
      return { logProbs: widen(logProbs), oldLogProbs: old, refLogProbs: ref, mask: widen(mask), advantages: adv };
    };
    let stats = { kl: 0, clipFraction: 0, meanRatio: 1 };
    let lossValue = 0;
    let gradNorm = 0;
    const hasSignal = advantages.some((a) => Math.abs(a) > 1e-9) || o.beta > 0;
    for (let pass = 0; pass < o.mu && hasSignal && completions.some((c) => c.length); pass++) {
      const { value, grads } = tf.variableGrads(() => grpoLoss(lossInputs(), lossOpts), vars);
      lossValue = value.dataSync()[0]!;
      value.dispose();
      const named = new Map(Object.entries(grads).map(([k, g]) => [varNames.get(k)!, g]));
      const clipped = clipByGlobalNorm(named, o.clipNorm);
      gradNorm = clipped.norm;
      optimizer.apply(clipped.grads, o.lr);
      tf.dispose([...clipped.grads.values()]);
      if (pass === o.mu - 1) {
        stats = tf.tidy(() => grpoStats(lossInputs(), lossOpts));
      }
    }
    tf.dispose([old, adv, ...(ref ? [ref] : [])]);
    const tUpdate = Date.now();
    step++;
    ran++;
    const nTokens = completions.reduce((a, c) => a + c.length, 0);
    const sampledLp = rows.flatMap((r) => r.seq.tokenLogProbs);
    const row: MetricRow = {
      step,
      reward_mean: meanOf(scores.total),
      loss: lossValue,
      kl: stats.kl,
      clip_fraction: stats.clipFraction,
      ratio_mean: stats.meanRatio,
      grad_norm: gradNorm,
      accuracy: (100 * rows.filter((r, i) => parsed[i]!.answer === r.item.sample.answer).length) / rows.length,
      format_rate: (100 * parsed.filter((p) => p.wellFormed).length) / rows.length,
      consistency_rate: needsJudge ? (100 * rows.filter((_, i) => parsed[i]!.answer !== null && deductions[i] === parsed[i]!.answer).length) / rows.length : NaN,
      entropy: sampledLp.length ? -sampledLp.reduce((a, b) => a + b, 0) / sampledLp.length : 0,
      completion_length: nTokens / rows.length,
      zero_variance_groups: zeroVarianceFraction(grouped),
      time_rollout_s: (tRollout - t0) / 1000,
      time_judge_s: (tJudge - tRollout) / 1000,
      time_update_s: (tUpdate - tJudge) / 1000,
    };
    for (const [name, s] of Object.entries(scores.components)) row[`reward_${name}`] = meanOf(s);
    if (!Number.isFinite(row.consistency_rate as number)) delete row.consistency_rate;
    rewardHistory.push(row.reward_mean as number);
    const isLast = step === o.steps;
    if (encEval.length && ((o.evalEvery > 0 && step % o.evalEvery === 0) || isLast)) {
      const summary = await heldOutEval(policy, encEval, { judge: o.judge });
      finalEval = summaryMetrics(summary);
      Object.assign(row, finalEval);
      log.info(`step ${step}: held-out accuracy ${summary.overall.toFixed(1)}%, consistency ${summary.consistency.toFixed(1)}%`);
    }
    metrics.append(row);
    if (step % o.saveEvery === 0 || isLast) {
      await saveTrainingCheckpoint(o.outDir, policy, optimizer, { kind: 'con-grpo', step, rng: rng.getState(), seed: o.seed, options: runInfo.options, savedAt: new Date().toISOString() });
      await o.sink?.emit({ type: 'checkpoint', runId, step, time: Date.now(), path: checkpointDir(o.outDir) });
    }
    await o.sink?.emit({ type: 'metric', runId, step, time: Date.now(), values: Object.fromEntries(Object.entries(row).filter(([, v]) => typeof v === 'number')) as Record<string, number> });
    progress.update(step, { reward: row.reward_mean as number, kl: row.kl as number });
    if (o.stopAfter !== undefined && ran >= o.stopAfter && !isLast) break;
  }
  progress.stop();
  optimizer.dispose();
  await refOrt?.dispose();
  if (step === o.steps) await o.sink?.emit({ type: 'status', runId, status: RunStatus.Succeeded, time: Date.now() });
  return { policy, steps: step, finalEval, rewardHistory };
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
