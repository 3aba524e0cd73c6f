import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ErrorCode, MedadError, errorMessage } from '@medad/core';
import { RunKind, type MetricRow, type RunRecord } from '../domain.js';
import type { Store } from '../store/store.js';
import { datasetRunOut } from './run-commands.js';

/** Output directory of a run (a dataset run writes into its dataset directory). */
export function outputDir(run: RunRecord): string {
  return run.kind === RunKind.BuildDataset ? datasetRunOut(run) : run.dir;
}

/** Parses `metrics.jsonl` rows (`{ step, ...values }`); torn or non-numeric lines are skipped. */
export function parseMetricsLog(text: string, runId: string, fallbackTime: Date): MetricRow[] {
  const rows: MetricRow[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line torn by a kill mid-write; the step is recomputed on resume
    }
    if (!Number.isInteger(obj.step)) continue;
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (k !== 'step' && k !== 'time' && typeof v === 'number' && Number.isFinite(v)) values[k] = v;
    }
    const time = typeof obj.time === 'number' ? new Date(obj.time) : fallbackTime;
    rows.push({ runId, step: obj.step as number, time, values });
  }
  return rows;
}

/**
 * Stores the rows of `<out>/metrics.jsonl` that the database lacks (metrics are idempotent on
 * (run, step)), so nothing the run wrote is lost when IPC messages or a buffered batch were.
 */
export async function importMetricsLog(store: Store, run: RunRecord): Promise<number> {
  const file = join(outputDir(run), 'metrics.jsonl');
  if (!existsSync(file)) return 0;
  const rows = parseMetricsLog(readFileSync(file, 'utf8'), run.id, statSync(file).mtime);
  let added = 0;
  for (let i = 0; i < rows.length; i += 500) added += await store.insertMetrics(rows.slice(i, i + 500));
  return added;
}

/** Records the run's latest checkpoint, `<out>/checkpoint/` with the step in `trainer-state.json`. */
export async function scanCheckpoints(store: Store, run: RunRecord): Promise<number> {
  const dir = join(outputDir(run), 'checkpoint');
  const stateFile = join(dir, 'trainer-state.json');
  if (!existsSync(stateFile)) return 0;
  let step: unknown;
  try {
    step = (JSON.parse(readFileSync(stateFile, 'utf8')) as { step?: unknown }).step;
  } catch {
    return 0; // unreadable state: the trainer's own resume reports it
  }
  if (!Number.isInteger(step)) return 0;
  await store.upsertCheckpoint({ runId: run.id, step: step as number, path: dir, createdAt: statSync(stateFile).mtime });
  return 1;
}

function readJson(file: string, what: string): Record<string, unknown> {
  if (!existsSync(file)) throw new MedadError(ErrorCode.InvalidData, `${what} ${file} was not written`, { fix: 'check the run logs (stderr.log in the run directory)' });
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new MedadError(ErrorCode.InvalidData, `${file}: ${errorMessage(err)}`, { fix: 'the command must write a JSON object there' });
  }
}

/** After a successful exit: stores an evaluation's `eval.json`, registers a built dataset. */
export async function collectOutputs(store: Store, run: RunRecord): Promise<void> {
  if (run.kind === RunKind.Eval) {
    const file = join(run.dir, 'eval.json');
    const result = readJson(file, 'eval result');
    if (typeof result.overall !== 'number' || typeof result.perTask !== 'object' || result.perTask === null) {
      throw new MedadError(ErrorCode.InvalidData, `${file}: fields "overall" (number) and "perTask" (object) are required`, {
        fix: 'write eval.json as { overall, perTask: { <task>: number }, consistency, formatRate, invalidRate, seeds, std }',
      });
    }
    await store.saveEvaluation(run.id, result);
  } else if (run.kind === RunKind.BuildDataset) {
    const out = datasetRunOut(run);
    if (!existsSync(join(out, 'samples.jsonl'))) {
      throw new MedadError(ErrorCode.InvalidData, `dataset ${out} has no samples.jsonl`, { fix: 'check the run logs (stderr.log in the run directory)' });
    }
    const info = existsSync(join(out, 'dataset.json')) ? readJson(join(out, 'dataset.json'), 'dataset descriptor') : null;
    await store.upsertDataset({ id: basename(out), name: basename(out), path: out, runId: run.id, info, createdAt: new Date() });
  }
}
