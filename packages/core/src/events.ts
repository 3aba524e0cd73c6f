/** Lifecycle of a run. */
export enum RunStatus {
  Queued = 'QUEUED',
  Running = 'RUNNING',
  Succeeded = 'SUCCEEDED',
  Failed = 'FAILED',
  Cancelled = 'CANCELLED',
  Interrupted = 'INTERRUPTED',
}

/** One step's metrics; `values` holds every scalar the trainer reports at that step. */
export interface MetricEvent {
  type: 'metric';
  runId: string;
  step: number;
  /** Milliseconds since the epoch. */
  time: number;
  values: Record<string, number>;
}

/** A run changed status. */
export interface StatusEvent {
  type: 'status';
  runId: string;
  status: RunStatus;
  time: number;
  message?: string;
}

/** A human-readable log line from a run. */
export interface LogEvent {
  type: 'log';
  runId: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  time: number;
  message: string;
}

/** A complete checkpoint was written (a run keeps its latest one at `path`). */
export interface CheckpointEvent {
  type: 'checkpoint';
  runId: string;
  step: number;
  time: number;
  path: string;
}

/** Facts about how a run executes, e.g. `{ backend: 'wasm' }`. */
export interface InfoEvent {
  type: 'info';
  runId: string;
  time: number;
  info: Record<string, string | number>;
}

/** Any event a run emits. */
export type RunEvent = MetricEvent | StatusEvent | LogEvent | CheckpointEvent | InfoEvent;

/** Where runs send their events (a file, a database, a pub/sub channel...). */
export interface EventSink {
  emit(event: RunEvent): void | Promise<void>;
}

/** Progress of long work, for progress bars. */
export interface ProgressReporter {
  /** `initial` = units already done before this call (a resumed run): rates and ETA count from it. */
  start(total: number, label: string, initial?: number): void;
  update(done: number, info?: Record<string, string | number>): void;
  stop(): void;
}

/** A reporter that drops everything (for library callers that do not want output). */
export const silentProgress: ProgressReporter = { start() {}, update() {}, stop() {} };

/** An event sink that fans out to several sinks. */
export function teeSink(...sinks: EventSink[]): EventSink {
  return {
    async emit(event) {
      for (const s of sinks) await s.emit(event);
    },
  };
}

/**
 * The sink a run process uses to report to its parent: events go over the IPC channel when the
 * process was forked with one (the control plane's executor), and are dropped otherwise.
 */
export function ipcEventSink(proc: Pick<NodeJS.Process, 'send' | 'connected'> = process): EventSink {
  return {
    emit(event) {
      if (proc.send && proc.connected) proc.send({ medadEvent: event });
    },
  };
}

/** Extracts a run event from an IPC message sent by {@link ipcEventSink}, or undefined. */
export function runEventFromMessage(message: unknown): RunEvent | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const e = (message as { medadEvent?: RunEvent }).medadEvent;
  return e && typeof e === 'object' && typeof e.type === 'string' && typeof e.runId === 'string' ? e : undefined;
}
