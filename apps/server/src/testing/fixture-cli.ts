#!/usr/bin/env node
/**
 * TEST FIXTURE — not a trainer. A stand-in for `apps/cli/bin/medad.js` that honours the
 * child-command contract of `execution/run-commands.ts` exactly (argv, IPC events via core's
 * `ipcEventSink`, metrics.jsonl, an atomic `checkpoint/` with `trainer-state.json`, resume from the last checkpoint,
 * eval.json, dataset files, exit codes) with trivial arithmetic instead of learning, so the
 * control plane's tests run in seconds before the real `medad train`/`medad eval` exist.
 * Point a server at it with `MEDAD_RUN_CLI=<this file>`.
 *
 * Knobs (env): MEDAD_FIXTURE_STEP_MS (delay per step, default 20), MEDAD_FIXTURE_FAIL_AT (exit 3
 * at that step on the first attempt only).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ipcEventSink, TASKS, type RunEvent } from '@medad/core';

const sink = ipcEventSink();
const runId = process.env.MEDAD_RUN_ID ?? 'fixture';
const stepMs = Number(process.env.MEDAD_FIXTURE_STEP_MS ?? 20);
/**
 * `run SPEC.json` (what the control plane launches) is read as the flags the stages below take:
 * the spec's out, steps, saveEvery, seed, checkpoint, seeds and samples.
 */
function specArgv(args: string[]): string[] {
  if (args[0] !== 'run') return args;
  const spec = JSON.parse(readFileSync(args[1]!, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const flags = (o: Record<string, unknown>): string[] => Object.entries(o).flatMap(([k, v]) => (v === undefined ? [] : [`--${k}`, String(v)]));
  switch (spec.kind) {
    case 'dataset':
      return ['data', 'synth', ...flags({ out: spec.out, samples: spec.generator.config.samples ?? 2000, seed: spec.generator.config.seed ?? 0 })];
    case 'sft':
    case 'con-grpo':
      return ['train', spec.kind, ...flags({ out: spec.out, steps: spec.hyper.steps, 'save-every': spec.hyper.saveEvery, seed: spec.seed })];
    case 'eval':
      return ['eval', ...flags({ out: spec.out, checkpoint: spec.checkpoint, seeds: spec.seeds.join(',') })];
    default:
      return args;
  }
}
const argv = specArgv(process.argv.slice(2));
const flag = (name: string, fallback?: string): string => {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? argv[i + 1] : fallback;
  if (v === undefined) {
    process.stderr.write(`fixture-cli: missing --${name}\n`);
    process.exit(2);
  }
  return v;
};
const emit = (e: Omit<RunEvent, 'runId' | 'time'> & Record<string, unknown>): void => void sink.emit({ runId, time: Date.now(), ...e } as RunEvent);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// The server died: exit; the run is resumed later from its checkpoint.
process.on('disconnect', () => process.exit(70));

const STATE = 'trainer-state.json';

function latestCheckpoint(out: string): number {
  // A kill between the two renames below leaves only checkpoint.old: that one is the latest.
  const dir = join(out, 'checkpoint');
  if (!existsSync(dir) && existsSync(`${dir}.old`)) renameSync(`${dir}.old`, dir);
  const file = join(dir, STATE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { step: number }).step : 0;
}

async function train(stage: string): Promise<void> {
  const out = flag('out');
  const steps = Number(flag('steps'));
  const every = Number(flag('save-every', '5'));
  const seed = Number(flag('seed', '0'));
  mkdirSync(out, { recursive: true });
  const start = latestCheckpoint(out);
  const log = join(out, 'metrics.jsonl');
  // Keep rows up to the checkpoint (later ones are recomputed), dropping a torn last line.
  const kept = existsSync(log)
    ? readFileSync(log, 'utf8').split('\n').filter((l) => {
        try {
          return (JSON.parse(l) as { step: number }).step <= start;
        } catch {
          return false;
        }
      })
    : [];
  writeFileSync(log, kept.map((l) => l + '\n').join(''));
  emit({ type: 'info', info: { backend: 'fixture' } });
  emit({ type: 'log', level: 'info', message: start ? `resumed from step ${start}` : `${stage}: starting` });
  const failAt = Number(process.env.MEDAD_FIXTURE_FAIL_AT ?? 0);
  for (let step = start + 1; step <= steps; step++) {
    await sleep(stepMs);
    if (step === failAt && !existsSync(join(out, '.failed-once'))) {
      writeFileSync(join(out, '.failed-once'), '');
      process.stderr.write(`fixture-cli: injected failure at step ${step}\n`);
      process.exit(3);
    }
    const values = { loss: Number((2 / (1 + 0.1 * step) + (seed % 7) * 1e-3).toFixed(6)), reward: Number((step / steps).toFixed(6)) };
    appendFileSync(log, JSON.stringify({ step, ...values }) + '\n');
    emit({ type: 'metric', step, values });
    if (step % every === 0 || step === steps) {
      const dir = join(out, 'checkpoint');
      const tmp = `${dir}.tmp`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      writeFileSync(join(tmp, STATE), JSON.stringify({ kind: stage, step, seed }));
      // Never a moment without a checkpoint: the old one is moved aside, the new one moved in, then the old removed.
      rmSync(`${dir}.old`, { recursive: true, force: true });
      if (existsSync(dir)) renameSync(dir, `${dir}.old`);
      renameSync(tmp, dir);
      rmSync(`${dir}.old`, { recursive: true, force: true });
      emit({ type: 'checkpoint', step, path: dir });
    }
  }
}

async function evaluate(): Promise<void> {
  const out = flag('out');
  const ckpt = JSON.parse(readFileSync(join(flag('checkpoint'), STATE), 'utf8')) as { step: number };
  const seeds = flag('seeds').split(',').map(Number);
  mkdirSync(out, { recursive: true });
  const perTask: Record<string, number> = {};
  TASKS.forEach((t, i) => (perTask[t] = 20 + ((ckpt.step * 3 + i * 11) % 60)));
  seeds.forEach((s, i) => emit({ type: 'metric', step: i + 1, values: { seed: s, done: (i + 1) / seeds.length } }));
  const overall = Object.values(perTask).reduce((a, b) => a + b, 0) / TASKS.length;
  const std = { overall: 1.5, consistency: 2, formatRate: 0, thinkCorrectness: 1, perTask: Object.fromEntries(TASKS.map((t) => [t, 1])) };
  writeFileSync(join(out, 'eval.json'), JSON.stringify({ overall, perTask, consistency: 70, formatRate: 100, invalidRate: 0, seeds, std, n: 50 }, null, 2));
}

function synth(): void {
  const out = flag('out');
  const n = Number(flag('samples'));
  mkdirSync(out, { recursive: true });
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `s${i}`, task: TASKS[i % TASKS.length], split: i % 10 < 7 ? 'train' : 'test' }));
  writeFileSync(join(out, 'samples.jsonl'), lines.join('\n') + '\n');
  writeFileSync(join(out, 'dataset.json'), JSON.stringify({ id: `fixture-s${flag('seed')}-n${n}`, counts: { train: Math.ceil(n * 0.7), test: n - Math.ceil(n * 0.7) } }));
  emit({ type: 'metric', step: 1, values: { samples: n } });
}

const [a, b] = argv;
if (a === 'data' && b === 'synth') synth();
else if (a === 'train' && (b === 'sft' || b === 'con-grpo')) await train(b);
else if (a === 'eval') await evaluate();
else {
  process.stderr.write(`fixture-cli: unknown command ${argv.join(' ')}\n`);
  process.exit(2);
}
// Messages are delivered in order: once this one is written, every event before it is too.
if (process.send && process.connected) await new Promise((resolve) => process.send!({ fixtureDone: true }, undefined, {}, resolve));
process.exit(0);
