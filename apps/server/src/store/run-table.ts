import type { RunStatus } from '@medad/core';
import type { RunRecord } from '../domain.js';
import type { RunQuery } from './store.js';

/** Newest first: `created_at desc, id desc` (ids compare as the database's C collation does). */
function newestFirst(a: RunRecord, b: RunRecord): number {
  const t = b.createdAt.getTime() - a.createdAt.getTime();
  if (t !== 0) return t;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

const matches = (r: RunRecord, q: Omit<RunQuery, 'first' | 'after'>): boolean =>
  (!q.kinds?.length || q.kinds.includes(r.kind)) && (!q.statuses?.length || q.statuses.includes(r.status));

/**
 * The runs table held in memory: the control plane's read model of its runs when it is the only
 * writer (embedded PGlite). Every write the store makes returns the row it wrote, which replaces
 * the cached one, so reads (`getRun`, the run list, its count) answer without a query and equal
 * what the table holds. Records are frozen: a caller that tried to change one would throw.
 */
export class RunTable {
  private readonly byId = new Map<string, RunRecord>();
  /** Every run, newest first. */
  private readonly order: RunRecord[] = [];

  constructor(runs: readonly RunRecord[]) {
    for (const r of runs) this.byId.set(r.id, Object.freeze({ ...r }));
    this.order.push(...this.byId.values());
    this.order.sort(newestFirst);
  }

  /** The position of `run` (or where it goes) in {@link order}. */
  private indexOf(run: RunRecord): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newestFirst(this.order[mid]!, run) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Stores the row a write returned (a new run, or a new version of one). */
  put(run: RunRecord): void {
    const frozen = Object.freeze({ ...run });
    const had = this.byId.has(run.id);
    this.byId.set(run.id, frozen);
    const at = this.indexOf(run);
    if (had && this.order[at]?.id === run.id) this.order[at] = frozen;
    else this.order.splice(at, 0, frozen);
  }

  get(id: string): RunRecord | undefined {
    return this.byId.get(id);
  }

  list(q: RunQuery): { runs: RunRecord[]; hasNextPage: boolean } {
    const runs: RunRecord[] = [];
    let i = 0;
    if (q.after) {
      // Keyset: the first run strictly older than the cursor's (created_at, id).
      const cursor = { createdAt: q.after.createdAt, id: q.after.id } as RunRecord;
      i = this.indexOf(cursor);
      if (this.order[i] && newestFirst(this.order[i]!, cursor) === 0) i++;
    }
    for (; i < this.order.length && runs.length <= q.first; i++) if (matches(this.order[i]!, q)) runs.push(this.order[i]!);
    return { runs: runs.slice(0, q.first), hasNextPage: runs.length > q.first };
  }

  count(q: Omit<RunQuery, 'first' | 'after'>): number {
    if (!q.kinds?.length && !q.statuses?.length) return this.order.length;
    let n = 0;
    for (const r of this.order) if (matches(r, q)) n++;
    return n;
  }

  /** Runs in these statuses, oldest first (`created_at, id`). */
  withStatus(statuses: readonly RunStatus[]): RunRecord[] {
    return this.order.filter((r) => statuses.includes(r.status)).reverse();
  }

  get size(): number {
    return this.order.length;
  }
}

/**
 * A value per run kept in memory on a single-writer store (a run's last metric row, its
 * evaluation): filled on a read miss, updated by the store's writes. A miss whose query raced a
 * write is answered but not kept, so a stale value is never cached.
 */
export class PerRunValues<V> {
  private readonly values = new Map<string, V | null>();
  private writes = 0;

  /** The values of `ids` (absent: none), loading the ones not held with `load`. */
  async read(ids: readonly string[], load: (missing: string[]) => Promise<Map<string, V>>): Promise<Map<string, V>> {
    const unique = [...new Set(ids)];
    const missing = unique.filter((id) => !this.values.has(id));
    let loaded = new Map<string, V>();
    if (missing.length) {
      const before = this.writes;
      loaded = await load(missing);
      if (this.writes === before) for (const id of missing) this.values.set(id, loaded.get(id) ?? null);
    }
    const out = new Map<string, V>();
    for (const id of unique) {
      const v = this.values.has(id) ? this.values.get(id) : loaded.get(id);
      if (v !== null && v !== undefined) out.set(id, v);
    }
    return out;
  }

  /** A write stored `value` for `id`: it replaces the held one when `replaces(held)` (always when unset), or becomes it when `known` (the store knows it is the whole truth). */
  wrote(id: string, value: V, options: { replaces?: (held: V) => boolean; known?: boolean } = {}): void {
    this.writes++;
    if (!this.values.has(id)) {
      if (options.known) this.values.set(id, value);
      return;
    }
    const held = this.values.get(id);
    if (held === null || held === undefined || !options.replaces || options.replaces(held)) this.values.set(id, value);
  }
}
