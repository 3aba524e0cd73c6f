import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  ErrorCode,
  MedadError,
  RunStatus,
  SeededRng,
  parseCompletion,
  silentLogger,
  silentProgress,
  type Judge,
  type Logger,
  type MedAdSample,
  type RewardInput,
  conGrpoHyperSchema,
  trainComputeSchema,
  type ConGrpoHyper,
  type TrainCompute,
  COMPLETIONS_FILE,
  type CompletionRecord as CompletionRow,
} from '@medad/core';
import { OrtGradients, OrtPolicy, VlmPolicy, buildOnnxModels, generateTokens, gradientGraphUnsupported, type EncodedPrompt, type ComputeBackend, type GeneratedSequence, type VlmConfig } from '@medad/policy';
import { groupRelativeAdvantage, selectGroups, zeroVarianceFraction } from './grpo/advantage.js';
import { statsFromSums } from './grpo/loss.js';
import { engineThreads, gradEngineMessage, resolveGradEngine, startGradientEngine } from './parallel/ort-engine.js';
import { grpoTotals, type GrpoShardRow } from './parallel/shard-loss.js';
import { compositeReward, meanOf, type WeightedReward } from './grpo/rewards.js';
import { AdamW, clipByGlobalNorm } from './optim/adamw.js';
import { assertFitsModel, encodeSamples, openTrainingData, splitSamples, tokenizerCorpus, trainablePolicy, trainTokenizer, zoomBoxes, type EncodedSample } from './run/data.js';
import { checkpointDir, readEmaReference, readOptimizerState, readTrainerState, saveTrainingCheckpoint } from './run/checkpoint.js';
import { EmaReference } from './grpo/ema.js';
import { batchPixels, heldOutEval, summaryMetrics } from './run/heldout.js';
import { MetricsLog, type MetricRow } from './run/metrics-log.js';
import type { TrainRunOptions } from './run/options.js';
import { batchIndices } from './run/task-mix.js';

/**
 * Settings of a Con-GRPO run (paper eqs. 2–8): the spec's hyper-parameters and compute settings
 * (`conGrpoHyperSchema`, `trainComputeSchema` in @medad/core, where each is documented and
 * defaulted) plus what the composed run hands in.
 */
export interface ConGrpoOptions extends TrainRunOptions, Partial<ConGrpoHyper>, Partial<TrainCompute> {
  rewards: WeightedReward[];
  /** The judge consistency rewards consult (run once per step, shared by all rewards). */
  judge?: Judge;
  /** Train on these sample indices only (a fixed batch, for tests). */
  fixedIndices?: number[];
}

/** Defaults chosen for the small model: the spec schema's (see the trainer README for why they differ from the paper's). */
export const CON_GRPO_DEFAULTS = {
  seed: 0,
  ...conGrpoHyperSchema.parse({}),
  ...trainComputeSchema.parse({}),
};

/**
 * Completions per thread in one forward/backward pass of the policy update; larger batches run
 * as several passes whose gradients add up (one pass over 128 `small` completions overflows the
 * wasm heap).
 */
const GRPO_ROWS_PER_PASS = 32;

/** What a Con-GRPO run returns. */
export interface ConGrpoResult {
  policy: VlmPolicy;
  steps: number;
  finalEval: Record<string, number>;
  /** Mean composite reward per completed step, in order. */
  rewardHistory: number[];
}

/**
 * A step's completions from the current policy: through `live` (ONNX Runtime, one session per run
 * fed the current weights) or the tfjs graph.
 */
async function rollouts(o: { live: OrtPolicy | null; policy: VlmPolicy; batch: EncodedSample[]; G: number; temperature: number; topP: number; maxNew: number; seed: number }): Promise<GeneratedSequence[][]> {
  const room = o.policy.model.config.maxTextLen - Math.max(...o.batch.map((b) => b.prompt.promptIds.length));
  const opts = { groupSize: o.G, temperature: o.temperature, topP: o.topP, maxNewTokens: Math.min(o.maxNew, room), seed: o.seed };
  if (!o.live) return generateTokens(o.policy.model, o.batch.map((b) => b.prompt), { ...opts, useCache: true });
  o.live.setWeights(o.policy.model.weights());
  return o.live.generate(o.batch.map((b) => b.prompt.promptIds), batchPixels(o.batch), opts);
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
  const data = await openTrainingData(o.dataset ?? o.dataDir);
  const train = splitSamples(data, 'train');
  const state = readTrainerState(o.outDir);
  const fromDir = o.from ? (readTrainerState(o.from) ? checkpointDir(o.from) : o.from) : undefined;
  const policy = state
    ? await VlmPolicy.load(checkpointDir(o.outDir), { backend: o.backend })
    : fromDir
      ? await VlmPolicy.load(fromDir, { backend: o.backend })
      : o.createPolicy
        ? await trainablePolicy(o.createPolicy, { corpus: tokenizerCorpus(train), seed: o.seed, groundingHead: false })
        : await VlmPolicy.create({ preset: o.preset ?? 'small', tokenizer: trainTokenizer(train), seed: o.seed, backend: o.backend, config: o.modelConfig });
  // The frozen reference: the starting policy (SFT checkpoint, or the fresh init for RL-only).
  const reference = fromDir ? await VlmPolicy.load(fromDir, { backend: o.backend }) : state ? await VlmPolicy.load(checkpointDir(o.outDir), { backend: o.backend }) : null;
  // A copy: the policy's own arrays (RL-only) belong to weights that training replaces.
  const refWeights = new Map([...(reference ?? policy).model.weights()].map(([name, v]) => [name, v.slice()] as const));
  reference?.dispose();
  // GRPO-CARE's slowly-evolving reference (only when a reward reads the answer likelihood): the
  // starting policy, then an EMA of the policy; a resumed run continues from the saved one.
  const needsLikelihood = o.rewards.some((r) => r.reward.needsAnswerLikelihood);
  const ema = needsLikelihood ? new EmaReference(policy.model.config, emaStart(o.outDir, state !== null, policy, log), o.emaDecay, o.emaEvery) : null;
  const params = policy.model.params as ReadonlyMap<string, tf.Variable>;
  const optimizer = new AdamW(params, { weightDecay: 0 });
  const startStep = state?.step ?? 0;
  if (state) optimizer.setState(readOptimizerState(o.outDir));
  const metrics = new MetricsLog(join(o.outDir, 'metrics.jsonl'));
  const previous = metrics.openForResume(startStep);
  const rewardHistory = previous.map((r) => Number(r['reward_mean']));
  // A few groups' completions per step, for reading what the policy writes (GraphQL Run.completions).
  const completionsLog = o.logCompletions > 0 ? new MetricsLog<CompletionRow>(join(o.outDir, COMPLETIONS_FILE)) : null;
  completionsLog?.openForResume(startStep);
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

  // Coarse-to-fine (hyper.zoom): rollouts, updates and the held-out evaluation answer on images
  // zoomed into the starting policy's predicted regions, or into the labelled boxes (oracle).
  const zoom = o.zoom ?? 'none';
  const zoomed = (samples: readonly MedAdSample[]): EncodedSample[] => encodeSamples(policy, data, samples, zoomBoxes(policy, data, samples, zoom));
  const encTrain = zoomed(o.fixedIndices ? o.fixedIndices.map((i) => train[i]!) : train);
  if (zoom !== 'none') log.info(`zoom ${zoom}: ${encTrain.length} train images zoomed${zoom === 'predicted' ? ' into the regions the starting policy predicts' : ' into their lesion boxes'}`);
  assertFitsModel(policy.model.config, encTrain, false);
  const test = data.list('test');
  const encEval = o.evalSamples > 0 && test.length ? zoomed(new SeededRng(o.seed + 17).shuffle(test).slice(0, o.evalSamples)) : [];
  const rng = state ? SeededRng.fromState(state.rng) : new SeededRng(o.seed);
  const needsJudge = o.rewards.some((r) => r.reward.needsJudge);
  if (!(o.oversample >= 1) || !Number.isFinite(o.oversample)) {
    throw new MedadError(ErrorCode.BadUserInput, `oversample must be a number ≥ 1, got ${o.oversample}`, { fix: 'pass --oversample 1 (no dynamic sampling) or e.g. 2 (roll out twice the prompts, train on groups with reward variance)' });
  }
  const rolledPrompts = Math.ceil(o.promptsPerStep * o.oversample);
  const engine = resolveGradEngine(o.gradEngine, policy.model);
  const threads = engineThreads(engine.engine, o.threads, policy.backend);
  const parallel = await startGradientEngine(engine.engine, policy.model, threads, policy.backend as ComputeBackend);
  const refScorer = o.beta > 0 ? await referenceScorer(policy.model.config, refWeights, threads) : null;
  const live = o.rollout === 'ort' ? await OrtPolicy.fromModels(policy.model.config, buildOnnxModels(policy.model.config, 'inputs'), { intraOpNumThreads: o.decodeThreads }) : null;
  log.info(`policy update: ${gradEngineMessage(engine, threads)}`);
  progress.start(o.steps, 'con-grpo', startStep);
  let step = startStep;
  let ran = 0;
  let finalEval: Record<string, number> = {};
  try {
    while (step < o.steps) {
      const t0 = Date.now();
      const idx = o.fixedIndices ? encTrain.map((_, i) => i) : batchIndices(encTrain.length, rolledPrompts, step, o.seed + 101);
      const rolled = idx.map((i) => encTrain[i]!);
      const groups = await rollouts({ live, policy, batch: rolled, G: o.groupSize, temperature: o.temperature, topP: o.topP, maxNew: o.maxNewTokens, seed: o.seed * 100_003 + step });
      const tRollout = Date.now();
      const rolledRows = rolled.flatMap((b, i) => groups[i]!.map((g) => ({ item: b, seq: g })));
      const texts = rolledRows.map((r) => policy.tokenizer.decode(r.seq.tokens));
      const parsed = rolledRows.map((r, i) => parseCompletion(texts[i]!, r.item.sample.options));
      let deductions: Array<RewardInput['judgeDeduction']> = rolledRows.map(() => undefined);
      if (o.judge && needsJudge) {
        const asked = rolledRows.map((_, i) => i).filter((i) => parsed[i]!.think !== null && parsed[i]!.answer !== null);
        const answers = await o.judge.deduce(asked.map((i) => ({ question: rolledRows[i]!.item.sample.question, options: rolledRows[i]!.item.sample.options, think: parsed[i]!.think! })));
        deductions = rolledRows.map(() => null);
        asked.forEach((i, k) => (deductions[i] = answers[k] ?? null));
      }
      const tJudge = Date.now();
      const likelihoods = ema ? await ema.answerLikelihoods(rolledRows.map((r) => ({ promptIds: r.item.prompt.promptIds, completion: r.seq.tokens, nchw: r.item.nchw }))) : null;
      const inputs: RewardInput[] = rolledRows.map((r, i) => ({
        sample: r.item.sample,
        completion: texts[i]!,
        parsed: parsed[i]!,
        judgeDeduction: deductions[i],
        group: Math.floor(i / o.groupSize),
        ...(likelihoods ? { answerLikelihood: likelihoods[i] } : {}),
      }));
      const scores = await compositeReward(o.rewards, inputs);
      const allGroups = rolled.map((_, i) => scores.total.slice(i * o.groupSize, (i + 1) * o.groupSize));
      // The groups trained on: all of them, or (dynamic sampling) the first promptsPerStep with signal.
      const kept = selectGroups(allGroups, o.oversample > 1 ? o.promptsPerStep : Infinity);
      const grouped = kept.map((g) => allGroups[g]!);
      const rows = kept.flatMap((g) => rolledRows.slice(g * o.groupSize, (g + 1) * o.groupSize));
      const advantages = groupRelativeAdvantage(grouped, o.advantageScale).flat();
      const prompts = rows.map((r) => r.item.prompt);
      const completions = rows.map((r) => r.seq.tokens);
      const refLogProbs = refScorer && rows.length ? await refScorer.logProbs(rows.map((r, i) => ({ prompt: prompts[i]!, completion: completions[i]!, nchw: r.item.nchw }))) : null;
      const shard: GrpoShardRow[] = rows.map((r, i) => ({
        prompt: r.item.prompt,
        completion: r.seq.tokens,
        oldLogProbs: Float32Array.from(r.seq.tokenLogProbs),
        refLogProbs: refLogProbs ? Float32Array.from(refLogProbs[i]!) : null,
        advantage: advantages[i]!,
      }));
      const lossOpts = { epsilon: o.epsilon, epsilonHigh: o.epsilonHigh, beta: o.beta, aggregation: o.lossAggregation, maxCompletionLength: o.maxNewTokens, totals: grpoTotals(shard) };
      let stats = { kl: 0, clipFraction: 0, meanRatio: 1 };
      let lossValue = 0;
      let gradNorm = 0;
      const hasSignal = advantages.some((a) => Math.abs(a) > 1e-9) || o.beta > 0;
      for (let pass = 0; pass < o.mu && hasSignal && completions.some((c) => c.length); pass++) {
        // Loss and diagnostics of the policy before this pass's update (as TRL reports them).
        const g = await parallel.gradients({ kind: 'grpo', shard, options: lossOpts }, GRPO_ROWS_PER_PASS);
        lossValue = g.report[0]!;
        stats = statsFromSums(g.report.slice(1));
        const clipped = clipByGlobalNorm(g.grads, o.clipNorm);
        gradNorm = clipped.norm;
        optimizer.apply(clipped.grads, o.lr);
        parallel.publishWeights();
        tf.dispose([...clipped.grads.values()]);
      }
      step++;
      ran++;
      if (completionsLog) {
        const keptAt = new Map(kept.map((g, k) => [g, k]));
        const logged: CompletionRow[] = [];
        for (let g = 0; g < Math.min(o.logCompletions, rolled.length); g++) {
          for (let j = 0; j < o.groupSize; j++) {
            const i = g * o.groupSize + j;
            const k = keptAt.get(g);
            logged.push({
              step,
              group: g,
              sampleId: rolledRows[i]!.item.sample.id,
              task: rolledRows[i]!.item.sample.task,
              answer: rolledRows[i]!.item.sample.answer,
              completion: texts[i]!,
              parsed: parsed[i]!.answer,
              wellFormed: parsed[i]!.wellFormed,
              judgeDeduction: deductions[i] ?? null,
              reward: scores.total[i]!,
              rewards: Object.fromEntries(Object.entries(scores.components).map(([name, s]) => [name, s[i]!])),
              advantage: k === undefined ? null : advantages[k * o.groupSize + j]!,
              ...(rolledRows[i]!.item.zoomBox ? { zoomBox: rolledRows[i]!.item.zoomBox } : {}),
            });
          }
        }
        completionsLog.append(...logged); // one write per step
      }
      const emaShift = ema ? await ema.afterStep(step, policy.model.weights()) : 0;
      const tUpdate = Date.now();
      // Rollout statistics cover every rolled-out completion; the loss statistics the trained ones.
      const nTokens = rolledRows.reduce((a, r) => a + r.seq.tokens.length, 0);
      const sampledLp = rolledRows.flatMap((r) => r.seq.tokenLogProbs);
      const correct = rolledRows.map((r, i) => parsed[i]!.answer === r.item.sample.answer);
      const row: MetricRow = {
        step,
        reward_mean: meanOf(scores.total),
        loss: lossValue,
        kl: stats.kl,
        clip_fraction: stats.clipFraction,
        ratio_mean: stats.meanRatio,
        grad_norm: gradNorm,
        accuracy: (100 * correct.filter(Boolean).length) / rolledRows.length,
        format_rate: (100 * parsed.filter((p) => p.wellFormed).length) / rolledRows.length,
        consistency_rate: needsJudge ? (100 * rolledRows.filter((_, i) => parsed[i]!.answer !== null && deductions[i] === parsed[i]!.answer).length) / rolledRows.length : NaN,
        entropy: sampledLp.length ? -sampledLp.reduce((a, b) => a + b, 0) / sampledLp.length : 0,
        completion_length: nTokens / rolledRows.length,
        zero_variance_groups: zeroVarianceFraction(allGroups),
        trained_groups: grouped.length,
        time_rollout_s: (tRollout - t0) / 1000,
        time_judge_s: (tJudge - tRollout) / 1000,
        time_update_s: (tUpdate - tJudge) / 1000,
      };
      for (const [name, s] of Object.entries(scores.components)) row[`reward_${name}`] = meanOf(s);
      if (likelihoods) {
        const mean = meanOf(likelihoods);
        if (Number.isFinite(mean)) row.answer_likelihood = mean;
        row.ema_shift = emaShift;
      }
      // Rollout accuracy per task: which tasks the rewards are moving.
      for (const [task, hits] of groupBy(rolledRows.map((r, i) => [r.item.sample.task, correct[i]!] as const))) row[`accuracy_${task}`] = (100 * hits.filter(Boolean).length) / hits.length;
      if (!Number.isFinite(row.consistency_rate as number)) delete row.consistency_rate;
      rewardHistory.push(row.reward_mean as number);
      const isLast = step === o.steps;
      if (encEval.length && ((o.evalEvery > 0 && step % o.evalEvery === 0) || isLast)) {
        const summary = await heldOutEval(policy, encEval, { judge: o.judge, decodeThreads: o.decodeThreads });
        finalEval = summaryMetrics(summary);
        Object.assign(row, finalEval);
        log.info(`step ${step}: held-out accuracy ${summary.overall.toFixed(1)}%, consistency ${summary.consistency.toFixed(1)}%`);
      }
      metrics.append(row);
      if (step % o.saveEvery === 0 || isLast) {
        await saveTrainingCheckpoint(o.outDir, policy, optimizer, { kind: 'con-grpo', step, rng: rng.getState(), seed: o.seed, options: runInfo.options, savedAt: new Date().toISOString() }, ema?.weights);
        await o.sink?.emit({ type: 'checkpoint', runId, step, time: Date.now(), path: checkpointDir(o.outDir) });
      }
      await o.sink?.emit({ type: 'metric', runId, step, time: Date.now(), values: Object.fromEntries(Object.entries(row).filter(([, v]) => typeof v === 'number')) as Record<string, number> });
      progress.update(step, { reward: row.reward_mean as number, kl: row.kl as number });
      if (o.stopAfter !== undefined && ran >= o.stopAfter && !isLast) break;
    }
  } finally {
    await parallel.close();
    await live?.dispose();
  }
  progress.stop();
  optimizer.dispose();
  await refScorer?.dispose();
  await ema?.dispose();
  if (step === o.steps) await o.sink?.emit({ type: 'status', runId, status: RunStatus.Succeeded, time: Date.now() });
  return { policy, steps: step, finalEval, rewardHistory };
}

/** Scores completions under the frozen reference policy (the KL term's log-probs). */
interface ReferenceScorer {
  logProbs(rows: ReadonlyArray<{ prompt: EncodedPrompt; completion: readonly number[]; nchw: Float32Array }>): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/**
 * The reference's log-probs through the forward-only gradient graph, which computes logits only
 * at the completion tokens and their log-softmax in the graph: about half the time of the
 * inference graphs (full-vocabulary logits at every position, log-softmax in JS) at a step's 64
 * rows, within 3e-6. Configs that graph cannot build (rotary positions) use the inference graphs.
 */
async function referenceScorer(cfg: VlmConfig, weights: ReadonlyMap<string, Float32Array>, threads: number): Promise<ReferenceScorer> {
  if (gradientGraphUnsupported(cfg) === null) {
    const graph = await OrtGradients.create(cfg, { intraOpNumThreads: threads, forwardOnly: true });
    return { logProbs: (rows) => graph.logProbs(weights, rows.map((r) => r.prompt), rows.map((r) => r.completion)), dispose: () => graph.release() };
  }
  const ort = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, weights), { intraOpNumThreads: threads });
  return {
    logProbs: (rows) => ort.logProbs({ prompts: rows.map((r) => r.prompt.promptIds), completions: rows.map((r) => r.completion), pixels: concat(rows.map((r) => r.nchw)) }),
    dispose: () => ort.dispose(),
  };
}

/** The EMA reference a run starts from: the saved one when resuming, else (a copy of) the starting policy's weights. */
function emaStart(outDir: string, resuming: boolean, policy: VlmPolicy, log: Logger): Map<string, Float32Array> {
  const saved = resuming ? readEmaReference(outDir) : null;
  if (saved) return saved;
  if (resuming) log.warn(`${checkpointDir(outDir)} has no EMA reference: it starts again from the checkpoint's weights`);
  return new Map([...policy.model.weights()].map(([name, w]) => [name, Float32Array.from(w)]));
}

function groupBy<K, V>(pairs: ReadonlyArray<readonly [K, V]>): Map<K, V[]> {
  const out = new Map<K, V[]>();
  for (const [k, v] of pairs) {
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
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
