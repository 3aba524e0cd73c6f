import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/** One row of `metrics.jsonl`. */
export interface MetricRow {
  step: number;
  [key: string]: number | string;
}

/**
 * Append-only `metrics.jsonl` (or any JSONL of per-step rows, e.g. `completions.jsonl`) that holds
 * each step exactly once across crashes: on open it drops rows past the step the run resumes from
 * (they were written after the last checkpoint and will be recomputed) and any torn last line.
 */
export class MetricsLog<R extends { step: number } = MetricRow> {
  constructor(readonly file: string) {}

  /** Keeps rows with step ≤ `lastStep` (the checkpoint's step); returns them. */
  openForResume(lastStep: number): R[] {
    const rows = this.read().filter((r) => r.step <= lastStep);
    writeFileSync(this.file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
    return rows;
  }

  append(...rows: R[]): void {
    if (rows.length) appendFileSync(this.file, rows.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  /** Every complete row, in file order. */
  read(): R[] {
    if (!existsSync(this.file)) return [];
    const rows: R[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const row = JSON.parse(line) as R;
        if (typeof row.step === 'number') rows.push(row);
      } catch {
        // A torn line from a kill mid-write: dropped, the step is recomputed.
      }
    }
    return rows;
  }
}
