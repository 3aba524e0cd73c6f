import type { RunStatus } from '@medad/core';
import type {
  CheckpointRecord,
  DatasetRecord,
  EvaluationRecord,
  MetricRow,
  NewRun,
  RunEventRecord,
  RunKind,
  RunRecord,
} from '../domain.js';
import { migrate } from './migrations.js';
import { PerRunValues, RunTable } from './run-table.js';
import type { SqlClient } from './sql-client.js';

/** Which runs a listing returns. */
export interface RunQuery {
  kinds?: RunKind[];
  statuses?: RunStatus[];
  /** Page size. */
  first: number;
  /** Keyset cursor: the (createdAt, id) of the last run of the previous page. */
  after?: { createdAt: Date; id: string };
}

/** Fields of a run the executor updates. */
export type RunPatch = Partial<Pick<RunRecord, 'command' | 'backend' | 'attempts' | 'pid' | 'worker' | 'startedAt' | 'finishedAt'>>;

/** Durable state of the control plane (runs, their events, metrics, checkpoints, evaluations, datasets). */
export interface Store {
  readonly dialect: SqlClient['dialect'];
  createRun(run: NewRun): Promise<RunRecord>;
  getRun(id: string): Promise<RunRecord | undefined>;
  listRuns(q: RunQuery): Promise<{ runs: RunRecord[]; hasNextPage: boolean }>;
  countRuns(q: Omit<RunQuery, 'first' | 'after'>): Promise<number>;
  runsWithStatus(statuses: RunStatus[]): Promise<RunRecord[]>;
  /**
   * Moves a run to `status` (only from one of `from`, and only while `owner` is its owner, when
   * given) and records the change; undefined when a guard failed. QUEUED releases the owner.
   */
  setStatus(id: string, status: RunStatus, message: string | null, from?: RunStatus[], owner?: string | null): Promise<RunRecord | undefined>;
  /** Claims a QUEUED, unowned run for `owner` (atomically: of replicas racing, one gets it); undefined when taken. */
  claimRun(id: string, owner: string): Promise<RunRecord | undefined>;
  /** Gives a claimed run that never started back to the queue (only while `owner` holds it). */
  releaseClaim(id: string, owner: string): Promise<boolean>;
  /** Refreshes the heartbeat of every QUEUED or RUNNING run `owner` holds; returns those of its RUNNING runs another replica asked to cancel. */
  heartbeat(owner: string): Promise<string[]>;
  /** Asks the owner of a RUNNING run (another replica) to cancel it at its next heartbeat; false when the run is not RUNNING with an owner. */
  requestCancel(id: string): Promise<boolean>;
  /**
   * QUEUED-and-claimed or RUNNING runs not held by `owner`, each with whether its owner's heartbeat
   * is older than `staleMs` (database clock); RUNNING runs without an owner count as stale.
   */
  foreignActiveRuns(owner: string, staleMs: number): Promise<Array<{ run: RunRecord; stale: boolean }>>;
  updateRun(id: string, patch: RunPatch): Promise<void>;
  addLog(runId: string, level: string, message: string, time: Date): Promise<void>;
  events(runId: string, last?: number): Promise<RunEventRecord[]>;
  /** Inserts metric rows; a (run, step) already stored is kept as is. Returns how many rows were new. */
  insertMetrics(rows: readonly MetricRow[]): Promise<number>;
  /** Metric rows of a run in step order; with `maxPoints`, at most that many evenly spaced rows (first and last kept). */
  metrics(runId: string, maxPoints?: number): Promise<MetricRow[]>;
  metricCount(runId: string): Promise<number>;
  /** Metric row counts of several runs in one query (0 for a run without rows). */
  metricCounts(runIds: readonly string[]): Promise<Map<string, number>>;
  /** The last metric row (highest step) of several runs in one query; a run without rows is absent. */
  lastMetrics(runIds: readonly string[]): Promise<Map<string, MetricRow>>;
  upsertCheckpoint(cp: CheckpointRecord): Promise<void>;
  checkpoints(runId: string): Promise<CheckpointRecord[]>;
  saveEvaluation(runId: string, result: Record<string, unknown>): Promise<void>;
  evaluation(runId: string): Promise<EvaluationRecord | undefined>;
  /** The evaluations of several runs in one query; a run without one is absent. */
  evaluations(runIds: readonly string[]): Promise<Map<string, EvaluationRecord>>;
  upsertDataset(ds: DatasetRecord): Promise<void>;
  datasets(): Promise<DatasetRecord[]>;
  /** True when no run was ever created (the demo pipeline is queued only then). */
  isEmpty(): Promise<boolean>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;
const asDate = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));

function toRun(r: Row): RunRecord {
  return {
    id: r.id as string,
    kind: r.kind as RunKind,
    status: r.status as RunStatus,
    statusMessage: (r.status_message as string | null) ?? null,
    config: (r.config as Record<string, unknown>) ?? {},
    command: (r.command as string[] | null) ?? null,
    dir: r.dir as string,
    backend: (r.backend as string | null) ?? null,
    dependsOn: (r.depends_on as string | null) ?? null,
    attempts: Number(r.attempts),
    pid: r.pid === null || r.pid === undefined ? null : Number(r.pid),
    worker: (r.worker as string | null) ?? null,
    owner: (r.owner as string | null) ?? null,
    heartbeatAt: asDate(r.heartbeat_at),
    cancelRequestedAt: asDate(r.cancel_requested_at),
    createdAt: asDate(r.created_at)!,
    startedAt: asDate(r.started_at),
    finishedAt: asDate(r.finished_at),
  };
}

const PATCH_COLUMNS: Record<keyof RunPatch, string> = {
  command: 'command',
  backend: 'backend',
  attempts: 'attempts',
  pid: 'pid',
  worker: 'worker',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};

function filterSql(q: Omit<RunQuery, 'first' | 'after'>, params: unknown[]): string[] {
  const where: string[] = [];
  if (q.kinds?.length) {
    params.push(JSON.stringify(q.kinds));
    where.push(`kind in (select jsonb_array_elements_text($${params.length}::jsonb))`);
  }
  if (q.statuses?.length) {
    params.push(JSON.stringify(q.statuses));
    where.push(`status in (select jsonb_array_elements_text($${params.length}::jsonb))`);
  }
  return where;
}

/**
 * The {@link Store} over SQL, identical on PGlite and PostgreSQL. On PGlite the control plane is
 * the database's only writer, so it keeps the runs table in memory too ({@link RunTable}): every
 * write puts the row it returned, and run reads (a run, the run list, its count) need no query.
 * On PostgreSQL other replicas write as well, so every read goes to the database.
 */
export class SqlStore implements Store {
  private table: Promise<RunTable> | undefined;
  /** With the runs table: each run's last metric row and its evaluation, in memory too. */
  private readonly lastRows = new PerRunValues<MetricRow>();
  private readonly evals = new PerRunValues<EvaluationRecord>();

  private constructor(
    private readonly db: SqlClient,
    private readonly cacheRuns: boolean,
  ) {}

  /** Migrates the database and returns a store over it (`cacheRuns`: default on PGlite only). */
  static async open(db: SqlClient, options: { cacheRuns?: boolean } = {}): Promise<SqlStore> {
    await migrate(db);
    return new SqlStore(db, options.cacheRuns ?? db.dialect === 'pglite');
  }

  /** The in-memory runs table, loaded on first use (undefined without the cache). */
  private runTable(): Promise<RunTable> | undefined {
    if (!this.cacheRuns) return undefined;
    this.table ??= this.db.query('select * from runs').then((rows) => new RunTable(rows.map(toRun)));
    return this.table;
  }

  /** Puts rows a write returned into the loaded runs table (a table loaded later reads them anyway). */
  private async cached(...runs: RunRecord[]): Promise<void> {
    if (!this.table) return;
    const t = await this.table;
    for (const r of runs) t.put(r);
  }

  get dialect(): SqlClient['dialect'] {
    return this.db.dialect;
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    const rows = await this.db.transaction(async (tx) => {
      const now = new Date().toISOString();
      const created = await tx.query(
        `insert into runs (id, kind, status, config, dir, depends_on, created_at)
         values ($1, $2, 'QUEUED', $3::jsonb, $4, $5, $6::timestamptz) returning *`,
        [run.id, run.kind, JSON.stringify(run.config), run.dir, run.dependsOn ?? null, now],
      );
      await tx.query(`insert into run_events (run_id, type, status, time) values ($1, 'status', 'QUEUED', $2::timestamptz)`, [run.id, now]);
      return created;
    });
    const created = toRun(rows[0]!);
    await this.cached(created);
    return created;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const table = this.runTable();
    if (table) return (await table).get(id);
    const rows = await this.db.query('select * from runs where id = $1', [id]);
    return rows[0] ? toRun(rows[0]) : undefined;
  }

  async listRuns(q: RunQuery): Promise<{ runs: RunRecord[]; hasNextPage: boolean }> {
    const table = this.runTable();
    if (table) return (await table).list(q);
    const params: unknown[] = [];
    const where = filterSql(q, params);
    if (q.after) {
      params.push(q.after.createdAt.toISOString(), q.after.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(q.first + 1);
    const rows = await this.db.query(
      `select * from runs ${where.length ? 'where ' + where.join(' and ') : ''} order by created_at desc, id desc limit $${params.length}`,
      params,
    );
    return { runs: rows.slice(0, q.first).map(toRun), hasNextPage: rows.length > q.first };
  }

  async countRuns(q: Omit<RunQuery, 'first' | 'after'>): Promise<number> {
    const table = this.runTable();
    if (table) return (await table).count(q);
    const params: unknown[] = [];
    const where = filterSql(q, params);
    const rows = await this.db.query<{ n: number }>(
      `select count(*)::int as n from runs ${where.length ? 'where ' + where.join(' and ') : ''}`,
      params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async runsWithStatus(statuses: RunStatus[]): Promise<RunRecord[]> {
    const table = this.runTable();
    if (table) return (await table).withStatus(statuses);
    const rows = await this.db.query(
      `select * from runs where status in (select jsonb_array_elements_text($1::jsonb)) order by created_at, id`,
      [JSON.stringify(statuses)],
    );
    return rows.map(toRun);
  }

  async setStatus(id: string, status: RunStatus, message: string | null, from?: RunStatus[], owner?: string | null): Promise<RunRecord | undefined> {
    const run = await this.db.transaction(async (tx) => {
      const now = new Date().toISOString();
      const params: unknown[] = [id, status, message];
      let guard = '';
      if (from) {
        params.push(JSON.stringify(from));
        guard += ` and status in (select jsonb_array_elements_text($${params.length}::jsonb))`;
      }
      if (owner !== undefined) {
        params.push(owner);
        guard += ` and owner is not distinct from $${params.length}::text`;
      }
      const release = status === 'QUEUED' ? ', owner = null, heartbeat_at = null, cancel_requested_at = null' : '';
      const rows = await tx.query(`update runs set status = $2, status_message = $3${release} where id = $1${guard} returning *`, params);
      if (!rows[0]) return undefined;
      await tx.query(`insert into run_events (run_id, type, status, message, time) values ($1, 'status', $2, $3, $4::timestamptz)`, [
        id,
        status,
        message,
        now,
      ]);
      return toRun(rows[0]);
    });
    if (run) await this.cached(run);
    return run;
  }

  async claimRun(id: string, owner: string): Promise<RunRecord | undefined> {
    const rows = await this.db.query(`update runs set owner = $2, heartbeat_at = now() where id = $1 and status = 'QUEUED' and owner is null returning *`, [id, owner]);
    const run = rows[0] ? toRun(rows[0]) : undefined;
    if (run) await this.cached(run);
    return run;
  }

  async releaseClaim(id: string, owner: string): Promise<boolean> {
    const rows = await this.db.query(`update runs set owner = null, heartbeat_at = null where id = $1 and owner = $2 and status = 'QUEUED' returning *`, [id, owner]);
    await this.cached(...rows.map(toRun));
    return rows.length > 0;
  }

  async heartbeat(owner: string): Promise<string[]> {
    const rows = await this.db.query(`update runs set heartbeat_at = now() where owner = $1 and status in ('QUEUED', 'RUNNING') returning *`, [owner]);
    const runs = rows.map(toRun);
    await this.cached(...runs);
    return runs.filter((r) => r.status === 'RUNNING' && r.cancelRequestedAt != null).map((r) => r.id);
  }

  async requestCancel(id: string): Promise<boolean> {
    const rows = await this.db.query(`update runs set cancel_requested_at = now() where id = $1 and status = 'RUNNING' and owner is not null returning *`, [id]);
    await this.cached(...rows.map(toRun));
    return rows.length > 0;
  }

  async foreignActiveRuns(owner: string, staleMs: number): Promise<Array<{ run: RunRecord; stale: boolean }>> {
    const rows = await this.db.query(
      `select *, (owner is null or heartbeat_at is null or heartbeat_at < now() - ($2::text || ' milliseconds')::interval) as stale
         from runs
        where (status = 'RUNNING' or (status = 'QUEUED' and owner is not null)) and owner is distinct from $1
        order by created_at, id`,
      [owner, String(Math.max(0, Math.round(staleMs)))],
    );
    return rows.map((r) => ({ run: toRun(r), stale: r.stale === true || r.stale === 't' }));
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    const sets: string[] = [];
    const params: unknown[] = [id];
    for (const [key, column] of Object.entries(PATCH_COLUMNS) as Array<[keyof RunPatch, string]>) {
      if (!(key in patch)) continue;
      const v = patch[key];
      params.push(key === 'command' ? JSON.stringify(v) : v instanceof Date ? v.toISOString() : v);
      const cast = key === 'command' ? '::jsonb' : key === 'startedAt' || key === 'finishedAt' ? '::timestamptz' : '';
      sets.push(`${column} = $${params.length}${cast}`);
    }
    if (sets.length) await this.cached(...(await this.db.query(`update runs set ${sets.join(', ')} where id = $1 returning *`, params)).map(toRun));
  }

  async addLog(runId: string, level: string, message: string, time: Date): Promise<void> {
    await this.db.query(`insert into run_events (run_id, type, level, message, time) values ($1, 'log', $2, $3, $4::timestamptz)`, [
      runId,
      level,
      message,
      time.toISOString(),
    ]);
  }

  async events(runId: string, last = 200): Promise<RunEventRecord[]> {
    const rows = await this.db.query(
      `select * from (select * from run_events where run_id = $1 order by id desc limit $2) e order by id`,
      [runId, last],
    );
    return rows.map((r) => ({
      runId: r.run_id as string,
      type: r.type as 'status' | 'log',
      status: (r.status as RunStatus | null) ?? null,
      level: (r.level as string | null) ?? null,
      message: (r.message as string | null) ?? null,
      time: asDate(r.time)!,
    }));
  }

  async insertMetrics(rows: readonly MetricRow[]): Promise<number> {
    if (!rows.length) return 0;
    const payload = rows.map((r) => ({ run_id: r.runId, step: r.step, values: r.values, t: r.time.toISOString() }));
    const inserted = await this.db.query(
      `insert into metrics (run_id, step, "values", time)
       select x.run_id, x.step, x."values", x.t::timestamptz
       from jsonb_to_recordset($1::jsonb) as x(run_id text, step integer, "values" jsonb, t text)
       on conflict (run_id, step) do nothing returning run_id, step`,
      [JSON.stringify(payload)],
    );
    if (this.cacheRuns && inserted.length) {
      const byKey = new Map(rows.map((r) => [`${r.runId}\u0000${r.step}`, r]));
      for (const i of inserted) {
        const row = byKey.get(`${i.run_id as string}\u0000${Number(i.step)}`);
        if (row) this.lastRows.wrote(row.runId, { runId: row.runId, step: row.step, time: new Date(row.time.toISOString()), values: row.values }, { replaces: (held) => row.step > held.step });
      }
    }
    return inserted.length;
  }

  async metrics(runId: string, maxPoints?: number): Promise<MetricRow[]> {
    let rows: Row[];
    if (maxPoints === undefined) {
      rows = await this.db.query(`select * from metrics where run_id = $1 order by step`, [runId]);
    } else {
      const total = await this.metricCount(runId);
      if (total <= maxPoints) return this.metrics(runId);
      if (maxPoints <= 1) {
        rows = await this.db.query(`select * from metrics where run_id = $1 order by step desc limit 1`, [runId]);
      } else {
        // Rows 0, s, 2s, ... (maxPoints − 1 of them) plus the last row: at most maxPoints, evenly spaced.
        const stride = Math.ceil((total - 1) / (maxPoints - 1));
        rows = await this.db.query(
          `select * from (select m.*, row_number() over (order by step) - 1 as i from metrics m where run_id = $1) r
           where (r.i % $2 = 0 and r.i / $2 < $3) or r.i = $4 order by step`,
          [runId, stride, maxPoints - 1, total - 1],
        );
      }
    }
    return rows.map((r) => ({
      runId: r.run_id as string,
      step: Number(r.step),
      time: asDate(r.time)!,
      values: r.values as Record<string, number>,
    }));
  }

  async metricCount(runId: string): Promise<number> {
    const rows = await this.db.query<{ n: number }>(`select count(*)::int as n from metrics where run_id = $1`, [runId]);
    return Number(rows[0]?.n ?? 0);
  }

  async metricCounts(runIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map(runIds.map((id) => [id, 0]));
    if (!runIds.length) return out;
    const rows = await this.db.query<{ run_id: string; n: number }>(
      `select run_id, count(*)::int as n from metrics where run_id = any($1::text[]) group by run_id`,
      [[...new Set(runIds)]],
    );
    for (const r of rows) out.set(r.run_id, Number(r.n));
    return out;
  }

  async lastMetrics(runIds: readonly string[]): Promise<Map<string, MetricRow>> {
    return this.cacheRuns ? this.lastRows.read(runIds, (ids) => this.lastMetricsFromDb(ids)) : this.lastMetricsFromDb(runIds);
  }

  private async lastMetricsFromDb(runIds: readonly string[]): Promise<Map<string, MetricRow>> {
    const out = new Map<string, MetricRow>();
    if (!runIds.length) return out;
    // One index descent per run (primary key run_id, step), not a scan of every run's rows.
    const rows = await this.db.query(`select distinct on (run_id) * from metrics where run_id = any($1::text[]) order by run_id, step desc`, [[...new Set(runIds)]]);
    for (const r of rows) out.set(r.run_id as string, { runId: r.run_id as string, step: Number(r.step), time: asDate(r.time)!, values: r.values as Record<string, number> });
    return out;
  }

  async upsertCheckpoint(cp: CheckpointRecord): Promise<void> {
    // A run overwrites its checkpoint directory in place: only the newest step at a path exists.
    await this.db.query(`delete from checkpoints where run_id = $1 and path = $2 and step < $3`, [cp.runId, cp.path, cp.step]);
    await this.db.query(
      `insert into checkpoints (run_id, step, path, created_at) values ($1, $2, $3, $4::timestamptz)
       on conflict (run_id, step) do update set path = excluded.path`,
      [cp.runId, cp.step, cp.path, cp.createdAt.toISOString()],
    );
  }

  async checkpoints(runId: string): Promise<CheckpointRecord[]> {
    const rows = await this.db.query(`select * from checkpoints where run_id = $1 order by step`, [runId]);
    return rows.map((r) => ({ runId: r.run_id as string, step: Number(r.step), path: r.path as string, createdAt: asDate(r.created_at)! }));
  }

  async saveEvaluation(runId: string, result: Record<string, unknown>): Promise<void> {
    const rows = await this.db.query(
      `insert into evaluations (run_id, result, created_at) values ($1, $2::jsonb, $3::timestamptz)
       on conflict (run_id) do update set result = excluded.result, created_at = excluded.created_at returning *`,
      [runId, JSON.stringify(result), new Date().toISOString()],
    );
    const r = rows[0];
    if (this.cacheRuns && r) this.evals.wrote(runId, { runId, result: r.result as Record<string, unknown>, createdAt: asDate(r.created_at)! }, { known: true });
  }

  async evaluation(runId: string): Promise<EvaluationRecord | undefined> {
    const rows = await this.db.query(`select * from evaluations where run_id = $1`, [runId]);
    const r = rows[0];
    return r ? { runId, result: r.result as Record<string, unknown>, createdAt: asDate(r.created_at)! } : undefined;
  }

  async evaluations(runIds: readonly string[]): Promise<Map<string, EvaluationRecord>> {
    return this.cacheRuns ? this.evals.read(runIds, (ids) => this.evaluationsFromDb(ids)) : this.evaluationsFromDb(runIds);
  }

  private async evaluationsFromDb(runIds: readonly string[]): Promise<Map<string, EvaluationRecord>> {
    const out = new Map<string, EvaluationRecord>();
    if (!runIds.length) return out;
    const rows = await this.db.query(`select * from evaluations where run_id = any($1::text[])`, [[...new Set(runIds)]]);
    for (const r of rows) out.set(r.run_id as string, { runId: r.run_id as string, result: r.result as Record<string, unknown>, createdAt: asDate(r.created_at)! });
    return out;
  }

  async upsertDataset(ds: DatasetRecord): Promise<void> {
    await this.db.query(
      `insert into datasets (id, name, path, run_id, info, created_at) values ($1, $2, $3, $4, $5::jsonb, $6::timestamptz)
       on conflict (id) do update set name = excluded.name, path = excluded.path, run_id = excluded.run_id, info = excluded.info`,
      [ds.id, ds.name, ds.path, ds.runId, ds.info === null ? null : JSON.stringify(ds.info), ds.createdAt.toISOString()],
    );
  }

  async datasets(): Promise<DatasetRecord[]> {
    const rows = await this.db.query(`select * from datasets order by created_at, id`);
    return rows.map((r) => ({
      id: r.id as string,
      name: r.name as string,
      path: r.path as string,
      runId: (r.run_id as string | null) ?? null,
      info: (r.info as Record<string, unknown> | null) ?? null,
      createdAt: asDate(r.created_at)!,
    }));
  }

  async isEmpty(): Promise<boolean> {
    const table = this.runTable();
    if (table) return (await table).size === 0;
    const rows = await this.db.query<{ n: number }>(`select count(*)::int as n from runs`);
    return Number(rows[0]?.n ?? 0) === 0;
  }

  async ping(): Promise<boolean> {
    try {
      await this.db.query('select 1');
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
