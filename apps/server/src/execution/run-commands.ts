import { availableParallelism } from 'node:os';
import { ErrorCode, MedadError, RunStatus } from '@medad/core';
import { RunKind, type RunRecord } from '../domain.js';
import type { Store } from '../store/store.js';
import type { BuildDatasetConfig, CheckpointRef, ConGrpoConfig, DatasetRef, EvalConfig, SftConfig } from './run-config.js';

/**
 * THE CHILD-COMMAND CONTRACT (the one place that maps a run to the `medad` command it forks).
 *
 * The executor runs `node <cli> <argv...>` (`<cli>` = apps/cli/bin/medad.js, or `MEDAD_RUN_CLI`)
 * with an IPC channel, cwd = the project root, env `MEDAD_RUN_ID` and `MEDAD_RUN_DIR`, and expects:
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
 * Training commands receive `--run-id`; the full validated run config is also written to
 * `<runDir>/run-config.json` for the record.
 */
export interface RunCommand {
  /** Arguments after the CLI path. */
  argv: string[];
  /** Where the run's outputs go. */
  outDir: string;
}

/** Name of the full-config file written into each run directory. */
export const RUN_CONFIG_FILE = 'run-config.json';

async function datasetPath(ref: DatasetRef, store: Store, field: string): Promise<string> {
  if ('path' in ref) return ref.path;
  const source = await store.getRun(ref.fromRun);
  if (!source || source.kind !== RunKind.BuildDataset) {
    throw new MedadError(ErrorCode.NotFound, `${field}.fromRun "${ref.fromRun}" is not a buildDataset run`, {
      fix: 'pass the id of a run started by buildDataset, or a dataset path',
    });
  }
  if (source.status !== RunStatus.Succeeded) {
    throw new MedadError(ErrorCode.Conflict, `${field}.fromRun "${ref.fromRun}" has status ${source.status}, not SUCCEEDED`, {
      fix: 'resume or rebuild that dataset run first',
    });
  }
  return (source.config as unknown as BuildDatasetConfig).outDir;
}

async function checkpointPath(ref: CheckpointRef, store: Store, field: string): Promise<string> {
  if ('path' in ref) return ref.path;
  const latest = (await store.checkpoints(ref.fromRun)).at(-1);
  if (!latest) {
    throw new MedadError(ErrorCode.NotFound, `${field}.fromRun "${ref.fromRun}" has no checkpoint`, {
      fix: 'wait for that training run to save a checkpoint, or pass a checkpoint path',
    });
  }
  return latest.path;
}

const num = (x: number): string => String(x);

/** The CLI's `--judge` value: the plugin id, with its config as `ID:{json}` when it has one. */
function judgeArg(judge: { plugin: string; config?: Record<string, unknown> }): string {
  return judge.config && Object.keys(judge.config).length > 0 ? `${judge.plugin}:${JSON.stringify(judge.config)}` : judge.plugin;
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
 * Builds the child command of a run, resolving dataset and checkpoint references now (at launch).
 * `threads` (training runs) = gradient threads per job ({@link threadsPerJob}); omitted = the CLI's `auto`.
 */
export async function runCommand(run: RunRecord, store: Store, options: { threads?: number } = {}): Promise<RunCommand> {
  const threads = options.threads !== undefined ? ['--threads', num(options.threads)] : [];
  switch (run.kind) {
    case RunKind.BuildDataset: {
      const c = run.config as unknown as BuildDatasetConfig;
      const argv = ['data', 'synth', '--out', c.outDir, '--samples', num(c.samples), '--seed', num(c.seed)];
      if (c.zoom) argv.push('--zoom');
      return { argv, outDir: c.outDir };
    }
    case RunKind.Sft: {
      const c = run.config as unknown as SftConfig;
      const data = await datasetPath(c.dataset, store, 'dataset');
      const h = c.hyper;
      return {
        outDir: run.dir,
        argv: [
          'train', 'sft', '--data', data, '--preset', c.backbone.preset, '--seed', num(c.seed), '--out', run.dir,
          '--steps', num(h.steps), '--batch-size', num(h.batchSize), '--lr', num(h.learningRate),
          '--warmup-steps', num(h.warmupSteps), '--save-every', num(h.checkpointEvery), '--grad-engine', h.gradEngine ?? 'auto', '--run-id', run.id, ...threads,
          ...(h.grounding !== undefined ? ['--grounding', num(h.grounding)] : []),
        ],
      };
    }
    case RunKind.ConGrpo: {
      const c = run.config as unknown as ConGrpoConfig;
      const data = await datasetPath(c.dataset, store, 'dataset');
      const from = await checkpointPath(c.from, store, 'from');
      const h = c.hyper;
      return {
        outDir: run.dir,
        argv: [
          'train', 'con-grpo', '--from', from, '--data', data, '--out', run.dir, '--seed', num(c.seed),
          '--steps', num(h.steps), '--prompts-per-step', num(h.promptsPerStep), '--group-size', num(h.groupSize),
          '--beta', num(h.beta), '--epsilon', num(h.clipEpsilon), '--lr', num(h.learningRate), '--temperature', num(h.temperature),
          '--rewards', c.rewards.map((r) => `${r.plugin}=${r.weight}`).join(','),
          '--judge', judgeArg(c.judge), '--save-every', num(h.checkpointEvery), '--grad-engine', h.gradEngine ?? 'auto',
          ...(h.oversample !== undefined ? ['--oversample', num(h.oversample)] : []), '--run-id', run.id, ...threads,
        ],
      };
    }
    case RunKind.Eval: {
      const c = run.config as unknown as EvalConfig;
      const data = await datasetPath(c.dataset, store, 'dataset');
      const checkpoint = await checkpointPath(c.checkpoint, store, 'checkpoint');
      const argv = [
        'eval', '--checkpoint', checkpoint, '--data', data, '--seeds', c.seeds.join(','), '--json', '--out', run.dir,
        '--judge', judgeArg(c.judge), '--split', c.split,
      ];
      if (c.decoding === 'sample') argv.push('--sample');
      if (c.limit !== undefined) argv.push('--limit', num(c.limit));
      return { argv, outDir: run.dir };
    }
  }
}
