import { fork } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { errorMessage, runEventFromMessage, type RunEvent } from '@medad/core';

/** What to start for one attempt of a run. */
export interface LaunchSpec {
  runId: string;
  /** The CLI script forked with node (`apps/cli/bin/medad.js` by default). */
  cli: string;
  argv: string[];
  /** Run directory: stdout.log and stderr.log are appended here. */
  dir: string;
  cwd: string;
  env?: Record<string, string>;
  /** The resolved run spec (what a remote worker is sent instead of a command line). */
  spec?: Record<string, unknown>;
}

/** How an attempt ended. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** The last lines the child wrote to stderr (for the FAILED reason). */
  stderrTail: string[];
  /** Set when the process could not be started at all. */
  error?: string;
  /** Set when the process was stopped by its host shutting down (the run becomes INTERRUPTED, not FAILED). */
  interrupted?: string;
}

/** Callbacks a launcher reports through. */
export interface LaunchHooks {
  /** The child started (for queued remote jobs: when a worker picked it up). */
  onStart(info: { pid: number | null; worker: string }): void;
  onEvent(event: RunEvent | (Record<string, unknown> & { type: string; runId: string })): void;
  onExit(info: ExitInfo): void;
}

/** A started (or submitted) attempt. */
export interface RunHandle {
  /** Sends a signal to the run's process (SIGTERM to stop, SIGKILL to force). */
  kill(signal: NodeJS.Signals): void;
}

/** Starts run processes: locally with fork, or remotely through a queue. */
export interface Launcher {
  /** Max attempts running at once through this launcher (Infinity when workers throttle). */
  readonly capacity: number;
  launch(spec: LaunchSpec, hooks: LaunchHooks): RunHandle;
  close?(): Promise<void>;
}

const TAIL_LINES = 12;

/** Variables a run process inherits by name: what Node, the compute libraries and locale need. */
const INHERITED = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TEMP', 'TMP', 'SystemRoot', 'ComSpec', 'PATHEXT', 'NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'LD_LIBRARY_PATH', 'OMP_NUM_THREADS', 'CI', 'NO_COLOR', 'FORCE_COLOR']);
/** Prefixes a run process inherits (compute libraries, locale, the project's own settings). */
const INHERITED_PREFIXES = ['LC_', 'OPENBLAS_', 'MKL_', 'ORT_', 'ONNXRUNTIME_', 'TF_', 'CUDA_', 'NVIDIA_', 'MEDAD_'];
/** Never inherited, whatever the prefix: the control plane's secrets and connection strings. */
const SECRET = /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|_KEY$|^DATABASE_URL$|^REDIS_URL$/i;

/**
 * The environment a run process gets (DESIGN.md §6): an allow-list of the parent's variables —
 * never the server's API tokens, database or Redis URLs, or other secrets — plus `keyEnvs`, the
 * API-key variables plugin configs may name (`MEDAD_ALLOWED_KEY_ENVS`, default OPENAI_API_KEY).
 */
export function childEnv(parent: NodeJS.ProcessEnv, keyEnvs: readonly string[] = (parent.MEDAD_ALLOWED_KEY_ENVS ?? 'OPENAI_API_KEY').split(',').map((s) => s.trim())): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined) continue;
    const allowed = INHERITED.has(k) || INHERITED_PREFIXES.some((p) => k.startsWith(p));
    if ((allowed && !SECRET.test(k)) || keyEnvs.includes(k)) out[k] = v;
  }
  return out;
}

/** Keeps the last lines of a stream, for error reasons. */
export class LineTail {
  private partial = '';
  readonly lines: string[] = [];
  constructor(private readonly max = TAIL_LINES) {}
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim()) this.lines.push(p.trimEnd());
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  end(): string[] {
    if (this.partial.trim()) this.lines.push(this.partial.trimEnd());
    this.partial = '';
    return this.lines.slice(-this.max);
  }
}

/**
 * Forks one child process per attempt (`node <cli> argv`) with an IPC channel. Events arrive
 * over IPC; stdout/stderr are appended to the run directory; the exit is reported after every
 * stream has closed so no event or log line is lost.
 */
export function forkAttempt(spec: LaunchSpec, hooks: Omit<LaunchHooks, 'onStart'>, onSpawn: (pid: number | null) => void): RunHandle {
  mkdirSync(spec.dir, { recursive: true });
  const stdoutLog = createWriteStream(join(spec.dir, 'stdout.log'), { flags: 'a' });
  const stderrLog = createWriteStream(join(spec.dir, 'stderr.log'), { flags: 'a' });
  const tail = new LineTail();
  let finished = false;
  const finish = (info: Omit<ExitInfo, 'stderrTail'>): void => {
    if (finished) return;
    finished = true;
    // Report the exit once both logs are on disk: callers read them at once (a failure's tail, a
    // job's standard output), and a write stream that was only asked to end may not have flushed.
    const flushed = (s: typeof stdoutLog): Promise<void> => new Promise((resolve) => s.end(() => resolve()));
    void Promise.all([flushed(stdoutLog), flushed(stderrLog)]).then(() => hooks.onExit({ ...info, stderrTail: tail.end() }));
  };
  const child = fork(spec.cli, spec.argv, {
    cwd: spec.cwd,
    env: { ...childEnv(process.env), ...spec.env, MEDAD_RUN_ID: spec.runId, MEDAD_RUN_DIR: spec.dir },
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  child.stdout?.on('data', (d: Buffer) => stdoutLog.write(d));
  child.stderr?.on('data', (d: Buffer) => {
    stderrLog.write(d);
    tail.push(d.toString('utf8'));
  });
  child.on('message', (m) => {
    const event = runEventFromMessage(m);
    if (event) hooks.onEvent({ ...event, runId: spec.runId });
  });
  child.on('error', (err) => {
    if (child.pid === undefined) finish({ code: null, signal: null, error: `could not start ${spec.cli}: ${errorMessage(err)}` });
  });
  child.on('close', (code, signal) => finish({ code, signal }));
  onSpawn(child.pid ?? null);
  return {
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Runs attempts as local child processes, at most `concurrency` at once. */
export class LocalLauncher implements Launcher {
  readonly worker = `local:${hostname()}`;
  constructor(readonly capacity: number) {}

  launch(spec: LaunchSpec, hooks: LaunchHooks): RunHandle {
    return forkAttempt(spec, hooks, (pid) => hooks.onStart({ pid, worker: this.worker }));
  }
}
