import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, MedadError, PluginRegistry, RunStatus, conGrpoSpecSchema, datasetSpecSchema, evalSpecSchema, sftSpecSchema, type RunSpec } from '@medad/core';
import { DatasetService } from '../catalog/dataset.service.js';
import { RunKind, type MetricRow, type RunRecord } from '../domain.js';
import type { Executor } from '../execution/executor.js';
import { confinePath } from '../http/paths.js';
import type { Store } from '../store/store.js';
import type { BuildDatasetInput, CheckpointInput, ConGrpoRunInput, DatasetInput, EvaluationInput, RunFilter, SftRunInput } from './run.input.js';
import { EVAL_INPUT_DEFAULTS } from './run.input.js';
import { DATASET_NAME, badInput, parseInput, pluginConfig, type ConfigGuard } from './run.validation.js';

/** Roots and directories the run service needs. */
export interface RunServiceOptions {
  dataDir: string;
  datasetRoots: string[];
  checkpointRoots: string[];
  allowedHosts: string[];
  allowedKeyEnvs: string[];
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
/** Points `metrics` returns when no `downsample` is given (evenly spaced; all rows when a run has fewer). */
export const DEFAULT_METRIC_POINTS = 2000;
/** The most points one `metrics` selection may ask for. */
export const MAX_METRIC_POINTS = 10_000;

export class RunService {
  constructor(
    private readonly store: Store,
    private readonly executor: Executor,
    private readonly registry: PluginRegistry,
    private readonly datasets: DatasetService,
    private readonly o: RunServiceOptions,
  ) {}

  /** What plugin configs may point at: paths under the dataset and checkpoint roots, allowed hosts and key variables. */
  private get guard(): ConfigGuard {
    return { roots: [...this.o.datasetRoots, ...this.o.checkpointRoots], allowedHosts: this.o.allowedHosts, allowedKeyEnvs: this.o.allowedKeyEnvs };
  }

  /** A new run's id and directory (the spec's `out` for runs that write into their own directory). */
  private allocate(kind: RunKind): { id: string; dir: string } {
    const id = newRunId(kind);
    return { id, dir: join(this.o.dataDir, 'runs', id) };
  }

  private async create(kind: RunKind, at: { id: string; dir: string }, spec: RunSpec, dependsOn: string | null): Promise<RunRecord> {
    const run = await this.store.createRun({ id: at.id, kind, config: spec as unknown as Record<string, unknown>, dir: at.dir, dependsOn });
    this.executor.pump();
    return run;
  }

  private async dataset(input: DatasetInput | undefined, field: string): Promise<{ ref: string; waitFor: string | null }> {
    const given = (['id', 'path', 'fromRun'] as const).filter((k) => input?.[k] !== undefined && input[k] !== null);
    if (given.length !== 1) throw badInput(field, `give exactly one of id, path, fromRun (got ${given.length ? given.join(', ') : 'none'})`, 'e.g. { id: "demo" } — list ids with the `datasets` query');
    if (input!.id !== undefined && input!.id !== null) {
      const ds = await this.datasets.get(input!.id);
      if (!ds) throw badInput(`${field}.id`, `no dataset "${input!.id}"`, 'list datasets with the `datasets` query, or build one with buildDataset');
      return { ref: ds.path, waitFor: null };
    }
    if (input!.path !== undefined && input!.path !== null) {
      const path = confinePath(input!.path, this.o.datasetRoots, `${field}.path`, 'dataset');
      if (!existsSync(join(path, 'samples.jsonl'))) throw badInput(`${field}.path`, `${path} has no samples.jsonl`, 'point at a directory written by `medad data synth` or an importer');
      return { ref: path, waitFor: null };
    }
    const source = await this.requireRun(input!.fromRun!, `${field}.fromRun`);
    if (source.kind !== RunKind.BuildDataset) throw badInput(`${field}.fromRun`, `run ${source.id} is a ${source.kind} run, not BUILD_DATASET`, 'pass a run started by buildDataset');
    this.assertUsable(source, `${field}.fromRun`);
    return { ref: `run:${source.id}`, waitFor: ACTIVE.includes(source.status) ? source.id : null };
  }

  private async checkpoint(input: CheckpointInput | undefined, field: string): Promise<{ ref: string; waitFor: string | null }> {
    const given = (['path', 'fromRun'] as const).filter((k) => input?.[k] !== undefined && input[k] !== null);
    if (given.length !== 1) throw badInput(field, `give exactly one of path, fromRun (got ${given.length ? given.join(', ') : 'none'})`, 'e.g. { fromRun: "<an SFT run id>" }');
    if (input!.path !== undefined && input!.path !== null) {
      const path = confinePath(input!.path, this.o.checkpointRoots, `${field}.path`, 'checkpoint');
      if (!existsSync(path)) throw badInput(`${field}.path`, `${path} does not exist`, "use a path from a run's `checkpoints` field");
      return { ref: path, waitFor: null };
    }
    const source = await this.requireRun(input!.fromRun!, `${field}.fromRun`);
    if (source.kind !== RunKind.Sft && source.kind !== RunKind.ConGrpo) throw badInput(`${field}.fromRun`, `run ${source.id} is a ${source.kind} run; checkpoints come from SFT or CON_GRPO runs`, 'pass a training run id');
    this.assertUsable(source, `${field}.fromRun`);
    return { ref: `run:${source.id}`, waitFor: ACTIVE.includes(source.status) ? source.id : null };
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

  /** `buildDataset`: queues the synthetic generator into `<first dataset root>/<name>`. */
  async buildDataset(input: BuildDatasetInput): Promise<RunRecord> {
    const name = parseInput(DATASET_NAME, input.name, 'input.name');
    const outDir = join(this.o.datasetRoots[0]!, name);
    const taken = (await this.store.datasets()).some((d) => d.id === name || d.path === outDir);
    const building = (await this.store.runsWithStatus(ACTIVE)).some((r) => r.kind === RunKind.BuildDataset && (r.config as { out?: string }).out === outDir);
    if (taken || building || existsSync(outDir)) {
      throw new MedadError(ErrorCode.Conflict, `input.name: a dataset named "${name}" already exists or is being built`, { fix: 'choose another name', details: { field: 'input.name' } });
    }
    const given = Object.fromEntries(Object.entries({ samples: input.samples, seed: input.seed, zoom: input.zoom }).filter(([, v]) => v !== undefined && v !== null));
    const generator = { plugin: 'synthetic', config: pluginConfig(this.registry, 'dataset', 'synthetic', { ...given, dir: outDir }, 'input') };
    delete generator.config.dir;
    const spec = parseInput(datasetSpecSchema, { kind: 'dataset', out: outDir, generator }, 'input');
    return this.create(RunKind.BuildDataset, this.allocate(RunKind.BuildDataset), spec, null);
  }

  /** `startSftRun`: the sft spec from the input (defaults from the spec schema). */
  async startSft(input: SftRunInput): Promise<RunRecord> {
    const data = await this.dataset(input.dataset, 'input.dataset');
    const at = this.allocate(RunKind.Sft);
    const spec = parseInput(
      sftSpecSchema,
      { kind: 'sft', data: data.ref, out: at.dir, seed: input.seed ?? undefined, backbone: this.backbone(input.backbone), hyper: input.hyper ?? undefined, compute: input.compute ?? undefined },
      'input',
    );
    return this.create(RunKind.Sft, at, spec, data.waitFor);
  }

  private backbone(input: { plugin?: string; config?: Record<string, unknown> } | undefined): { plugin: string; config: Record<string, unknown> } {
    const plugin = input?.plugin ?? 'tfjs-vlm';
    return { plugin, config: pluginConfig(this.registry, 'backbone', plugin, input?.config, 'input.backbone', this.guard) };
  }

  private judge(input: { plugin?: string; config?: Record<string, unknown> } | undefined): { plugin: string; config: Record<string, unknown> } {
    const plugin = input?.plugin ?? 'rule';
    return { plugin, config: pluginConfig(this.registry, 'judge', plugin, input?.config, 'input.judge', this.guard) };
  }

  /** `startConGrpoRun`: R = Σ λ·R over the given rewards (each with its config), with the judge for consistency. */
  async startConGrpo(input: ConGrpoRunInput): Promise<RunRecord> {
    const data = await this.dataset(input.dataset, 'input.dataset');
    const from = await this.checkpoint(input.from, 'input.from');
    const rewards = input.rewards?.map((r, i) => {
      const field = `input.rewards[${i}]`;
      if (!Number.isFinite(r.weight) || r.weight < 0) throw badInput(`${field}.weight`, `${r.weight} is not a finite number ≥ 0`, 'weights are λ in R = Σ λ·R, e.g. 1/3 each');
      return { plugin: r.plugin, weight: r.weight, config: pluginConfig(this.registry, 'reward', r.plugin, r.config, field, this.guard) };
    });
    const at = this.allocate(RunKind.ConGrpo);
    const spec = parseInput(
      conGrpoSpecSchema,
      { kind: 'con-grpo', data: data.ref, out: at.dir, from: from.ref, seed: input.seed ?? undefined, rewards, judge: this.judge(input.judge ?? undefined), hyper: input.hyper ?? undefined, compute: input.compute ?? undefined },
      'input',
    );
    return this.create(RunKind.ConGrpo, at, spec, from.waitFor ?? data.waitFor);
  }

  /** `startEvaluation`: accuracy per task and overall, consistency, format, mean ± std over seeds. */
  async startEvaluation(input: EvaluationInput): Promise<RunRecord> {
    const data = await this.dataset(input.dataset, 'input.dataset');
    const ckpt = await this.checkpoint(input.checkpoint, 'input.checkpoint');
    const seeds = input.seeds ?? EVAL_INPUT_DEFAULTS.seeds;
    const at = this.allocate(RunKind.Eval);
    const spec = parseInput(
      evalSpecSchema,
      {
        kind: 'eval',
        data: data.ref,
        out: at.dir,
        checkpoint: ckpt.ref,
        judge: this.judge(input.judge ?? undefined),
        seeds,
        decoding: input.decoding ?? (Array.isArray(seeds) && seeds.length > 1 ? 'sample' : 'greedy'),
        split: input.split ?? EVAL_INPUT_DEFAULTS.split,
        limit: input.limit ?? undefined,
        zoom: input.zoom ?? undefined,
      },
      'input',
    );
    return this.create(RunKind.Eval, at, spec, ckpt.waitFor ?? data.waitFor);
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

  /**
   * A run's metrics: at most `downsample` evenly spaced points (first and last kept), and at most
   * {@link DEFAULT_METRIC_POINTS} when not given, so no query returns an unbounded list.
   */
  metrics(runId: string, downsample: number = DEFAULT_METRIC_POINTS): Promise<MetricRow[]> {
    if (!Number.isInteger(downsample) || downsample < 1 || downsample > MAX_METRIC_POINTS) {
      throw badInput('downsample', `${downsample} is not in [1, ${MAX_METRIC_POINTS}]`, 'ask for at most as many points as you will plot');
    }
    return this.store.metrics(runId, downsample);
  }
}
