import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { ErrorCode, MedadError, RUN_SPEC_FILE, errorMessage, parseRunSpec, silentLogger, type Logger, type RunEvent } from '@medad/core';
import { intSetting, resolveConfig } from '../config.js';
import type { MetricRow } from '../domain.js';
import { confinePath } from '../http/paths.js';
import { forkAttempt, type ExitInfo, type LaunchHooks, type LaunchSpec, type Launcher, type RunHandle } from './launcher.js';
import { runArgv } from './run-commands.js';

/** BullMQ queue of run attempts. */
export const RUN_QUEUE = 'medad-runs';
/** Pub/sub channel workers publish run messages on (start, events, exit). */
export const EVENTS_CHANNEL = 'medad:run-events';
/** Pub/sub channel the server sends signals to running attempts on. */
export const CONTROL_CHANNEL = 'medad:run-control';
/**
 * Key recording that an attempt was told to stop. A worker checks it before it starts (or takes
 * over) a job, so an attempt cancelled while its worker was lost is not restarted by another worker.
 */
export const stopKey = (attempt: string): string => `medad:stopped:${attempt}`;
/** How long a stop record is kept (s): far longer than any job waits before another worker takes it over. */
const STOP_TTL_S = 7 * 24 * 3600;

/** What travels on {@link EVENTS_CHANNEL}. */
export type WorkerMessage =
  | { runId: string; attempt: string; type: 'start'; pid: number | null; worker: string }
  | { runId: string; attempt: string; type: 'event'; event: RunEvent | (Record<string, unknown> & { type: string; runId: string }) }
  | { runId: string; attempt: string; type: 'exit'; exit: ExitInfo };

/**
 * A job's payload: which run, which attempt, its directory and its resolved spec — data only. The
 * worker decides what to execute (`medad run <dir>/spec.json` with its own CLI and environment),
 * so whoever can write to Redis cannot choose a command line or environment variables.
 */
export interface RunJob {
  runId: string;
  attempt: string;
  dir: string;
  spec: Record<string, unknown>;
}

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Checks a job taken from the queue before anything runs: a plain run id, a directory (its spec and
 * logs) inside the worker's roots, and a spec that parses and writes inside them too. Returns why not, or undefined.
 */
export function jobProblem(job: RunJob, roots: readonly string[]): string | undefined {
  if (typeof job.runId !== 'string' || !RUN_ID.test(job.runId)) return `run id ${JSON.stringify(job.runId)} is not a plain id`;
  if (typeof job.dir !== 'string' || !isAbsolute(job.dir)) return `run directory ${JSON.stringify(job.dir)} is not an absolute path`;
  try {
    confinePath(job.dir, roots, 'dir', 'run directory');
    const spec = parseRunSpec(job.spec, `the spec of run ${job.runId}`);
    if (!spec.out) return 'the spec has no out directory';
    confinePath(spec.out, roots, 'spec.out', 'run directory');
  } catch (err) {
    return errorMessage(err);
  }
  return undefined;
}

/** A Redis URL with its password hidden, for logs and errors. */
export const maskRedisUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

/**
 * Connects once, without retrying, and PINGs: a wrong password, a TLS mismatch or an unreachable
 * host becomes one clear error at start instead of endless reconnect warnings.
 */
export async function checkRedis(url: string, timeoutMs = 10_000): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MedadError(ErrorCode.BadUserInput, `REDIS_URL ${JSON.stringify(maskRedisUrl(url))} is not a URL`, { fix: 'use redis://[:PASSWORD@]HOST:PORT[/DB], or rediss://… for TLS' });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new MedadError(ErrorCode.BadUserInput, `REDIS_URL has scheme ${parsed.protocol} — expected redis: or rediss:`, { fix: 'use redis://[:PASSWORD@]HOST:PORT[/DB], or rediss://… for TLS' });
  }
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
  let last: Error | undefined;
  r.on('error', (err: Error) => (last = err));
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    const why = errorMessage(last ?? err).replace(/\.+$/, '');
    const tls = parsed.protocol === 'rediss:';
    const fix = /WRONGPASS|NOAUTH|invalid password|AUTH/i.test(why)
      ? 'put the password in the URL: redis://:PASSWORD@HOST:PORT (or redis://USER:PASSWORD@… with ACL users)'
      : tls && /certificate|self[- ]signed|issuer/i.test(why)
        ? 'the server’s certificate is not trusted: point NODE_EXTRA_CA_CERTS at the CA file that signed it'
        : tls
          ? 'check that the server listens with TLS on that port (tls-port) and that HOST matches its certificate'
          : 'check that redis-server runs at that host and port (a TLS-only server needs rediss://)';
    throw new MedadError(ErrorCode.BadUserInput, `cannot use Redis at ${maskRedisUrl(url)}: ${why}`, { fix });
  } finally {
    r.disconnect();
  }
}

/** Redis connections opened by this module; BullMQ does not close connections it was given, so we do. */
class Connections {
  private readonly all: Redis[] = [];
  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}
  open(): Redis {
    const r = new Redis(this.url, { maxRetriesPerRequest: null });
    r.on('error', (err: Error) => this.logger.warn('redis connection error', { error: err.message }));
    this.all.push(r);
    return r;
  }
  closeAll(): void {
    for (const r of this.all) r.disconnect();
  }
}

/**
 * Launches attempts through BullMQ: the job goes to whichever `medad worker` is free, and the
 * worker's start/event/exit messages come back over Redis pub/sub. Metric events of runs this
 * server did not launch (another replica's) are still handed to `onForeignMetric`, so every
 * replica's subscribers see every run's metrics.
 */
export class RedisLauncher implements Launcher {
  readonly capacity = Number.POSITIVE_INFINITY;
  private readonly queue: Queue;
  private readonly queueEvents: QueueEvents;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly connections: Connections;
  private readonly attempts = new Map<string, { runId: string; hooks: LaunchHooks; started: boolean }>();
  private counter = 0;

  private constructor(
    url: string,
    private readonly onForeignMetric: (row: MetricRow) => void,
    private readonly logger: Logger,
  ) {
    this.connections = new Connections(url, logger);
    this.queue = new Queue(RUN_QUEUE, { connection: this.connections.open() });
    this.queueEvents = new QueueEvents(RUN_QUEUE, { connection: this.connections.open() });
    this.pub = this.connections.open();
    this.sub = this.connections.open();
  }

  /** Connects to Redis and starts listening for worker messages. */
  static async connect(url: string, onForeignMetric: (row: MetricRow) => void = () => undefined, logger: Logger = silentLogger): Promise<RedisLauncher> {
    await checkRedis(url);
    const l = new RedisLauncher(url, onForeignMetric, logger);
    await l.sub.subscribe(EVENTS_CHANNEL);
    l.sub.on('message', (_channel: string, text: string) => l.onMessage(text));
    // A worker that died mid-job: BullMQ fails the stalled job, and the attempt ends here.
    l.queueEvents.on('failed', ({ jobId, failedReason }) => {
      const a = l.attempts.get(jobId);
      if (!a) return;
      l.attempts.delete(jobId);
      a.hooks.onExit({ code: null, signal: null, stderrTail: [], error: `the worker running it was lost: ${failedReason}` });
    });
    await Promise.all([l.queue.waitUntilReady(), l.queueEvents.waitUntilReady()]);
    return l;
  }

  private onMessage(text: string): void {
    let m: WorkerMessage;
    try {
      m = JSON.parse(text) as WorkerMessage;
    } catch {
      return;
    }
    const a = this.attempts.get(m.attempt);
    if (!a) {
      if (m.type === 'event' && m.event.type === 'metric') {
        const e = m.event as RunEvent & { type: 'metric' };
        this.onForeignMetric({ runId: m.runId, step: e.step, time: new Date(e.time), values: e.values });
      }
      return;
    }
    if (m.type === 'start') {
      a.started = true;
      a.hooks.onStart({ pid: m.pid, worker: m.worker });
    } else if (m.type === 'event') {
      a.hooks.onEvent(m.event);
    } else {
      this.attempts.delete(m.attempt);
      a.hooks.onExit(m.exit);
    }
  }

  launch(spec: LaunchSpec, hooks: LaunchHooks): RunHandle {
    const attempt = `${spec.runId}.${Date.now().toString(36)}.${++this.counter}`;
    if (!spec.spec) {
      queueMicrotask(() => hooks.onExit({ code: null, signal: null, stderrTail: [], error: 'a remote run needs its run spec (the queue carries specs, never command lines)' }));
      return { kill: () => undefined };
    }
    this.attempts.set(attempt, { runId: spec.runId, hooks, started: false });
    const data: RunJob = { runId: spec.runId, attempt, dir: spec.dir, spec: spec.spec };
    // One attempt per job: a run that fails stays FAILED (resumeRun queues a new attempt). A job whose
    // worker died is not a failure: BullMQ's stalled check hands it to another worker once.
    const added = this.queue.add('run', data, { jobId: attempt, attempts: 1, removeOnComplete: true, removeOnFail: 100 }).catch((err: unknown) => {
      this.attempts.delete(attempt);
      hooks.onExit({ code: null, signal: null, stderrTail: [], error: `could not queue the run in Redis: ${errorMessage(err)}` });
    });
    return {
      kill: (signal) => {
        void (async () => {
          await added;
          const a = this.attempts.get(attempt);
          if (!a) return;
          if (!a.started) {
            // Still waiting for a worker: take it off the queue.
            const job = await this.queue.getJob(attempt);
            const removed = job ? await job.remove().then(() => true, () => false) : false;
            if (removed && this.attempts.delete(attempt)) {
              a.hooks.onExit({ code: null, signal, stderrTail: [], error: 'removed from the queue before a worker started it' });
              return;
            }
          }
          await this.pub.set(stopKey(attempt), signal, 'EX', STOP_TTL_S);
          await this.pub.publish(CONTROL_CHANNEL, JSON.stringify({ attempt, signal }));
        })().catch((err: unknown) => this.logger.warn('could not signal a remote run', { runId: spec.runId, error: errorMessage(err) }));
      },
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.queueEvents.close()]);
    this.connections.closeAll();
  }
}

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  redisUrl?: string;
  concurrency?: number;
  name?: string;
  /** The CLI this worker runs jobs with (default: MEDAD_RUN_CLI, else this checkout's apps/cli/bin/medad.js). */
  cli?: string;
  /**
   * Directories run directories must lie in (default: the server config's checkpoint and dataset
   * roots under MEDAD_DATA_DIR, MEDAD_CHECKPOINT_ROOTS, MEDAD_DATASET_ROOTS — the same storage the server uses).
   */
  roots?: string[];
  /** A job's lock lasts this long without renewal before another worker may take the job over (ms; MEDAD_WORKER_LOCK_MS, default 30000). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose worker died (ms; MEDAD_WORKER_STALLED_MS, default 10000). */
  stalledIntervalMs?: number;
  logger?: Logger;
}

/** A running worker. */
export interface RunWorker {
  name: string;
  close(): Promise<void>;
}

/**
 * `medad worker`: takes run attempts from the Redis queue, checks each ({@link jobProblem}),
 * writes its spec into the run directory and runs `medad run` there with this worker's own CLI and
 * environment, publishing start, events and exit over pub/sub. The run directories must be on
 * storage the server also sees (a shared filesystem), since results are read from there. A worker
 * that dies loses no run: its child stops (IPC closed), BullMQ's stalled check hands the job to
 * another worker, and the run resumes from its last checkpoint. A worker stopped with SIGTERM
 * stops its runs, which become INTERRUPTED.
 */
export async function startWorker(o: WorkerOptions = {}): Promise<RunWorker> {
  const url = o.redisUrl ?? process.env.REDIS_URL;
  if (!url) throw new Error('medad worker needs REDIS_URL (redis://host:port) — the same as the server’s');
  const name = o.name ?? `worker:${hostname()}:${process.pid}`;
  const logger = o.logger ?? silentLogger;
  const config = resolveConfig({ logLevel: 'silent' });
  const cli = o.cli ?? config.runCli;
  const roots = o.roots ?? [...config.checkpointRoots, ...config.datasetRoots];
  await checkRedis(url);
  const connections = new Connections(url, logger);
  const pub = connections.open();
  const sub = connections.open();
  const handles = new Map<string, RunHandle>();
  let closing = false;
  await sub.subscribe(CONTROL_CHANNEL);
  sub.on('message', (_c: string, text: string) => {
    try {
      const { attempt, signal } = JSON.parse(text) as { attempt: string; signal: NodeJS.Signals };
      if (signal === 'SIGTERM' || signal === 'SIGKILL') handles.get(attempt)?.kill(signal);
    } catch {
      // not a control message of ours
    }
  });
  const send = (m: WorkerMessage): void => void pub.publish(EVENTS_CHANNEL, JSON.stringify(m));
  const worker = new Worker<RunJob>(
    RUN_QUEUE,
    async (job: Job<RunJob>) => {
      const { attempt, runId, dir } = job.data;
      const problem = jobProblem(job.data, roots);
      if (problem) {
        logger.warn('job refused', { jobId: job.id, problem });
        const exit: ExitInfo = { code: null, signal: null, stderrTail: [], error: `worker ${name} refused the job: ${problem}` };
        send({ runId: String(runId), attempt: String(attempt), type: 'exit', exit });
        return { refused: problem };
      }
      const stopped = await pub.get(stopKey(String(attempt)));
      if (stopped) {
        // Stopped while its previous worker was lost (cancelRun, server shutdown): the run has ended; do not restart it.
        logger.warn('job not restarted: it was stopped while its worker was lost', { jobId: job.id, runId, signal: stopped });
        send({ runId, attempt, type: 'exit', exit: { code: null, signal: stopped, stderrTail: [], error: `stopped (${stopped}) while its worker was lost; worker ${name} did not restart it` } });
        return { stopped };
      }
      writeFileSync(join(dir, RUN_SPEC_FILE), JSON.stringify(job.data.spec, null, 2) + '\n');
      const spec: LaunchSpec = { runId, cli, argv: runArgv({ id: runId, dir }), dir, cwd: config.projectRoot };
      const exit = await new Promise<ExitInfo>((done) => {
        const handle = forkAttempt(spec, { onEvent: (event) => send({ runId, attempt, type: 'event', event }), onExit: done }, (pid) => send({ runId, attempt, type: 'start', pid, worker: name }));
        handles.set(attempt, handle);
      });
      handles.delete(attempt);
      if (closing && exit.code !== 0) exit.interrupted = `worker ${name} was stopped while the run was running; resumeRun continues it from its last checkpoint`;
      send({ runId, attempt, type: 'exit', exit });
      logger.info('run attempt ended', { runId, attempt, code: exit.code, signal: exit.signal });
      return { code: exit.code, signal: exit.signal };
    },
    {
      connection: connections.open(),
      concurrency: o.concurrency ?? 1,
      maxStalledCount: 1,
      lockDuration: o.lockDurationMs ?? intSetting('MEDAD_WORKER_LOCK_MS', process.env.MEDAD_WORKER_LOCK_MS, 30_000, 500, 3_600_000),
      stalledInterval: o.stalledIntervalMs ?? intSetting('MEDAD_WORKER_STALLED_MS', process.env.MEDAD_WORKER_STALLED_MS, 10_000, 200, 3_600_000),
    },
  );
  await worker.waitUntilReady();
  logger.info('worker ready', { name, concurrency: o.concurrency ?? 1 });
  return {
    name,
    async close() {
      closing = true;
      for (const h of handles.values()) h.kill('SIGTERM');
      await worker.close();
      connections.closeAll();
    },
  };
}
