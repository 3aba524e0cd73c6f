import type { SqlClient } from './sql-client.js';

/** One schema change; `version` numbers are applied in order, each exactly once. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The control plane's schema, the same SQL on PGlite and PostgreSQL. Append new versions; never edit old ones. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, events, metrics, checkpoints, evaluations, datasets',
    sql: `
      create table runs (
        id text primary key,
        kind text not null,
        status text not null,
        status_message text,
        config jsonb not null,
        command jsonb,
        dir text not null,
        backend text,
        depends_on text references runs(id),
        attempts integer not null default 0,
        pid integer,
        worker text,
        created_at timestamptz not null,
        started_at timestamptz,
        finished_at timestamptz
      );
      create index runs_created on runs (created_at desc, id desc);
      create index runs_status on runs (status);

      create table run_events (
        id bigserial primary key,
        run_id text not null references runs(id) on delete cascade,
        type text not null,
        status text,
        level text,
        message text,
        time timestamptz not null
      );
      create index run_events_run on run_events (run_id, id);

      create table metrics (
        run_id text not null references runs(id) on delete cascade,
        step integer not null,
        "values" jsonb not null,
        time timestamptz not null,
        primary key (run_id, step)
      );

      create table checkpoints (
        run_id text not null references runs(id) on delete cascade,
        step integer not null,
        path text not null,
        created_at timestamptz not null,
        primary key (run_id, step)
      );

      create table evaluations (
        run_id text primary key references runs(id) on delete cascade,
        result jsonb not null,
        created_at timestamptz not null
      );

      create table datasets (
        id text primary key,
        name text not null,
        path text not null unique,
        run_id text references runs(id) on delete set null,
        info jsonb,
        created_at timestamptz not null
      );
    `,
  },
  {
    version: 2,
    name: 'run ownership: the replica that claimed a run and its heartbeat',
    sql: `
      alter table runs add column owner text;
      alter table runs add column heartbeat_at timestamptz;
    `,
  },
  {
    version: 3,
    name: 'cancel requests: a replica asks the run owner to stop a run',
    sql: `
      alter table runs add column cancel_requested_at timestamptz;
    `,
  },
];

/** Applies pending migrations in order inside transactions; returns the versions applied now. */
export async function migrate(db: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.exec(
    `create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())`,
  );
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    const done = await db.transaction(async (tx) => {
      // A second server migrating the same PostgreSQL database waits here instead of racing.
      if (tx.dialect === 'postgres') await tx.query('select pg_advisory_xact_lock(7242019)');
      const rows = await tx.query<{ version: number }>('select version from schema_migrations where version = $1', [m.version]);
      if (rows.length) return false;
      await tx.exec(m.sql);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
