import { resolve } from 'node:path';
import { DatasetToken, JudgeToken, RewardsToken, acquireRunLock, type Container, type DatasetInfo, type Judge, type PluginChoice, type PluginRegistry, type RunSpec, type TrainablePolicyRequest } from '@medad/core';
// The engines (tfjs, ONNX Runtime) are imported when a run needs them, so commands that only parse,
// print or serve (`medad serve`, `--help`, `--print-spec`) stay small and start fast.
import { evaluate, type EvaluationResult } from '@medad/evaluator';
import { trainLearnedJudge } from '@medad/plugin-judge-learned';
import type { ConGrpoResult, SftResult } from '@medad/trainer';
import { assertResolved, composeRun, evalBackbone, trainableBackbone, writeResolvedSpec, type RunIo } from './compose.js';

/** What running a spec produced, by kind. */
export type SpecOutcome =
  | { kind: 'dataset'; info: DatasetInfo; dir: string }
  | { kind: 'sft'; result: Omit<SftResult, 'policy'> }
  | { kind: 'con-grpo'; result: Omit<ConGrpoResult, 'policy'> }
  | { kind: 'eval'; result: EvaluationResult }
  | { kind: 'judge'; result: Awaited<ReturnType<typeof trainLearnedJudge>> };

/**
 * The same judge reading the whole think (`conclusion: 'keep'`), so evaluation reports
 * consistency under both readings; undefined when the judge has no such setting.
 */
async function keepReading(registry: PluginRegistry, judge: PluginChoice | null, c: Container): Promise<Judge | undefined> {
  if (!judge || judge.config.conclusion === 'keep' || !registry.has('judge', judge.plugin)) return undefined;
  const config = { ...judge.config, conclusion: 'keep' };
  if (!registry.get('judge', judge.plugin).configSchema.safeParse(config).success) return undefined;
  return registry.create('judge', judge.plugin, config, c);
}

/**
 * Runs a resolved spec (`medad run`, every `medad train|eval|data synth`, the control plane's
 * children): writes it into its output directory as `spec.json`, composes the run's container
 * and hands the trainer, evaluator or builder what it resolves.
 */
export async function executeSpec(spec: RunSpec, registry: PluginRegistry, io: RunIo): Promise<SpecOutcome> {
  assertResolved(spec, 'spec');
  // One process per run directory: a resumed run never writes beside a still-running orphan.
  const lock = spec.kind !== 'dataset' && spec.out ? acquireRunLock(resolve(spec.out), io.runId) : undefined;
  try {
    return await executeLocked(spec, registry, io);
  } finally {
    lock?.release();
  }
}

async function executeLocked(spec: RunSpec, registry: PluginRegistry, io: RunIo): Promise<SpecOutcome> {
  if (spec.kind !== 'dataset' && spec.out) writeResolvedSpec(spec, resolve(spec.out));
  const device = spec.kind === 'eval' ? spec.device : spec.kind === 'sft' || spec.kind === 'con-grpo' ? spec.compute.device : undefined;
  if (device) {
    const { selectDevice } = await import('@medad/policy');
    const chosen = selectDevice(device);
    io.logger.info(`device: ${chosen.device} (${chosen.reason})`);
  }
  const c = await composeRun(spec, registry, io);
  const common = { runId: io.runId, sink: io.sink, progress: io.progress, logger: io.logger };
  switch (spec.kind) {
    case 'dataset': {
      const out = resolve(spec.out);
      const dataset = await registry.create('dataset', spec.generator.plugin, { ...spec.generator.config, dir: out }, c);
      writeResolvedSpec(spec, out);
      return { kind: 'dataset', info: await dataset.describe(), dir: out };
    }
    case 'sft': {
      // A run that resumes or starts from a checkpoint reads the model from there; a fresh one asks the backbone.
      const backbone = spec.from ? undefined : await trainableBackbone(registry, spec.backbone, 'backbone', c);
      try {
        const dataset = c.resolve(DatasetToken);
        const createPolicy = backbone ? (request: TrainablePolicyRequest) => backbone.createTrainable(request) : undefined;
        const { trainSft } = await import('@medad/trainer');
        const { policy: trained, ...result } = await trainSft({ ...spec.hyper, ...spec.compute, createPolicy, seed: spec.seed, dataDir: resolve(spec.data), dataset, outDir: resolve(spec.out), from: spec.from ? resolve(spec.from) : undefined, ...common });
        trained.dispose();
        return { kind: 'sft', result };
      } finally {
        await backbone?.dispose?.();
      }
    }
    case 'con-grpo': {
      const backbone = spec.from ? undefined : await trainableBackbone(registry, spec.backbone, 'backbone', c);
      try {
        const { trainConGrpo } = await import('@medad/trainer');
        const { policy: trained, ...result } = await trainConGrpo({
          ...spec.hyper,
          ...spec.compute,
          ...(backbone ? { createPolicy: (request: TrainablePolicyRequest) => backbone.createTrainable(request) } : {}),
          seed: spec.seed,
          dataDir: resolve(spec.data),
          dataset: c.resolve(DatasetToken),
          outDir: resolve(spec.out),
          from: spec.from ? resolve(spec.from) : undefined,
          rewards: c.resolve(RewardsToken),
          judge: c.tryResolve(JudgeToken),
          ...common,
        });
        trained.dispose();
        return { kind: 'con-grpo', result };
      } finally {
        await backbone?.dispose?.();
      }
    }
    case 'eval': {
      const backbone = await evalBackbone(registry, spec.backbone, spec.checkpoint, c);
      try {
        const result = await evaluate({
          backbone,
          dataset: c.resolve(DatasetToken),
          judge: c.tryResolve(JudgeToken),
          judgeKeep: await keepReading(registry, spec.judge, c),
          decoding: spec.decoding,
          seeds: spec.seeds,
          temperature: spec.temperature,
          split: spec.split,
          limit: spec.limit,
          batchSize: spec.batchSize,
          zoom: spec.zoom,
          outDir: spec.out ? resolve(spec.out) : undefined,
          progress: io.progress,
        });
        return { kind: 'eval', result };
      } finally {
        await backbone.dispose?.();
      }
    }
    case 'judge': {
      const result = await trainLearnedJudge({ dataDir: resolve(spec.data), outDir: resolve(spec.out), seed: spec.seed, epochs: spec.epochs, minConfidence: spec.minConfidence, progress: io.progress });
      return { kind: 'judge', result };
    }
  }
}
