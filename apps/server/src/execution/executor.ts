import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, MedadError, RunStatus, describeHolder, errorMessage, holderFix, pidAlive, runLockHolder, silentLogger, type Logger, type RunEvent } from '@medad/core';
import { RESUMABLE_STATUSES, type RunRecord } from '../domain.js';
import type { MetricWriter } from '../store/metric-writer.js';
import type { Store } from '../store/store.js';
import type { EventBus } from './event-bus.js';
import type { ExitInfo, Launcher, RunHandle } from './launcher.js';
import { collectOutputs, importMetricsLog, scanCheckpoints } from './run-outputs.js';
import { RUN_CONFIG_FILE, RUN_SPEC_FILE, resolveRunSpec, runArgv, threadsPerJob } from './run-commands.js';

/** What the executor needs. */
export interface ExecutorOptions {
  store: Store;
  writer: MetricWriter;
  bus: EventBus;
  launcher: Launcher;
  /** The CLI script children run (apps/cli/bin/medad.js, or MEDAD_RUN_CLI). */
  cli: string;
  /** Working directory of children (the project root). */
  cwd: string;
  /** SIGTERM → SIGKILL grace when cancelling or shutting down (ms). Default 5000. */
  killGraceMs?: number;
  /**
   * How long a cancel waits, after SIGKILL, for the process to confirm it ended before the run is
   * recorded CANCELLED anyway (a remote worker that is gone never answers), ms. Default 15000.
   */
  cancelTimeoutMs?: number;
  /** This replica's identity in the `runs.owner` column. Default `host/pid/random`. */
  owner?: string;
  /** How often this replica refreshes its runs' heartbeat and looks for runs whose owner died (ms). Default 5000. */
  heartbeatMs?: number;
  /** A run whose owner's heartbeat is older than this is taken over (RUNNING → INTERRUPTED, claimed → QUEUED), ms. Default 30000. */
  staleMs?: number;
  logger?: Logger;
}

/** A replica's owner id: host, pid and a per-start nonce. */
export function newOwnerId(): string {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

/** True when the owner ran on this host in a process that no longer exists (its heartbeat need not be waited for). */
export function ownerIsDeadHere(owner: string): boolean {
  const [host, pidText] = owner.split('/');
  const pid = Number(pidText);
  return host === hostname() && Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
}

interface Active {
  handle?: RunHandle;
  cancelRequested: boolean;
  /** Events are handled in arrival order; the exit waits for this chain. */
  chain: Promise<void>;
  exited: Promise<void>;
  markExited: () => void;
}

/**
 * The run queue: starts QUEUED runs (oldest first, once the run they depend on succeeded) as
 * child processes through a launcher, persists their events, and records how they ended. The
 * queue is the `runs` table itself, so a restart loses nothing. Replicas sharing one database
 * claim runs atomically (`runs.owner`) and keep a heartbeat on them; a run whose owner died
 * (its process is gone on this host, or its heartbeat is stale) becomes INTERRUPTED and `resume`
 * queues it again — a live replica's runs are never touched.
 */
export class Executor {
  private readonly active = new Map<string, Active>();
  private stopping = false;
  private pumping = false;
  private pumpAgain = false;
  private readonly killGraceMs: number;
  private readonly logger: Logger;
  /** This replica's id in `runs.owner`. */
  readonly owner: string;
  private heartbeatTimer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;

  constructor(private readonly o: ExecutorOptions) {
    this.killGraceMs = o.killGraceMs ?? 5000;
    this.logger = o.logger ?? silentLogger;
    this.owner = o.owner ?? newOwnerId();
  }

  /** Runs currently started (or submitted to a worker) by this executor. */
  get activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  /** Takes over runs whose owner died (a previous server included), starts the heartbeat, then starts the queue. */
  async start(): Promise<void> {
    await this.sweep();
    this.heartbeatTimer = setInterval(() => void this.tick(), this.o.heartbeatMs ?? 5000);
    this.heartbeatTimer.unref();
    this.pump();
  }

  private async tick(): Promise<void> {
    if (this.stopping) return;
    try {
      for (const id of await this.o.store.heartbeat(this.owner)) {
        // Another replica's cancelRun asked us (the owner) to stop this run.
        const active = this.active.get(id);
        if (active && !active.cancelRequested) {
          this.logger.info('cancelling a run at another replica’s request', { runId: id });
          void this.cancel(id).catch((err: unknown) => this.logger.warn('cancel requested by another replica failed', { runId: id, error: errorMessage(err) }));
        }
      }
      await this.sweep();
    } catch (err) {
      this.logger.warn('heartbeat failed', { error: errorMessage(err) });
    }
  }

  /**
   * Runs held by a replica that is gone: RUNNING ones become INTERRUPTED (their metrics and
   * checkpoints read from the run directory first), claimed ones that never started return to
   * the queue. Each change is guarded by the old owner, so replicas sweeping at once agree.
   */
  sweep(): Promise<void> {
    return (this.sweeping ??= (async () => {
      try {
        let requeued = false;
        for (const { run, stale } of await this.o.store.foreignActiveRuns(this.owner, this.o.staleMs ?? 30_000)) {
          if (!stale && !(run.owner && ownerIsDeadHere(run.owner))) continue;
          if (run.status === RunStatus.Queued) {
            requeued = (await this.o.store.releaseClaim(run.id, run.owner!)) || requeued;
            continue;
          }
          await importMetricsLog(this.o.store, run).catch(() => 0);
          await scanCheckpoints(this.o.store, run).catch(() => undefined);
          const why = run.owner ? `its control-plane replica (${run.owner}) stopped while it was running` : 'the server stopped while it was running';
          const done = run.cancelRequestedAt
            ? await this.transition(run, RunStatus.Cancelled, `cancelled by cancelRun; ${why}`, [RunStatus.Running], run.owner)
            : await this.transition(run, RunStatus.Interrupted, `${why}; resumeRun continues it from its last checkpoint`, [RunStatus.Running], run.owner);
          if (done) {
            await this.o.store.updateRun(run.id, { pid: null });
            this.logger.warn(`run ${done.status === RunStatus.Cancelled ? 'cancelled' : 'interrupted'}: its owner is gone`, { runId: run.id, owner: run.owner });
          }
        }
        if (requeued) this.pump();
      } finally {
        this.sweeping = undefined;
      }
    })());
  }

  /** Looks for runs to start now (call after queueing one). */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.fill()
      .catch((err: unknown) => this.logger.error('queue pump failed', { error: errorMessage(err) }))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain && !this.stopping) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  private async fill(): Promise<void> {
    while (!this.stopping && this.active.size < this.o.launcher.capacity) {
      const queued = (await this.o.store.runsWithStatus([RunStatus.Queued])).filter((r) => !this.active.has(r.id) && r.owner === null);
      let started = false;
      for (const run of queued) {
        if (run.dependsOn) {
          const dep = await this.o.store.getRun(run.dependsOn);
          if (!dep || dep.status === RunStatus.Queued || dep.status === RunStatus.Running) continue;
          if (dep.status !== RunStatus.Succeeded) {
            await this.transition(run, RunStatus.Failed, `run ${dep.id} it depends on ended ${dep.status}; resume that run, then resume this one`, [RunStatus.Queued]);
            continue;
          }
        }
        // Of replicas sharing the database, one claims the run; the others move on.
        const claimed = await this.o.store.claimRun(run.id, this.owner);
        if (!claimed) continue;
        await this.launch(claimed);
        started = true;
        break;
      }
      if (!started) return;
    }
  }

  private async launch(run: RunRecord): Promise<void> {
    let argv: string[];
    let spec: Record<string, unknown>;
    try {
      mkdirSync(run.dir, { recursive: true });
      spec = await resolveRunSpec(run, this.o.store, { threads: threadsPerJob(this.o.launcher.capacity) });
      writeFileSync(join(run.dir, RUN_CONFIG_FILE), JSON.stringify({ runId: run.id, kind: run.kind, ...run.config }, null, 2) + '\n');
      writeFileSync(join(run.dir, RUN_SPEC_FILE), JSON.stringify(spec, null, 2) + '\n');
      argv = runArgv(run);
    } catch (err) {
      await this.transition(run, RunStatus.Failed, `could not prepare the run: ${errorMessage(err)}`, [RunStatus.Queued]);
      return;
    }
    const holder = runLockHolder(run.dir);
    if (holder) {
      // An orphan of an earlier attempt still writes the directory: never start a second process on it.
      await this.transition(run, RunStatus.Failed, `its directory is still in use by ${describeHolder(holder)}; stop that process (or wait for it), then resume`, [RunStatus.Queued]);
      return;
    }
    let markExited!: () => void;
    const exited = new Promise<void>((r) => (markExited = r));
    const active: Active = { cancelRequested: false, chain: Promise.resolve(), exited, markExited };
    this.active.set(run.id, active);
    await this.o.store.updateRun(run.id, { command: argv, attempts: run.attempts + 1, finishedAt: null, pid: null });
    active.handle = this.o.launcher.launch(
      { runId: run.id, cli: this.o.cli, argv, dir: run.dir, cwd: this.o.cwd, spec },
      {
        onStart: ({ pid, worker }) => {
          active.chain = active.chain.then(async () => {
            await this.o.store.updateRun(run.id, { pid, worker, startedAt: new Date() });
            const running = await this.transition(run, RunStatus.Running, null, [RunStatus.Queued]);
            if (!running) {
              if ((await this.o.store.getRun(run.id))?.status === RunStatus.Running) {
                // The same attempt started again on another worker (its first worker was lost): it resumes from the checkpoint.
                this.logger.info('run restarted on another worker', { runId: run.id, pid, worker });
                return;
              }
              // Cancelled between being picked from the queue and starting.
              active.cancelRequested = true;
              active.handle?.kill('SIGTERM');
            }
            this.logger.info('run started', { runId: run.id, kind: run.kind, pid, worker, attempt: run.attempts + 1 });
          });
        },
        onEvent: (event) => {
          active.chain = active.chain.then(() => this.handleEvent(run, event)).catch((err: unknown) => {
            this.logger.warn('run event not stored', { runId: run.id, error: errorMessage(err) });
          });
        },
        onExit: (info) => {
          active.chain = active.chain.then(() => this.finish(run, active, info)).catch((err: unknown) => {
            this.logger.error('run exit not recorded', { runId: run.id, error: errorMessage(err) });
          }).finally(() => {
            this.active.delete(run.id);
            active.markExited();
            this.pump();
          });
        },
      },
    );
    if (active.cancelRequested) active.handle.kill('SIGTERM');
  }

  private async handleEvent(run: RunRecord, event: RunEvent | (Record<string, unknown> & { type: string; runId: string })): Promise<void> {
    const time = new Date(typeof event.time === 'number' ? event.time : Date.now());
    switch (event.type) {
      case 'metric': {
        const e = event as RunEvent & { type: 'metric' };
        if (!Number.isInteger(e.step)) return;
        const values: Record<string, number> = {};
        for (const [k, v] of Object.entries(e.values ?? {})) if (typeof v === 'number' && Number.isFinite(v)) values[k] = v;
        const row = { runId: run.id, step: e.step, time, values };
        this.o.writer.add(row);
        this.o.bus.publish('metrics', run.id, row);
        return;
      }
      case 'log': {
        const e = event as RunEvent & { type: 'log' };
        await this.o.store.addLog(run.id, e.level, String(e.message).slice(0, 4000), time);
        return;
      }
      case 'info': {
        const info = (event as { info?: Record<string, unknown> }).info ?? {};
        if (typeof info.backend === 'string') await this.o.store.updateRun(run.id, { backend: info.backend });
        return;
      }
      case 'checkpoint': {
        const e = event as { step?: unknown; path?: unknown };
        if (Number.isInteger(e.step) && typeof e.path === 'string') {
          await this.o.store.upsertCheckpoint({ runId: run.id, step: e.step as number, path: e.path, createdAt: time });
        }
        return;
      }
      default:
        return; // status events are the executor's to decide; unknown types are ignored
    }
  }

  private async finish(run: RunRecord, active: Active, info: ExitInfo): Promise<void> {
    await this.o.writer.flush();
    await importMetricsLog(this.o.store, run).catch(() => 0);
    await scanCheckpoints(this.o.store, run).catch(() => undefined);
    await this.o.store.updateRun(run.id, { pid: null, finishedAt: new Date() });
    const from = [RunStatus.Running, RunStatus.Queued];
    if (active.cancelRequested) {
      await this.transition(run, RunStatus.Cancelled, 'cancelled by cancelRun', from);
    } else if (this.stopping || info.interrupted) {
      await this.transition(run, RunStatus.Interrupted, info.interrupted ?? 'the server shut down while the run was running; resumeRun continues it from its last checkpoint', from);
    } else if (info.code === 0) {
      try {
        await collectOutputs(this.o.store, (await this.o.store.getRun(run.id)) ?? run);
        await this.transition(run, RunStatus.Succeeded, null, from);
      } catch (err) {
        await this.transition(run, RunStatus.Failed, `the command exited 0 but its outputs are unusable: ${errorMessage(err)}`, from);
      }
    } else {
      await this.transition(run, RunStatus.Failed, failureReason(info), from);
    }
    this.logger.info('run ended', { runId: run.id, code: info.code, signal: info.signal });
  }

  /** Cancels a queued run at once, or stops a running one (SIGTERM, then SIGKILL after the grace period). */
  async cancel(id: string): Promise<RunRecord> {
    const run = await this.requireRun(id);
    const active = this.active.get(id);
    if (active) {
      active.cancelRequested = true;
      active.handle?.kill('SIGTERM');
      const waitMs = this.killGraceMs + (this.o.cancelTimeoutMs ?? 15_000);
      const kill = setTimeout(() => active.handle?.kill('SIGKILL'), this.killGraceMs);
      let timer: NodeJS.Timeout | undefined;
      const confirmed = await Promise.race([active.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), waitMs)))]);
      clearTimeout(kill);
      clearTimeout(timer);
      if (!confirmed) {
        // Nobody answers (a remote worker that is gone): record the cancel rather than wait forever.
        await this.transition(run, RunStatus.Cancelled, `cancelled by cancelRun; its process did not confirm it stopped within ${waitMs / 1000} s (worker lost?)`, [RunStatus.Running, RunStatus.Queued]);
        await this.o.store.updateRun(id, { pid: null, finishedAt: new Date() });
        this.logger.warn('cancel not confirmed by the run process', { runId: id, waitedMs: waitMs });
      }
      return this.requireRun(id);
    }
    if (run.status === RunStatus.Queued) {
      const done = await this.transition(run, RunStatus.Cancelled, 'cancelled by cancelRun before it started', [RunStatus.Queued]);
      if (done) return done;
    }
    if (run.status === RunStatus.Running && run.owner && run.owner !== this.owner && (await this.o.store.requestCancel(id))) {
      // Another replica runs it: it sees the request at its next heartbeat and stops the run.
      const heartbeatMs = this.o.heartbeatMs ?? 5000;
      const waitMs = 2 * heartbeatMs + this.killGraceMs + (this.o.cancelTimeoutMs ?? 15_000);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const now = await this.requireRun(id);
        if (now.status !== RunStatus.Running) return now;
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, Math.min(200, heartbeatMs / 4)));
      }
      throw new MedadError(ErrorCode.Conflict, `Run ${id} runs on replica ${run.owner}, which has not confirmed the cancel within ${Math.round(waitMs / 1000)} s`, {
        fix: 'the request stays recorded: that replica stops the run at its next heartbeat, or, if it is gone, the run becomes INTERRUPTED once its heartbeat is stale; query the run again',
      });
    }
    throw new MedadError(ErrorCode.Conflict, `Run ${id} is ${run.status}; only QUEUED or RUNNING runs can be cancelled`, { fix: 'nothing to do' });
  }

  /** Queues a FAILED, CANCELLED or INTERRUPTED run again; its command resumes from its last checkpoint. */
  async resume(id: string): Promise<RunRecord> {
    const run = await this.requireRun(id);
    if (!RESUMABLE_STATUSES.includes(run.status) || this.active.has(id)) {
      throw new MedadError(ErrorCode.Conflict, `Run ${id} is ${run.status}; only ${RESUMABLE_STATUSES.join(', ')} runs can be resumed`, {
        fix: run.status === RunStatus.Succeeded ? 'start a new run instead' : 'wait until it ends',
      });
    }
    const holder = runLockHolder(run.dir);
    if (holder) {
      throw new MedadError(ErrorCode.Conflict, `Run ${id} cannot be resumed: its directory is still in use by ${describeHolder(holder)}`, {
        fix: holderFix(holder, 'resume'),
      });
    }
    const queued = await this.transition(run, RunStatus.Queued, `resumed after ${run.status} (attempt ${run.attempts + 1})`, RESUMABLE_STATUSES.slice());
    if (!queued) throw new MedadError(ErrorCode.Conflict, `Run ${id} changed status while resuming`, { fix: 'query it and retry' });
    this.pump();
    return queued;
  }

  /** Stops starting runs, stops running children (they become INTERRUPTED) and flushes metrics. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.heartbeatTimer);
    await this.sweeping;
    const actives = [...this.active.values()];
    for (const a of actives) a.handle?.kill('SIGTERM');
    const timer = setTimeout(() => actives.forEach((a) => a.handle?.kill('SIGKILL')), this.killGraceMs);
    await Promise.all(actives.map((a) => a.exited));
    clearTimeout(timer);
    await this.o.writer.flush();
  }

  private async requireRun(id: string): Promise<RunRecord> {
    const run = await this.o.store.getRun(id);
    if (!run) throw new MedadError(ErrorCode.NotFound, `No run with id "${id}"`, { fix: 'list runs with the `runs` query' });
    return run;
  }

  /** Changes status in the store and tells subscribers; undefined when the run was not in `from`. */
  async transition(run: Pick<RunRecord, 'id' | 'kind'>, status: RunStatus, message: string | null, from?: RunStatus[], owner?: string | null): Promise<RunRecord | undefined> {
    const updated = await this.o.store.setStatus(run.id, status, message, from, owner);
    if (updated) this.o.bus.publish('status', run.id, { runId: run.id, kind: run.kind, status, message, time: new Date() });
    return updated;
  }
}

/** "exit code 3" / "killed by SIGKILL", plus the last stderr lines. */
export function failureReason(info: ExitInfo): string {
  const how = info.error ?? (info.signal ? `killed by ${info.signal}` : `exit code ${info.code}`);
  const tail = info.stderrTail.slice(-5).join(' | ');
  return (tail ? `${how}; last stderr: ${tail}` : how).slice(0, 2000);
}
