import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../store/sql-client.js';

/**
 * A fresh PGlite data directory for a test. Initialising PGlite takes ~6 s, so one empty
 * database is made once per machine (under the OS temp dir) and copied (~0.1 s) per call.
 */
export async function freshPgliteDir(target?: string): Promise<string> {
  const template = join(tmpdir(), 'medad-pglite-template-0.5');
  if (!existsSync(join(template, 'PG_VERSION'))) {
    const building = mkdtempSync(join(tmpdir(), 'medad-pglite-build-'));
    const db = await openPglite(building);
    await db.close();
    try {
      renameSync(building, template);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another test process won the race
    }
  }
  const dir = target ?? mkdtempSync(join(tmpdir(), 'medad-pglite-'));
  cpSync(template, dir, { recursive: true });
  return dir;
}

/** A fresh server data directory whose embedded database (`db/`) is already initialised. */
export async function freshDataDir(prefix = 'medad-data-'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  await freshPgliteDir(join(dir, 'db'));
  return dir;
}
