import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, MedadError } from '@medad/core';
import { dependentsOf, estimateWall, validatePlan, type Job } from './plan.js';

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
  /** Logs go to `<outDir>/logs/<id>.log`, done files to `<outDir>/jobs/<id>.done`. */
  outDir: string;
  concurrency: number;
  env?: NodeJS.ProcessEnv;
  /** Called when a job starts or ends (for progress output). */
  onEvent?: (e: { type: 'start' | 'done' | 'failed' | 'blocked'; id: string; seconds?: number }) => void;
  /** Seconds between SIGTERM and SIGKILL on {@link Executor.stop}. */
  killAfter?: number;
}

/** The done-file key of a job: its arguments, with `outDir` replaced so a moved directory still matches. */
export function doneKey(job: Job, outDir: string): string {
  return JSON.stringify(job.cli.map((a) => a.split(outDir).join('$OUT')));
}

/** The done-file path of a job. */
export function doneFile(outDir: string, id: string): string {
  return join(outDir, 'jobs', `${id}.done`);
}

/** The log path of a job. */
export function logFile(outDir: string, id: string): string {
  return join(outDir, 'logs', `${id}.log`);
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
  private readonly children = new Map<string, { child: ChildProcess; started: number }>();
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
    const log = logFile(outDir, j.id);
    const t0 = Date.now();
    const logFd = openSync(log, 'a');
    writeSync(logFd, `\n=== ${new Date(t0).toISOString()} medad ${j.cli.join(' ')}\n`);
    const partial = j.stdoutFile ? `${j.stdoutFile}.partial` : undefined;
    const outFd = partial ? openSync(partial, 'w') : logFd;
    let child: ChildProcess;
    try {
      // Own process group: a Ctrl-C reaches only this process, which stops the children itself.
      child = spawn(j.argv[0]!, j.argv.slice(1), { stdio: ['ignore', outFd, logFd], env: { ...process.env, ...this.o.env }, detached: true });
    } finally {
      if (outFd !== logFd) closeSync(outFd);
      closeSync(logFd);
    }
    this.children.set(j.id, { child, started: t0 });
    this.o.onEvent?.({ type: 'start', id: j.id });
    let settled = false;
    const finish = (code: number | null, signal: string | null, error?: Error): void => {
      if (settled) return;
      settled = true;
      const seconds = (Date.now() - t0) / 1000;
      appendFileSync(log, `=== ${error ? `could not start: ${error.message}` : signal ? `killed by ${signal}` : `exit code ${code}`} after ${seconds.toFixed(1)} s\n`);
      if (partial) {
        if (code === 0) renameSync(partial, j.stdoutFile!);
        else rmSync(partial, { force: true });
      }
      onExit(error ? -1 : code, signal, seconds);
    };
    child.on('error', (err) => finish(null, null, err));
    child.on('exit', (code, signal) => finish(code, signal));
  }
}
