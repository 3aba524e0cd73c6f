import { errorMessage, silentLogger, type Logger } from '@medad/core';
import type { MetricRow } from '../domain.js';
import type { Store } from './store.js';

/** When a {@link MetricWriter} flushes. */
export interface MetricWriterOptions {
  /** Flush as soon as this many rows are buffered. Default 200. */
  maxBatch?: number;
  /** Flush buffered rows at least this often (ms). Default 250. */
  intervalMs?: number;
  logger?: Logger;
}

/**
 * Buffers metric rows and writes them in batches (on size, on a timer, and on `close`), so a
 * fast trainer costs one INSERT per batch; a failed write keeps the rows for the next flush.
 */
export class MetricWriter {
  private buffer: MetricRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly maxBatch: number;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  /** Rows written so far (new rows only; replayed steps are not counted). */
  written = 0;
  /** INSERT statements issued so far. */
  batches = 0;

  constructor(
    private readonly store: Pick<Store, 'insertMetrics'>,
    options: MetricWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 200;
    this.intervalMs = options.intervalMs ?? 250;
    this.logger = options.logger ?? silentLogger;
  }

  /** Rows waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Queues one row; triggers a flush when the batch is full. */
  add(row: MetricRow): void {
    if (this.closed) throw new Error('MetricWriter is closed');
    this.buffer.push(row);
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes everything buffered now; resolves when it is stored (or the write failed and was kept). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writing = this.writing.then(() => this.writeBuffered());
    return this.writing;
  }

  /** Flushes and refuses further rows. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.splice(0, this.maxBatch);
      // One INSERT cannot hit the same (run, step) twice; keep the first, as the table does.
      const seen = new Set<string>();
      const unique = batch.filter((r) => {
        const key = `${r.runId}\u0000${r.step}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      try {
        this.written += await this.store.insertMetrics(unique);
        this.batches++;
      } catch (err) {
        this.buffer.unshift(...batch);
        this.logger.error('metric batch not stored; will retry', { rows: batch.length, error: errorMessage(err) });
        if (!this.closed) this.timer ??= setTimeout(() => void this.flush(), Math.max(this.intervalMs, 1000));
        return;
      }
    }
  }
}
