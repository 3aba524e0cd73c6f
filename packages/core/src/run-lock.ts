import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, MedadError } from './errors.js';

/** The lock file a run process holds in its output directory. */
export const RUN_LOCK_FILE = 'run.lock';
/** How often a holder refreshes the lock's mtime (ms). */
export const RUN_LOCK_REFRESH_MS = 5_000;
/** A lock whose holder cannot be checked (another host) is stale once its mtime is this old (ms). */
export const RUN_LOCK_STALE_MS = 20_000;

/** Who holds a run directory. */
export interface RunLockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  since: string;
  /** The run id the holder reported, if any. */
  runId?: string;
}

/** A held lock: `release()` removes it (only if it is still ours). */
export interface RunLock {
  readonly file: string;
  release(): void;
}

/** True while a process with this pid exists on this host. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function readHolder(file: string): RunLockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as RunLockHolder;
    return Number.isInteger(h.pid) && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined; // missing, or torn by a crash between create and write: not a live holder
  }
}

/**
 * The live process holding `dir`, or undefined. A holder on this host is alive while its pid is;
 * on another host (a worker on shared storage) while it keeps refreshing the file's mtime.
 */
export function runLockHolder(dir: string, now = Date.now()): RunLockHolder | undefined {
  const file = join(dir, RUN_LOCK_FILE);
  const holder = readHolder(file);
  if (!holder) return undefined;
  if (holder.host === hostname()) return pidAlive(holder.pid) ? holder : undefined;
  try {
    return now - statSync(file).mtimeMs < RUN_LOCK_STALE_MS ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Describes a holder for error messages. */
export function describeHolder(h: RunLockHolder): string {
  return `process ${h.pid} on ${h.host}${h.runId ? ` (run ${h.runId})` : ''}, since ${h.since}`;
}

/** How to free a directory a holder keeps: wait, or stop it (naming its host when it is another). */
export function holderFix(h: RunLockHolder, then: string): string {
  return `wait until that process ends (or stop it: kill ${h.pid}${h.host === hostname() ? '' : ` on ${h.host}`}), then ${then}`;
}

/**
 * Takes the lock of a run directory for this process, so two processes never write one run at
 * once (a resumed run beside an orphan, two workers given the same job). A lock left by a dead
 * process is taken over. The lock is refreshed while held and released on `release()` or exit.
 */
export function acquireRunLock(dir: string, runId?: string): RunLock {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, RUN_LOCK_FILE);
  const me: RunLockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), ...(runId ? { runId } : {}) };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(me) + '\n');
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = runLockHolder(dir);
    if (holder) {
      throw new MedadError(ErrorCode.Conflict, `Run directory ${dir} is in use by ${describeHolder(holder)}`, {
        fix: holderFix(holder, 'run again; it resumes from the last checkpoint'),
      });
    }
    if (attempt >= 3) throw new MedadError(ErrorCode.Conflict, `Could not take the lock ${file}: other processes keep taking it`, { fix: 'make sure only one process runs this directory' });
    // Left by a dead process: remove it and retry the exclusive create (if another taker wins the
    // race, its file decides on the next turn).
    rmSync(file, { force: true });
  }
  const refresh = setInterval(() => {
    try {
      const t = new Date();
      utimesSync(file, t, t);
    } catch {
      // the directory was removed; nothing to refresh
    }
  }, RUN_LOCK_REFRESH_MS);
  refresh.unref();
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    clearInterval(refresh);
    process.off('exit', release);
    const h = readHolder(file);
    if (h && h.pid === me.pid && h.host === me.host && h.since === me.since) rmSync(file, { force: true });
  };
  process.on('exit', release);
  return { file, release };
}
