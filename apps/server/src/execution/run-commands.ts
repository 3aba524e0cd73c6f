import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, MedadError, RUN_SPEC_FILE, RunStatus, parseRunSpec, runRefId, type RunSpec } from '@medad/core';
import { RunKind, type RunRecord } from '../domain.js';
import type { Store } from '../store/store.js';

/**
 * THE CHILD-COMMAND CONTRACT (the one place that maps a run to the `medad` command it forks).
 *
 * The executor writes the run's resolved spec to `<runDir>/spec.json` and runs
 * `node <cli> run <runDir>/spec.json --run-id <id>` (`<cli>` = apps/cli/bin/medad.js, or
 * `MEDAD_RUN_CLI`) with an IPC channel, cwd = the project root, env `MEDAD_RUN_ID` and
 * `MEDAD_RUN_DIR`, and expects:
 * - events over IPC with `ipcEventSink()` from @medad/core: `metric` events (step + numeric values)
 *   and `log` events; optionally `{ type: 'info', info: { backend } }` (the compute backend used)
 *   and `{ type: 'checkpoint', step, path }` when a checkpoint is complete;
 * - training commands write `<out>/metrics.jsonl` (one row per step, `{ step, ...values }`) and
 *   their latest checkpoint atomically as `<out>/checkpoint/` (with `trainer-state.json` holding
 *   its `step`), and when started again with the same `--out` they resume from it;
 * - `eval` writes `<out>/eval.json` ({ overall, perTask, consistency, formatRate, invalidRate, seeds, std });
 * - `data synth` writes `<out>/samples.jsonl`, `<out>/images/`, `<out>/dataset.json`;
 * - exit code 0 = success; any other exit is a failure whose last stderr lines are the reason;
 * - on SIGTERM, stop soon (the run is cancelled or the server is shutting down); when the IPC
 *   channel disconnects (the server died), exit — the run is resumed later from its checkpoint.
 * The stored spec (with its `run:<id>` references) is also written to `<runDir>/run-config.json`
 * for the record.
 */
export interface RunCommand {
  /** Arguments after the CLI path. */
  argv: string[];
  /** Where the run's outputs go. */
  outDir: string;
}

/** Name of the stored-config file written into each run directory. */
export const RUN_CONFIG_FILE = 'run-config.json';
/** Name of the resolved spec the child runs (the one name, from @medad/core). */
export { RUN_SPEC_FILE };

type Legacy = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A stored `{ path } | { fromRun }` reference (configs stored before run specs) as a spec path. */
const legacyRef = (ref: Legacy | undefined): string | undefined => (ref ? (ref.path ?? (ref.fromRun ? `run:${ref.fromRun}` : undefined)) : undefined);

/**
 * A run's stored spec. Runs stored before run specs existed hold a config of their own shape
 * (`hyper.learningRate`, `dataset: { fromRun }`, …); it is read as the equivalent spec so those
 * runs can still be resumed.
 */
export function storedSpec(run: RunRecord): Record<string, unknown> {
  const c = run.config as Legacy;
  if (typeof c.kind === 'string') return c;
  const h: Legacy = c.hyper ?? {};
  const judge = c.judge ? { plugin: c.judge.plugin, config: c.judge.config ?? {} } : undefined;
  switch (run.kind) {
    case RunKind.BuildDataset:
      return { kind: 'dataset', out: c.outDir, generator: { plugin: 'synthetic', config: { samples: c.samples, seed: c.seed, zoom: c.zoom, build: 'changed' } } };
    case RunKind.Sft:
      return {
        kind: 'sft', data: legacyRef(c.dataset), out: run.dir, seed: c.seed,
        backbone: { plugin: c.backbone?.plugin ?? 'tfjs-vlm', config: { ...(c.backbone?.config ?? {}), ...(c.backbone?.preset ? { preset: c.backbone.preset } : {}) } },
        hyper: { steps: h.steps, batchSize: h.batchSize, lr: h.learningRate, warmupSteps: h.warmupSteps, saveEvery: h.checkpointEvery, grounding: h.grounding },
        compute: { gradEngine: h.gradEngine },
      };
    case RunKind.ConGrpo:
      return {
        kind: 'con-grpo', data: legacyRef(c.dataset), out: run.dir, from: legacyRef(c.from), seed: c.seed, rewards: c.rewards, judge,
        hyper: { steps: h.steps, promptsPerStep: h.promptsPerStep, groupSize: h.groupSize, beta: h.beta, epsilon: h.clipEpsilon, lr: h.learningRate, temperature: h.temperature, saveEvery: h.checkpointEvery, oversample: h.oversample, mu: 1 }, // μ = 1: the default when these runs were stored
        compute: { gradEngine: h.gradEngine },
      };
    case RunKind.Eval:
      return { kind: 'eval', data: legacyRef(c.dataset), out: run.dir, checkpoint: legacyRef(c.checkpoint), judge, seeds: c.seeds, decoding: c.decoding, split: c.split, limit: c.limit };
  }
}

/** The output directory of a dataset-building run. */
export function datasetRunOut(run: RunRecord): string {
  return storedSpec(run).out as string;
}

async function datasetPath(value: string, store: Store, field: string): Promise<string> {
  const id = runRefId(value);
  if (!id) return value;
  const source = await store.getRun(id);
  if (!source || source.kind !== RunKind.BuildDataset) {
    throw new MedadError(ErrorCode.NotFound, `${field} "${value}" is not a buildDataset run`, {
      fix: 'pass the id of a run started by buildDataset, or a dataset path',
    });
  }
  if (source.status !== RunStatus.Succeeded) {
    throw new MedadError(ErrorCode.Conflict, `${field} "${value}" has status ${source.status}, not SUCCEEDED`, {
      fix: 'resume or rebuild that dataset run first',
    });
  }
  return datasetRunOut(source);
}

async function checkpointPath(value: string, store: Store, field: string): Promise<string> {
  const id = runRefId(value);
  if (!id) return value;
  const latest = (await store.checkpoints(id)).at(-1);
  if (!latest) {
    throw new MedadError(ErrorCode.NotFound, `${field} "${value}" has no checkpoint`, {
      fix: 'wait for that training run to save a checkpoint, or pass a checkpoint path',
    });
  }
  return latest.path;
}

/**
 * Gradient threads per training job when `jobs` run side by side on this machine's cores
 * (at least 1), so that concurrent jobs do not oversubscribe the cores; undefined when the jobs run
 * elsewhere (a queue with remote workers: each child picks its own with `auto`).
 */
export function threadsPerJob(jobs: number, cores = availableParallelism()): number | undefined {
  return Number.isFinite(jobs) && jobs >= 1 ? Math.max(1, Math.floor(cores / jobs)) : undefined;
}

/**
 * The spec a run executes: its stored spec with `run:<id>` references resolved now (at launch)
 * and, for training runs left at `threads: auto`, `threads` gradient threads ({@link threadsPerJob}).
 */
export async function resolveRunSpec(run: RunRecord, store: Store, options: { threads?: number } = {}): Promise<RunSpec> {
  // A copy without the keys a legacy config leaves undefined (the spec's defaults fill them).
  const spec = JSON.parse(JSON.stringify(storedSpec(run))) as Record<string, unknown>;
  if (typeof spec.data === 'string') spec.data = await datasetPath(spec.data, store, 'data');
  if (typeof spec.from === 'string') spec.from = await checkpointPath(spec.from, store, 'from');
  if (typeof spec.checkpoint === 'string') spec.checkpoint = await checkpointPath(spec.checkpoint, store, 'checkpoint');
  const compute = spec.compute as { threads?: unknown } | undefined;
  if (compute && compute.threads === 'auto' && options.threads !== undefined) spec.compute = { ...compute, threads: options.threads };
  return parseRunSpec(spec, `run ${run.id}`);
}

/** The child command of a run: `run <runDir>/spec.json --run-id <id>`. */
export function runArgv(run: Pick<RunRecord, 'id' | 'dir'>): string[] {
  return ['run', join(run.dir, RUN_SPEC_FILE), '--run-id', run.id];
}
