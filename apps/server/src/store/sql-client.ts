import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { ErrorCode, MedadError, errorMessage } from '@medad/core';

/** The few SQL operations the store needs, implemented over PGlite and over `pg`. */
export interface SqlClient {
  /** Which engine runs the SQL (`pglite` embedded, `postgres` over the network). */
  readonly dialect: 'pglite' | 'postgres';
  /** Runs one parameterised statement and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters. */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction (commit on success, rollback on throw). */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * `client`, calling `onWrite` once each statement that may have changed data has finished: every
 * statement but a SELECT, except one with RETURNING that returned no row (it changed nothing: an
 * idle heartbeat); every script and transaction. Failed ones count, since a failure may follow a
 * partial write. The control plane's response cache is invalidated through it.
 */
export function observeWrites(client: SqlClient, onWrite: () => void): SqlClient {
  const read = /^\s*select\b/i;
  const returning = /\breturning\b/i;
  return {
    dialect: client.dialect,
    async query<R>(sql: string, params?: unknown[]) {
      if (read.test(sql)) return client.query<R>(sql, params);
      let rows: R[] | undefined;
      try {
        return (rows = await client.query<R>(sql, params));
      } finally {
        if (!(rows && rows.length === 0 && returning.test(sql))) onWrite();
      }
    },
    async exec(sql: string) {
      try {
        await client.exec(sql);
      } finally {
        onWrite();
      }
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>) {
      try {
        return await client.transaction(fn);
      } finally {
        onWrite();
      }
    },
    close: () => client.close(),
  };
}

/**
 * PGlite's PostgreSQL settings. PGlite is one connection reading files the OS already caches, so
 * PostgreSQL's default 128 MB of shared buffers mostly costs memory. 16 MB keeps the runs table,
 * its indexes and recent metric pages resident (`npm run bench -- memory` measures the process;
 * `npm run bench -- server` measures the query latency).
 */
export const PGLITE_CONF = ['shared_buffers=16MB'];

/**
 * Runs `open` (which compiles PGlite's WebAssembly: 9 MB of PostgreSQL) with V8's baseline
 * compiler only (Liftoff). By default V8 recompiles hot functions with its optimising tier in the
 * background; for PGlite that holds ~70 MB more code in an idle server and costs CPU just after
 * start, while the control plane's queries are short and mostly answered by its caches
 * (`npm run bench -- memory` and `-- server` measure both; apps/server README). The flag is
 * restored afterwards, so WebAssembly compiled later in this process is not affected.
 * `MEDAD_PGLITE_TIER_UP=1` keeps V8's default tiering.
 */
async function withBaselineWasm<T>(open: () => Promise<T>): Promise<T> {
  if (process.env.MEDAD_PGLITE_TIER_UP === '1') return open();
  setFlagsFromString('--liftoff-only');
  try {
    return await open();
  } finally {
    setFlagsFromString('--no-liftoff-only');
  }
}

/** Creates a PGlite database in `dataDir` in a child process (argv only, no shell), which then exits. */
async function initPgliteInChild(dataDir: string): Promise<void> {
  const script = `const { PGlite } = await import(process.argv[1]); await (await PGlite.create(process.argv[2])).close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, import.meta.resolve('@electric-sql/pglite'), dataDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`initialising the database failed (exit ${code}): ${stderr.trim()}`);
}

/** Opens an embedded PGlite database stored in `dataDir` (created when missing), or in memory. */
export async function openPglite(dataDir?: string): Promise<SqlClient> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  let db: InstanceType<typeof PGlite>;
  try {
    // A new database: initdb's memory (hundreds of MB) stays with the process that ran it, so
    // a short-lived child creates the files — the server then holds what a restart would.
    if (dataDir && !existsSync(join(dataDir, 'PG_VERSION'))) await initPgliteInChild(dataDir);
    db = await withBaselineWasm(() => PGlite.create(dataDir, { postgresqlconf: PGLITE_CONF }));
  } catch (err) {
    throw new MedadError(ErrorCode.Internal, `Could not open the embedded database in ${dataDir ?? '(memory)'}: ${errorMessage(err)}`, {
      fix: 'check the directory is writable and not used by another medad server (or pass another --data-dir)',
      cause: err,
    });
  }
  type Queryable = Pick<InstanceType<typeof PGlite>, 'query' | 'exec'>;
  const wrap = (q: Queryable): Omit<SqlClient, 'transaction' | 'close'> => ({
    dialect: 'pglite',
    async query<R>(sql: string, params: unknown[] = []) {
      return (await q.query<R>(sql, params)).rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  // PGlite is one connection: a transaction must not interleave with other statements.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const base = wrap(db);
  return {
    dialect: 'pglite',
    query: (sql, params) => serial(() => base.query(sql, params)),
    exec: (sql) => serial(() => base.exec(sql)),
    transaction: (fn) =>
      serial(() =>
        db.transaction(async (tx) => {
          const inner = wrap(tx);
          const client: SqlClient = {
            ...inner,
            transaction: (f) => f(client),
            close: async () => undefined,
          };
          return fn(client);
        }),
      ),
    close: () => serial(() => db.close()),
  };
}

/** Connects to PostgreSQL at `url` (a `postgres://` connection string) through a `pg` pool. */
export async function openPostgres(url: string, poolSize = 5): Promise<SqlClient> {
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined); // idle-client errors surface on the next query instead
  try {
    await pool.query('select 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new MedadError(ErrorCode.Internal, `Could not connect to PostgreSQL (DATABASE_URL): ${errorMessage(err)}`, {
      fix: 'check DATABASE_URL (postgres://user:password@host:port/db) and that the server accepts connections, or unset it to use the embedded database',
      cause: err,
    });
  }
  const client: SqlClient = {
    dialect: 'postgres',
    async query<R>(sql: string, params: unknown[] = []) {
      return (await pool.query<R>(sql, params)).rows;
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const conn = await pool.connect();
      const tx: SqlClient = {
        dialect: 'postgres',
        query: async <R>(sql: string, params: unknown[] = []) => (await conn.query<R>(sql, params)).rows,
        exec: async (sql: string) => {
          await conn.query(sql);
        },
        transaction: (f) => f(tx),
        close: async () => undefined,
      };
      try {
        await conn.query('begin');
        const out = await fn(tx);
        await conn.query('commit');
        conn.release();
        return out;
      } catch (err) {
        await conn.query('rollback').catch(() => undefined);
        conn.release();
        throw err;
      }
    },
    close: () => pool.end(),
  };
  return client;
}
