import { RunStatus } from '@medad/core';

/** What a run does; each kind maps to one child command (see `run-commands.ts`). */
export enum RunKind {
  BuildDataset = 'BUILD_DATASET',
  Sft = 'SFT',
  ConGrpo = 'CON_GRPO',
  Eval = 'EVAL',
}

/** Statuses a run never leaves on its own. */
export const FINAL_STATUSES: readonly RunStatus[] = [
  RunStatus.Succeeded,
  RunStatus.Failed,
  RunStatus.Cancelled,
  RunStatus.Interrupted,
];

/** Statuses from which `resumeRun` may queue a run again. */
export const RESUMABLE_STATUSES: readonly RunStatus[] = [RunStatus.Failed, RunStatus.Cancelled, RunStatus.Interrupted];

/** One row of the `runs` table. */
export interface RunRecord {
  id: string;
  kind: RunKind;
  status: RunStatus;
  statusMessage: string | null;
  /** The validated user config the run was started with. */
  config: Record<string, unknown>;
  /** The child command of the last attempt (`argv` after the CLI path). */
  command: string[] | null;
  /** Directory holding the run's outputs (checkpoints, metrics.jsonl, eval.json, logs). */
  dir: string;
  /** Compute backend the run reported (`wasm`, `tensorflow`, `ort-cpu`...). */
  backend: string | null;
  /** A run that must succeed before this one starts (its outputs feed this run). */
  dependsOn: string | null;
  attempts: number;
  /** Process id of the running child, null when not running. */
  pid: number | null;
  /** Host that runs it (`local` or a worker name). */
  worker: string | null;
  /** The control-plane replica that claimed it (`host/pid/nonce`), null while unclaimed. */
  owner: string | null;
  /** When its owner last said it is alive (database clock). */
  heartbeatAt: Date | null;
  /** When another replica's cancelRun asked the owner to stop it (cleared when the run is queued again). */
  cancelRequestedAt?: Date | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Fields given when a run is created. */
export interface NewRun {
  id: string;
  kind: RunKind;
  config: Record<string, unknown>;
  dir: string;
  dependsOn?: string | null;
}

/** One stored metric row: every scalar a run reported at a step. */
export interface MetricRow {
  runId: string;
  step: number;
  time: Date;
  values: Record<string, number>;
}

/** One stored status change or log line. */
export interface RunEventRecord {
  runId: string;
  type: 'status' | 'log';
  status: RunStatus | null;
  level: string | null;
  message: string | null;
  time: Date;
}

/** A checkpoint a run wrote. */
export interface CheckpointRecord {
  runId: string;
  step: number;
  path: string;
  createdAt: Date;
}

/** A dataset the control plane knows (built by a run or registered from a root). */
export interface DatasetRecord {
  id: string;
  name: string;
  path: string;
  runId: string | null;
  info: Record<string, unknown> | null;
  createdAt: Date;
}

/** An evaluation's `eval.json`, as stored. */
export interface EvaluationRecord {
  runId: string;
  result: Record<string, unknown>;
  createdAt: Date;
}
