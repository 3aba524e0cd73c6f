import { hostname } from 'node:os';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { errorMessage, silentLogger, type Logger, type RunEvent } from '@medad/core';
import type { MetricRow } from '../domain.js';
import { forkAttempt, type ExitInfo, type LaunchHooks, type LaunchSpec, type Launcher, type RunHandle } from './launcher.js';

/** BullMQ queue of run attempts. */
export const RUN_QUEUE = 'medad-runs';
/** Pub/sub channel workers publish run messages on (start, events, exit). */
export const EVENTS_CHANNEL = 'medad:run-events';
/** Pub/sub channel the server sends signals to running attempts on. */
export const CONTROL_CHANNEL = 'medad:run-control';

/** What travels on {@link EVENTS_CHANNEL}. */
export type WorkerMessage =
  | { runId: string; attempt: string; type: 'start'; pid: number | null; worker: string }
  | { runId: string; attempt: string; type: 'event'; event: RunEvent | (Record<string, unknown> & { type: string; runId: string }) }
  | { runId: string; attempt: string; type: 'exit'; exit: ExitInfo };

/** A job's payload: the launch spec plus the attempt's id. */
type JobData = LaunchSpec & { attempt: string };

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
    this.attempts.set(attempt, { runId: spec.runId, hooks, started: false });
    const data: JobData = { ...spec, attempt };
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
  /** Override the CLI path the server put in the job (when this machine's checkout lives elsewhere). */
  cli?: string;
  logger?: Logger;
}

/** A running worker. */
export interface RunWorker {
  name: string;
  close(): Promise<void>;
}

/**
 * `medad worker`: takes run attempts from the Redis queue, forks them like the local executor
 * does, and publishes their start, events and exit over pub/sub. The run directories must be on
 * storage the server also sees (a shared filesystem), since results are read from there.
 */
export async function startWorker(o: WorkerOptions = {}): Promise<RunWorker> {
  const url = o.redisUrl ?? process.env.REDIS_URL;
  if (!url) throw new Error('medad worker needs REDIS_URL (redis://host:port) — the same as the server’s');
  const name = o.name ?? `worker:${hostname()}:${process.pid}`;
  const logger = o.logger ?? silentLogger;
  const connections = new Connections(url, logger);
  const pub = connections.open();
  const sub = connections.open();
  const handles = new Map<string, RunHandle>();
  await sub.subscribe(CONTROL_CHANNEL);
  sub.on('message', (_c: string, text: string) => {
    try {
      const { attempt, signal } = JSON.parse(text) as { attempt: string; signal: NodeJS.Signals };
      handles.get(attempt)?.kill(signal);
    } catch {
      // not a control message of ours
    }
  });
  const send = (m: WorkerMessage): void => void pub.publish(EVENTS_CHANNEL, JSON.stringify(m));
  const worker = new Worker<JobData>(
    RUN_QUEUE,
    async (job: Job<JobData>) => {
      const spec = { ...job.data, cli: o.cli ?? job.data.cli };
      const { attempt, runId } = spec;
      const exit = await new Promise<ExitInfo>((resolve) => {
        const handle = forkAttempt(spec, { onEvent: (event) => send({ runId, attempt, type: 'event', event }), onExit: resolve }, (pid) => send({ runId, attempt, type: 'start', pid, worker: name }));
        handles.set(attempt, handle);
      });
      handles.delete(attempt);
      send({ runId, attempt, type: 'exit', exit });
      logger.info('run attempt ended', { runId, attempt, code: exit.code, signal: exit.signal });
      return { code: exit.code, signal: exit.signal };
    },
    { connection: connections.open(), concurrency: o.concurrency ?? 1, maxStalledCount: 0, stalledInterval: 10_000 },
  );
  await worker.waitUntilReady();
  logger.info('worker ready', { name, concurrency: o.concurrency ?? 1 });
  return {
    name,
    async close() {
      for (const h of handles.values()) h.kill('SIGTERM');
      await worker.close();
      connections.closeAll();
    },
  };
}
