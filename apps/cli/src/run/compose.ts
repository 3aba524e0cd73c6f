import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  DatasetToken,
  ErrorCode,
  EventSinkToken,
  JudgeToken,
  LoggerToken,
  MedadError,
  PluginRegistryToken,
  ProgressToken,
  RewardsToken,
  RngToken,
  RunInfoToken,
  RunSpecToken,
  SeededRng,
  RUN_SPEC_FILE,
  runRefId,
  silentProgress,
  type Backbone,
  type Container,
  type Dataset,
  type EventSink,
  type Judge,
  type Logger,
  type PluginChoice,
  type PluginRegistry,
  type ProgressReporter,
  type RunSpec,
  createRootContainer,
  isTrainableBackbone,
  type TrainableBackbone,
} from '@medad/core';

/** What a run reports through (the CLI's terminal, or the control plane's IPC channel). */
export interface RunIo {
  logger: Logger;
  sink?: EventSink;
  progress?: ProgressReporter;
  /** Id reported in events (set by the control plane). */
  runId?: string;
}

/** Refuses `run:<id>` references: only the control plane resolves them (naming the field). */
export function assertResolved(spec: RunSpec, where: string): void {
  for (const field of ['data', 'out', 'from', 'checkpoint'] as const) {
    const value = (spec as Record<string, unknown>)[field];
    if (typeof value === 'string' && runRefId(value)) {
      throw new MedadError(ErrorCode.BadUserInput, `${where}: field "${field}" is the run reference "${value}"`, {
        fix: 'give a directory; run references are resolved by the control plane when it launches a run',
        details: { field },
      });
    }
  }
}

/** Writes the resolved spec into its output directory atomically (what the run was, for the record and for `medad run`). */
export function writeResolvedSpec(spec: RunSpec, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, RUN_SPEC_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(spec, null, 2) + '\n');
  renameSync(tmp, file);
  return file;
}

/**
 * A spec's trainable backbone, created through the registry with its config: it must implement
 * `TrainableBackbone` (`createTrainable`), whatever package it comes from.
 */
export async function trainableBackbone(registry: PluginRegistry, choice: PluginChoice, field: string, c: Container): Promise<TrainableBackbone> {
  const backbone: Backbone = await registry.create('backbone', choice.plugin, choice.config, c);
  if (!isTrainableBackbone(backbone)) {
    await backbone.dispose?.();
    const trainable = registry.list('backbone').map((p) => p.id);
    throw new MedadError(ErrorCode.BadUserInput, `${field}.plugin: backbone "${choice.plugin}" cannot be trained: it does not implement TrainableBackbone (createTrainable)`, {
      fix: `train a backbone that does (e.g. tfjs-vlm; installed: ${trainable.join(', ')}), or add createTrainable to the plugin (see \`npm run new-plugin -- --kind backbone\`)`,
      details: { field: `${field}.plugin` },
    });
  }
  return backbone;
}

/**
 * Composes a run's child container from its spec (DESIGN.md §3): the spec, run info, seeded RNG,
 * logger, event sink, progress and registry; the dataset, judge and weighted rewards are created
 * through the registry with their configs (each validated by its plugin's schema).
 */
export async function composeRun(spec: RunSpec, registry: PluginRegistry, io: RunIo, parent?: Container): Promise<Container> {
  const c = (parent ?? createRootContainer()).createChild();
  const seed = 'seed' in spec ? spec.seed : 0;
  c.register(RunSpecToken, spec)
    .register(LoggerToken, io.logger)
    .register(ProgressToken, io.progress ?? silentProgress)
    .register(RngToken, new SeededRng(seed))
    .register(RunInfoToken, { runId: io.runId ?? `${spec.kind}-${seed}`, dir: spec.out ? resolve(spec.out) : process.cwd(), seed })
    .register(PluginRegistryToken, registry);
  if (io.sink) c.register(EventSinkToken, io.sink);
  if ('dataset' in spec && 'data' in spec) {
    const dataset: Dataset = await registry.create('dataset', spec.dataset.plugin, { ...spec.dataset.config, dir: resolve(spec.data) }, c);
    c.register(DatasetToken, dataset);
  }
  if ('judge' in spec && spec.judge) {
    const judge: Judge = await registry.create('judge', spec.judge.plugin, spec.judge.config, c);
    c.register(JudgeToken, judge);
  }
  if (spec.kind === 'con-grpo') {
    const rewards = [];
    for (const r of spec.rewards) {
      if (r.weight === 0) continue;
      rewards.push({ reward: await registry.create('reward', r.plugin, r.config, c), weight: r.weight });
    }
    c.register(RewardsToken, rewards);
  }
  return c;
}

/** The evaluation backbone of a spec: `auto` picks onnx for exported decoders, else tfjs-vlm; local backbones get the checkpoint. */
export async function evalBackbone(registry: PluginRegistry, choice: PluginChoice, checkpoint: string | undefined, c: Container): Promise<Backbone> {
  let id = choice.plugin;
  let config: Record<string, unknown> = { ...choice.config };
  const local = id === 'auto' || id === 'onnx' || id === 'tfjs-vlm';
  if (local && !checkpoint) {
    throw new MedadError(ErrorCode.BadUserInput, 'field "checkpoint" is required for local backbones', { fix: 'pass a run directory from `medad train ...`', details: { field: 'checkpoint' } });
  }
  if (checkpoint) {
    const dir = checkpointDirOf(checkpoint);
    if (!existsSync(dir)) throw new MedadError(ErrorCode.NotFound, `Checkpoint ${dir} does not exist`, { fix: 'pass a run directory or checkpoint directory', details: { field: 'checkpoint' } });
    if (id === 'auto') id = existsSync(join(dir, 'decoder_model.onnx')) ? 'onnx' : 'tfjs-vlm';
    if (id === 'onnx') config = { ...config, dir };
    // tfjs-vlm, and any other backbone whose config takes a checkpoint directory (e.g. a scaffolded one).
    else if (id === 'tfjs-vlm' || (registry.has('backbone', id) && registry.get('backbone', id).configSchema.safeParse({ ...config, checkpoint: dir }).success)) config = { ...config, checkpoint: dir };
  }
  return registry.create('backbone', id, config, c);
}

/** A checkpoint directory from a run directory or a checkpoint directory. */
export function checkpointDirOf(path: string): string {
  const p = resolve(path);
  if (existsSync(join(p, 'checkpoint', 'config.json'))) return join(p, 'checkpoint');
  return p;
}
