import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, MedadError } from '@medad/core';
import { LocalLauncher, type Launcher, type RunHandle } from '@medad/server';
import { dependentsOf, estimateWall, specFile, validatePlan, type Job } from './plan.js';

/** What `jobs/<id>.done` holds. */
export interface DoneRecord {
  job: string;
  /** The job's arguments with the output directory written as `$OUT`: a changed plan is detected. */
  key: string;
  exitedAt: string;
  seconds: number;
}

/** Terminal state of a job after {@link Executor.run}. */
export type JobOutcome = 'done' | 'already-done' | 'failed' | 'blocked' | 'interrupted' | 'not-run';

/** A failed job with the tail of its log. */
export interface JobFailure {
  id: string;
  code: number | null;
  signal: string | null;
  log: string;
  tail: string[];
}

/** What {@link Executor.run} returns. */
export interface ExecutionResult {
  outcomes: Record<string, JobOutcome>;
  ran: string[];
  alreadyDone: string[];
  failed: JobFailure[];
  /** Not started because a job they depend on failed. */
  blocked: string[];
  interrupted: boolean;
  wallSeconds: number;
}

/** A snapshot for the progress line. */
export interface ExecutorStatus {
  total: number;
  finished: number;
  failed: number;
  running: Array<{ id: string; seconds: number }>;
  elapsed: number;
  /** Estimated seconds to go (NaN when unknown). */
  eta: number;
}

/** Options of {@link Executor}. */
export interface ExecutorOptions {
  /** Logs go to `<outDir>/logs/<id>/` (stdout.log, stderr.log), done files to `<outDir>/jobs/<id>.done`. */
  outDir: string;
  concurrency: number;
  /**
   * Starts each job's process: the control plane's launcher, so `medad reproduce` runs its jobs
   * exactly as the server runs its runs — here as local child processes (the default), or on
   * `medad worker`s through the Redis queue (`--queue redis`: jobs with a run spec go there — the
   * queue carries specs, never command lines — and the rest run here). Every job runs `node <script> …`.
   */
  launcher?: Launcher;
  env?: Record<string, string>;
  /** Called when a job starts or ends (for progress output). */
  onEvent?: (e: { type: 'start' | 'done' | 'failed' | 'blocked'; id: string; seconds?: number }) => void;
  /** Seconds between SIGTERM and SIGKILL on {@link Executor.stop}. */
  killAfter?: number;
}

/** The done-file key of a job: its run spec (else its arguments), with `outDir` replaced so a moved directory still matches. */
export function doneKey(job: Job, outDir: string): string {
  if (job.spec) return JSON.stringify(job.spec).split(outDir).join('$OUT');
  return JSON.stringify(job.cli.map((a) => a.split(outDir).join('$OUT')));
}

/** Writes a job's spec where its command reads it (atomically). */
function writeJobSpec(job: Job, outDir: string): void {
  if (!job.spec) return;
  const file = specFile(outDir, job.id);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(job.spec, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

/** The done-file path of a job. */
export function doneFile(outDir: string, id: string): string {
  return join(outDir, 'jobs', `${id}.done`);
}

/** The directory a job's process logs into (`stdout.log`, `stderr.log`). */
export function logDir(outDir: string, id: string): string {
  return join(outDir, 'logs', id);
}

/** The log a job's attempts are recorded in (its stderr, with a header and an exit line per attempt). */
export function logFile(outDir: string, id: string): string {
  return join(logDir(outDir, id), 'stderr.log');
}

/**
 * Ids of the jobs already finished in an earlier invocation. A done file written for different
 * arguments (another preset or a changed table) is an error: mixing them would mix results.
 */
export function finishedJobs(jobs: readonly Job[], outDir: string): Set<string> {
  const out = new Set<string>();
  const changed: string[] = [];
  for (const j of jobs) {
    const f = doneFile(outDir, j.id);
    if (!existsSync(f)) continue;
    let rec: Partial<DoneRecord> = {};
    try {
      rec = JSON.parse(readFileSync(f, 'utf8')) as DoneRecord;
    } catch {
      continue; // torn write: run the job again (training and eval resume by themselves)
    }
    if (rec.key !== doneKey(j, outDir)) changed.push(j.id);
    else out.add(j.id);
  }
  if (changed.length) {
    throw new MedadError(ErrorCode.BadUserInput, `${outDir} holds finished jobs made with other settings (${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ', …' : ''})`, {
      fix: 'use a new --out directory for a different preset or settings, or delete the listed jobs/<id>.done files and their run directories',
    });
  }
  return out;
}

/** Last `n` non-empty lines of a file's last attempt (what follows the last `=== <time> medad …` header). */
export function tailLines(file: string, n = 15): string[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split(/\r?\n|\r/).filter((l) => l.trim());
  let from = 0;
  lines.forEach((l, i) => {
    if (/^=== \d{4}-\d\d-\d\dT\S+ medad /.test(l)) from = i;
  });
  return lines.slice(from).slice(-n);
}

/**
 * Longest estimated path from each job to the end of the plan (its own estimate included):
 * ready jobs with the longest remaining chain start first.
 */
export function bottomLevels(jobs: readonly Job[]): Map<string, number> {
  const level = new Map<string, number>();
  for (let i = jobs.length - 1; i >= 0; i--) {
    const j = jobs[i]!;
    let best = 0;
    for (const k of jobs) if (k.deps.includes(j.id)) best = Math.max(best, level.get(k.id) ?? 0);
    level.set(j.id, j.estimate + best);
  }
  return level;
}

/**
 * Runs a plan's jobs as child processes, at most `concurrency` at a time, longest remaining
 * chain first. Finished jobs write a done file and are skipped next time; a failed job blocks
 * its dependents while independent jobs go on.
 */
export class Executor {
  private readonly children = new Map<string, { child: RunHandle; started: number }>();
  private readonly launcher: Launcher;
  private stopping = false;
  private started = 0;
  private readonly outcomes: Record<string, JobOutcome> = {};
  private readonly actual = new Map<string, number>();
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly jobs: readonly Job[],
    private readonly o: ExecutorOptions,
  ) {
    validatePlan(jobs);
    const local = new LocalLauncher(Math.max(1, o.concurrency));
    const remote = o.launcher;
    // A queue carries run specs only (never command lines): jobs without a spec (the baselines) run here.
    this.launcher = remote ? { capacity: remote.capacity, launch: (spec, hooks) => (spec.spec ? remote : local).launch(spec, hooks) } : local;
  }

  /** Stops: no new jobs, SIGTERM to running children (SIGKILL after `killAfter` s). */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const { child } of this.children.values()) child.kill('SIGTERM');
    this.killTimer = setTimeout(() => {
      for (const { child } of this.children.values()) child.kill('SIGKILL');
    }, (this.o.killAfter ?? 10) * 1000);
    this.killTimer.unref();
  }

  /** Sends SIGTERM to every running child now (for a process `exit` handler). */
  killAll(): void {
    for (const { child } of this.children.values()) child.kill('SIGTERM');
  }

  /** Progress snapshot: counts, running jobs, elapsed and the plan-based ETA. */
  status(now = Date.now()): ExecutorStatus {
    const fin = new Set(Object.entries(this.outcomes).filter(([, s]) => s === 'done' || s === 'already-done').map(([id]) => id));
    // Calibrate the estimates by what this machine actually took for the jobs run so far.
    let est = 0;
    let act = 0;
    for (const [id, sec] of this.actual) {
      est += this.jobs.find((j) => j.id === id)!.estimate;
      act += sec;
    }
    const scale = est > 0 && act > 0 ? Math.min(4, Math.max(0.25, act / est)) : 1;
    const running = new Map<string, number>();
    for (const [id, { started }] of this.children) {
      const j = this.jobs.find((x) => x.id === id)!;
      running.set(id, Math.max(1, j.estimate * scale - (now - started) / 1000));
    }
    const live = this.jobs.filter((j) => this.outcomes[j.id] !== 'blocked' && this.outcomes[j.id] !== 'failed');
    return {
      total: this.jobs.length,
      finished: fin.size,
      failed: Object.values(this.outcomes).filter((s) => s === 'failed').length,
      running: [...this.children].map(([id, c]) => ({ id, seconds: (now - c.started) / 1000 })),
      elapsed: this.started ? (now - this.started) / 1000 : 0,
      eta: estimateWall(live, this.o.concurrency, fin, running, scale),
    };
  }

  /** Runs every job not already done; resolves when all are finished, failed, blocked or stopped. */
  async run(): Promise<ExecutionResult> {
    const { outDir } = this.o;
    mkdirSync(join(outDir, 'logs'), { recursive: true });
    mkdirSync(join(outDir, 'jobs'), { recursive: true });
    this.started = Date.now();
    const already = finishedJobs(this.jobs, outDir);
    for (const j of this.jobs) this.outcomes[j.id] = already.has(j.id) ? 'already-done' : 'not-run';
    const priority = bottomLevels(this.jobs);
    const failures: JobFailure[] = [];
    const ran: string[] = [];
    const ok = (id: string): boolean => this.outcomes[id] === 'done' || this.outcomes[id] === 'already-done';

    await new Promise<void>((resolveAll) => {
      const pump = (): void => {
        if (!this.stopping) {
          const ready = this.jobs
            .filter((j) => this.outcomes[j.id] === 'not-run' && !this.children.has(j.id) && j.deps.every(ok))
            .sort((a, b) => priority.get(b.id)! - priority.get(a.id)!);
          for (const j of ready) {
            if (this.children.size >= Math.max(1, this.o.concurrency)) break;
            this.launch(j, (code, signal, seconds) => {
              this.children.delete(j.id);
              if (code === 0) {
                this.outcomes[j.id] = 'done';
                this.actual.set(j.id, seconds);
                ran.push(j.id);
                const rec: DoneRecord = { job: j.id, key: doneKey(j, outDir), exitedAt: new Date().toISOString(), seconds };
                const f = doneFile(outDir, j.id);
                writeFileSync(f + '.tmp', JSON.stringify(rec, null, 2) + '\n');
                renameSync(f + '.tmp', f);
                this.o.onEvent?.({ type: 'done', id: j.id, seconds });
              } else if (this.stopping || signal === 'SIGINT') {
                this.outcomes[j.id] = 'interrupted';
                this.stop();
              } else {
                this.outcomes[j.id] = 'failed';
                const log = logFile(outDir, j.id);
                failures.push({ id: j.id, code, signal, log, tail: tailLines(log) });
                this.o.onEvent?.({ type: 'failed', id: j.id, seconds });
                for (const d of dependentsOf(this.jobs, j.id)) {
                  if (this.outcomes[d] === 'not-run') {
                    this.outcomes[d] = 'blocked';
                    this.o.onEvent?.({ type: 'blocked', id: d });
                  }
                }
              }
              pump();
            });
          }
        }
        if (this.children.size === 0) resolveAll();
      };
      pump();
    });
    if (this.killTimer) clearTimeout(this.killTimer);
    const ids = (s: JobOutcome): string[] => this.jobs.filter((j) => this.outcomes[j.id] === s).map((j) => j.id);
    return {
      outcomes: { ...this.outcomes },
      ran,
      alreadyDone: ids('already-done'),
      failed: failures,
      blocked: ids('blocked'),
      interrupted: this.stopping,
      wallSeconds: (Date.now() - this.started) / 1000,
    };
  }

  private launch(j: Job, onExit: (code: number | null, signal: string | null, seconds: number) => void): void {
    const { outDir } = this.o;
    const dir = logDir(outDir, j.id);
    const log = logFile(outDir, j.id);
    const t0 = Date.now();
    writeJobSpec(j, outDir);
    mkdirSync(dir, { recursive: true });
    appendFileSync(log, `\n=== ${new Date(t0).toISOString()} medad ${j.cli.join(' ')}\n`);
    // Standard output of a job that produces a file (the baselines' JSON) is kept per attempt.
    if (j.stdoutFile) rmSync(join(dir, 'stdout.log'), { force: true });
    const [node, script, ...args] = j.argv;
    if (node !== process.execPath || !script) throw new MedadError(ErrorCode.Internal, `job ${j.id} does not run a Node script: ${j.argv.join(' ')}`, { fix: 'plan jobs as [process.execPath, script, ...args]' });
    let settled = false;
    const handle = this.launcher.launch(
      { runId: j.id, cli: script, argv: args, dir, cwd: process.cwd(), env: this.o.env, ...(j.spec ? { spec: j.spec as unknown as Record<string, unknown> } : {}) },
      {
        onStart: () => undefined,
        onEvent: () => undefined,
        onExit: (info) => {
          if (settled) return;
          settled = true;
          const seconds = (Date.now() - t0) / 1000;
          appendFileSync(log, `=== ${info.error ? `could not start: ${info.error}` : info.signal ? `killed by ${info.signal}` : `exit code ${info.code}`} after ${seconds.toFixed(1)} s\n`);
          if (j.stdoutFile) {
            const out = join(dir, 'stdout.log');
            if (info.code === 0 && existsSync(out)) {
              // Atomically: a reader never sees half a file.
              writeFileSync(`${j.stdoutFile}.partial`, readFileSync(out));
              renameSync(`${j.stdoutFile}.partial`, j.stdoutFile);
            }
          }
          onExit(info.error ? -1 : info.code, info.signal, seconds);
        },
      },
    );
    this.children.set(j.id, { child: handle, started: t0 });
    this.o.onEvent?.({ type: 'start', id: j.id });
  }
}
