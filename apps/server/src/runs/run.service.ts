import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, MedadError, PluginRegistry, RunStatus, z } from '@medad/core';
import { DatasetService } from '../catalog/dataset.service.js';
import { RunKind, type MetricRow, type RunRecord } from '../domain.js';
import type { Executor } from '../execution/executor.js';
import type { BuildDatasetConfig, CheckpointRef, ConGrpoConfig, DatasetRef, EvalConfig, SftConfig } from '../execution/run-config.js';
import { confinePath } from '../http/paths.js';
import type { Store } from '../store/store.js';
import type { BuildDatasetInput, CheckpointInput, ConGrpoRunInput, DatasetInput, EvaluationInput, RunFilter, SftRunInput } from './run.input.js';
import { RUN_DEFAULTS } from './run.input.js';
import { DATASET_NAME, HYPER_SCHEMAS, SEEDS_SCHEMA, badInput, intIn, parseInput, pluginConfig } from './run.validation.js';

/** Roots and directories the run service needs. */
export interface RunServiceOptions {
  dataDir: string;
  datasetRoots: string[];
  checkpointRoots: string[];
}

const SLUG: Record<RunKind, string> = { [RunKind.BuildDataset]: 'dataset', [RunKind.Sft]: 'sft', [RunKind.ConGrpo]: 'grpo', [RunKind.Eval]: 'eval' };
const ACTIVE = [RunStatus.Queued, RunStatus.Running];

/** A page of runs with Relay cursors. */
export interface RunPage {
  edges: Array<{ cursor: string; node: RunRecord }>;
  hasNextPage: boolean;
  totalCount: number;
}

function newRunId(kind: RunKind): string {
  const t = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${SLUG[kind]}-${t}-${randomBytes(3).toString('hex')}`;
}

/** Encodes a keyset position as an opaque cursor. */
export function encodeCursor(run: Pick<RunRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([run.createdAt.toISOString(), run.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [t, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(t);
    if (typeof id !== 'string' || Number.isNaN(createdAt.getTime())) throw new Error('bad');
    return { createdAt, id };
  } catch {
    throw badInput('after', `"${cursor.slice(0, 40)}" is not a cursor returned by this server`, 'pass pageInfo.endCursor from the previous page');
  }
}

/**
 * Starts, lists, cancels and resumes runs: turns typed GraphQL inputs into validated run configs
 * (plugins known and their configs valid, paths inside the configured roots, ranges checked)
 * and hands runs to the executor.
 */
export class RunService {
  constructor(
    private readonly store: Store,
    private readonly executor: Executor,
    private readonly registry: PluginRegistry,
    private readonly datasets: DatasetService,
    private readonly o: RunServiceOptions,
  ) {}

  private async create(kind: RunKind, config: object, dependsOn: string | null): Promise<RunRecord> {
    const id = newRunId(kind);
    const run = await this.store.createRun({ id, kind, config: config as Record<string, unknown>, dir: join(this.o.dataDir, 'runs', id), dependsOn });
    this.executor.pump();
    return run;
  }

  private async dataset(input: DatasetInput | undefined, field: string): Promise<{ ref: DatasetRef; waitFor: string | null }> {
    const given = (['id', 'path', 'fromRun'] as const).filter((k) => input?.[k] !== undefined && input[k] !== null);
    if (given.length !== 1) throw badInput(field, `give exactly one of id, path, fromRun (got ${given.length ? given.join(', ') : 'none'})`, 'e.g. { id: "demo" } — list ids with the `datasets` query');
    if (input!.id !== undefined && input!.id !== null) {
      const ds = await this.datasets.get(input!.id);
      if (!ds) throw badInput(`${field}.id`, `no dataset "${input!.id}"`, 'list datasets with the `datasets` query, or build one with buildDataset');
      return { ref: { path: ds.path }, waitFor: null };
    }
    if (input!.path !== undefined && input!.path !== null) {
      const path = confinePath(input!.path, this.o.datasetRoots, `${field}.path`, 'dataset');
      if (!existsSync(join(path, 'samples.jsonl'))) throw badInput(`${field}.path`, `${path} has no samples.jsonl`, 'point at a directory written by `medad data synth` or an importer');
      return { ref: { path }, waitFor: null };
    }
    const source = await this.requireRun(input!.fromRun!, `${field}.fromRun`);
    if (source.kind !== RunKind.BuildDataset) throw badInput(`${field}.fromRun`, `run ${source.id} is a ${source.kind} run, not BUILD_DATASET`, 'pass a run started by buildDataset');
    this.assertUsable(source, `${field}.fromRun`);
    return { ref: { fromRun: source.id }, waitFor: ACTIVE.includes(source.status) ? source.id : null };
  }

  private async checkpoint(input: CheckpointInput | undefined, field: string): Promise<{ ref: CheckpointRef; waitFor: string | null }> {
    const given = (['path', 'fromRun'] as const).filter((k) => input?.[k] !== undefined && input[k] !== null);
    if (given.length !== 1) throw badInput(field, `give exactly one of path, fromRun (got ${given.length ? given.join(', ') : 'none'})`, 'e.g. { fromRun: "<an SFT run id>" }');
    if (input!.path !== undefined && input!.path !== null) {
      const path = confinePath(input!.path, this.o.checkpointRoots, `${field}.path`, 'checkpoint');
      if (!existsSync(path)) throw badInput(`${field}.path`, `${path} does not exist`, "use a path from a run's `checkpoints` field");
      return { ref: { path }, waitFor: null };
    }
    const source = await this.requireRun(input!.fromRun!, `${field}.fromRun`);
    if (source.kind !== RunKind.Sft && source.kind !== RunKind.ConGrpo) throw badInput(`${field}.fromRun`, `run ${source.id} is a ${source.kind} run; checkpoints come from SFT or CON_GRPO runs`, 'pass a training run id');
    this.assertUsable(source, `${field}.fromRun`);
    return { ref: { fromRun: source.id }, waitFor: ACTIVE.includes(source.status) ? source.id : null };
  }

  private assertUsable(source: RunRecord, field: string): void {
    if (source.status === RunStatus.Failed || source.status === RunStatus.Cancelled || source.status === RunStatus.Interrupted) {
      throw new MedadError(ErrorCode.Conflict, `${field}: run ${source.id} is ${source.status}`, { fix: `resume it with resumeRun(id: "${source.id}") first`, details: { field } });
    }
  }

  private async requireRun(id: string, field: string): Promise<RunRecord> {
    const run = await this.store.getRun(id);
    if (!run) throw badInput(field, `no run "${id}"`, 'list runs with the `runs` query');
    return run;
  }

  /** `buildDataset`: queues `medad data synth` into `<first dataset root>/<name>`. */
  async buildDataset(input: BuildDatasetInput): Promise<RunRecord> {
    const v = parseInput(z.object({ name: DATASET_NAME, samples: intIn(10, 1_000_000), seed: intIn(0, 2 ** 31 - 1), zoom: z.boolean() }), input, 'input');
    const outDir = join(this.o.datasetRoots[0]!, v.name);
    const taken = (await this.store.datasets()).some((d) => d.id === v.name || d.path === outDir);
    const building = (await this.store.runsWithStatus(ACTIVE)).some((r) => r.kind === RunKind.BuildDataset && (r.config as { name?: string }).name === v.name);
    if (taken || building || existsSync(outDir)) {
      throw new MedadError(ErrorCode.Conflict, `input.name: a dataset named "${v.name}" already exists or is being built`, { fix: 'choose another name', details: { field: 'input.name' } });
    }
    const config: BuildDatasetConfig = { ...v, outDir };
    return this.create(RunKind.BuildDataset, config, null);
  }

  /** `startSftRun`. */
  async startSft(input: SftRunInput): Promise<RunRecord> {
    const data = await this.dataset(input.dataset, 'input.dataset');
    const b = { ...RUN_DEFAULTS.backbone, ...input.backbone };
    const config: SftConfig = {
      dataset: data.ref,
      backbone: { plugin: b.plugin, preset: b.preset, config: pluginConfig(this.registry, 'backbone', b.plugin, b.config, 'input.backbone') },
      seed: parseInput(intIn(0, 2 ** 31 - 1), input.seed ?? RUN_DEFAULTS.seed, 'input.seed'),
      hyper: parseInput(HYPER_SCHEMAS.sft, { ...RUN_DEFAULTS.sft, ...input.hyper }, 'input.hyper'),
    };
    return this.create(RunKind.Sft, config, data.waitFor);
  }

  /** `startConGrpoRun`: R = Σ λ·R over the given rewards, with the judge for consistency. */
  async startConGrpo(input: ConGrpoRunInput): Promise<RunRecord> {
    const data = await this.dataset(input.dataset, 'input.dataset');
    const from = await this.checkpoint(input.from, 'input.from');
    const rewardsIn: Array<{ plugin: string; weight: number; config?: Record<string, unknown> }> = input.rewards ?? RUN_DEFAULTS.rewards;
    if (!rewardsIn.length) throw badInput('input.rewards', 'is empty', 'give at least one reward, e.g. [{ plugin: "accuracy", weight: 1 }]');
    const seen = new Set<string>();
    const rewards = rewardsIn.map((r, i) => {
      const field = `input.rewards[${i}]`;
      if (!Number.isFinite(r.weight) || r.weight < 0) throw badInput(`${field}.weight`, `${r.weight} is not a finite number ≥ 0`, 'weights are λ in R = Σ λ·R, e.g. 1/3 each');
      if (seen.has(r.plugin)) throw badInput(`${field}.plugin`, `reward "${r.plugin}" is listed twice`, 'list each reward once and put its weight there');
      seen.add(r.plugin);
      return { plugin: r.plugin, weight: r.weight, config: pluginConfig(this.registry, 'reward', r.plugin, r.config, field) };
    });
    if (!rewards.some((r) => r.weight > 0)) throw badInput('input.rewards', 'every weight is 0', 'give at least one reward a weight > 0');
    const judgeIn = { plugin: RUN_DEFAULTS.judge, ...input.judge };
    const config: ConGrpoConfig = {
      dataset: data.ref,
      from: from.ref,
      rewards,
      judge: { plugin: judgeIn.plugin, config: pluginConfig(this.registry, 'judge', judgeIn.plugin, judgeIn.config, 'input.judge') },
      seed: parseInput(intIn(0, 2 ** 31 - 1), input.seed ?? RUN_DEFAULTS.seed, 'input.seed'),
      hyper: parseInput(HYPER_SCHEMAS.conGrpo, { ...RUN_DEFAULTS.conGrpo, ...input.hyper }, 'input.hyper'),
    };
    return this.create(RunKind.ConGrpo, config, from.waitFor ?? data.waitFor);
  }

  /** `startEvaluation`: accuracy per task and overall, consistency, format, mean ± std over seeds. */
  async startEvaluation(input: EvaluationInput): Promise<RunRecord> {
    const data = await this.dataset(input.dataset, 'input.dataset');
    const ckpt = await this.checkpoint(input.checkpoint, 'input.checkpoint');
    const judgeIn = { plugin: RUN_DEFAULTS.judge, ...input.judge };
    const split = input.split ?? RUN_DEFAULTS.split;
    if (split !== 'train' && split !== 'test') throw badInput('input.split', `"${split}" is not a split`, 'use "test" (or "train")');
    const seeds = parseInput(SEEDS_SCHEMA, input.seeds ?? RUN_DEFAULTS.evalSeeds, 'input.seeds');
    const decoding = input.decoding ?? (seeds.length > 1 ? 'sample' : 'greedy');
    if (decoding !== 'greedy' && decoding !== 'sample') throw badInput('input.decoding', `"${decoding}" is not a decoding`, 'use "greedy" or "sample"');
    const config: EvalConfig = {
      dataset: data.ref,
      checkpoint: ckpt.ref,
      judge: { plugin: judgeIn.plugin, config: pluginConfig(this.registry, 'judge', judgeIn.plugin, judgeIn.config, 'input.judge') },
      seeds,
      decoding,
      split,
      ...(input.limit !== undefined && input.limit !== null ? { limit: parseInput(intIn(1, 10_000_000), input.limit, 'input.limit') } : {}),
    };
    return this.create(RunKind.Eval, config, ckpt.waitFor ?? data.waitFor);
  }

  /** `cancelRun`. */
  cancel(id: string): Promise<RunRecord> {
    return this.executor.cancel(id);
  }

  /** `resumeRun`. */
  resume(id: string): Promise<RunRecord> {
    return this.executor.resume(id);
  }

  /** A run by id, or undefined. */
  get(id: string): Promise<RunRecord | undefined> {
    return this.store.getRun(id);
  }

  /** `runs(filter, first, after)`: newest first. */
  async list(filter: RunFilter | undefined, first: number, after: string | undefined): Promise<RunPage> {
    if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first', `${first} is not in [1, 100]`, 'page with first ≤ 100 and after: pageInfo.endCursor');
    const q = { kinds: filter?.kinds ?? undefined, statuses: filter?.statuses ?? undefined };
    const page = await this.store.listRuns({ ...q, first, after: after ? decodeCursor(after) : undefined });
    return { edges: page.runs.map((node) => ({ cursor: encodeCursor(node), node })), hasNextPage: page.hasNextPage, totalCount: await this.store.countRuns(q) };
  }

  /** A run's metrics, at most `downsample` evenly spaced points when given. */
  metrics(runId: string, downsample?: number): Promise<MetricRow[]> {
    if (downsample !== undefined && (!Number.isInteger(downsample) || downsample < 1 || downsample > 100_000)) {
      throw badInput('downsample', `${downsample} is not in [1, 100000]`, 'ask for at most as many points as you will plot');
    }
    return this.store.metrics(runId, downsample);
  }
}
