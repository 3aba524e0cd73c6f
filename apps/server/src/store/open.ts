import { join } from 'node:path';
import { SqlStore, type Store } from './store.js';
import { observeWrites, openPglite, openPostgres } from './sql-client.js';

/** Where the store lives: PostgreSQL when `databaseUrl` is set, else PGlite under `dataDir/db`. */
export interface StoreLocation {
  databaseUrl?: string;
  dataDir: string;
  /** Override the PGlite directory (default `<dataDir>/db`). */
  pgliteDir?: string;
  /** Called after every statement that may have written (see {@link observeWrites}). */
  onWrite?: () => void;
}

/** Opens and migrates the control plane's store. */
export async function openStore(loc: StoreLocation): Promise<Store> {
  const client = loc.databaseUrl ? await openPostgres(loc.databaseUrl) : await openPglite(loc.pgliteDir ?? join(loc.dataDir, 'db'));
  try {
    // MEDAD_RUNS_IN_MEMORY=0 reads every run from the database on PGlite too (for comparison and debugging).
    return await SqlStore.open(loc.onWrite ? observeWrites(client, loc.onWrite) : client, process.env.MEDAD_RUNS_IN_MEMORY === '0' ? { cacheRuns: false } : {});
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
}
