import { RunStatus } from '@medad/core';
import type { MetricRow, RunKind } from '../domain.js';

/** A status change as subscribers see it. */
export interface StatusChange {
  runId: string;
  kind: RunKind;
  status: RunStatus;
  message: string | null;
  time: Date;
}

/** Topics and their payloads: one metric stream and one status stream per run, plus all runs' statuses. */
export interface BusTopics {
  metrics: MetricRow;
  status: StatusChange;
}

/** Where published events also go (e.g. Redis pub/sub to other server replicas). */
export type BusRelay = <K extends keyof BusTopics>(topic: K, key: string, payload: BusTopics[K]) => void;

interface Subscriber {
  push(value: unknown): void;
  end(): void;
}

/**
 * In-process fan-out of run events to GraphQL subscriptions. Each subscriber has a bounded
 * queue that drops its oldest items when a client reads too slowly, so one slow websocket
 * never holds memory or back-pressures the executor.
 */
export class EventBus {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private relay: BusRelay | undefined;

  constructor(private readonly bufferSize = 1024) {}

  /** Forwards every local publish to `relay` as well (set by the Redis fan-out). */
  setRelay(relay: BusRelay | undefined): void {
    this.relay = relay;
  }

  /** Publishes to subscribers of `topic` for `key` (a run id) and of `topic` for all keys (`*`). */
  publish<K extends keyof BusTopics>(topic: K, key: string, payload: BusTopics[K]): void {
    this.deliver(topic, key, payload);
    this.relay?.(topic, key, payload);
  }

  /** Delivers to local subscribers only (used for events that arrive from a relay). */
  deliver<K extends keyof BusTopics>(topic: K, key: string, payload: BusTopics[K]): void {
    for (const channel of [`${topic}:${key}`, `${topic}:*`]) {
      for (const s of this.subscribers.get(channel) ?? []) s.push(payload);
    }
  }

  /** Number of live subscriptions on a channel (`metrics:<runId>`, `status:*`...), for tests and /healthz. */
  listenerCount(channel?: string): number {
    if (channel) return this.subscribers.get(channel)?.size ?? 0;
    let n = 0;
    for (const set of this.subscribers.values()) n += set.size;
    return n;
  }

  /** An async iterator over `topic` events for `key` (`*` for all); `return()` unsubscribes. */
  subscribe<K extends keyof BusTopics>(topic: K, key: string): AsyncIterableIterator<BusTopics[K]> {
    const channel = `${topic}:${key}`;
    const queue: BusTopics[K][] = [];
    let waiting: ((r: IteratorResult<BusTopics[K]>) => void) | undefined;
    let done = false;
    const sub: Subscriber = {
      end: () => void finish(),
      push: (value) => {
        if (done) return;
        if (waiting) {
          const w = waiting;
          waiting = undefined;
          w({ value: value as BusTopics[K], done: false });
          return;
        }
        queue.push(value as BusTopics[K]);
        if (queue.length > this.bufferSize) queue.shift();
      },
    };
    let set = this.subscribers.get(channel);
    if (!set) this.subscribers.set(channel, (set = new Set()));
    set.add(sub);
    const finish = (): IteratorResult<BusTopics[K]> => {
      if (!done) {
        done = true;
        const s = this.subscribers.get(channel);
        s?.delete(sub);
        if (s && !s.size) this.subscribers.delete(channel);
        queue.length = 0;
        waiting?.({ value: undefined, done: true });
        waiting = undefined;
      }
      return { value: undefined, done: true };
    };
    const iterator: AsyncIterableIterator<BusTopics[K]> = {
      next: () => {
        if (queue.length) return Promise.resolve({ value: queue.shift()!, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (waiting = resolve));
      },
      return: () => Promise.resolve(finish()),
      throw: (err?: unknown) => {
        finish();
        return Promise.reject(err);
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Ends every subscription (server shutdown). */
  closeAll(): void {
    for (const set of [...this.subscribers.values()]) for (const s of [...set]) s.end();
  }
}

/** True for statuses after which a run's metric stream ends. */
export function isFinalStatus(status: RunStatus): boolean {
  return status !== RunStatus.Queued && status !== RunStatus.Running;
}
