import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ErrorCode, isMedadError } from './errors.js';
import { RUN_LOCK_FILE, RUN_LOCK_STALE_MS, acquireRunLock, runLockHolder } from './run-lock.js';

const here = pathToFileURL(join(import.meta.dirname, 'run-lock.js')).href;

/** A pid no process has: one that just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim());
}

test('a run directory is held by one process at a time; release frees it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medad-lock-'));
  try {
    const lock = acquireRunLock(dir, 'run-1');
    assert.deepEqual({ ...runLockHolder(dir)!, since: 'x' }, { pid: process.pid, host: hostname(), since: 'x', runId: 'run-1' });
    assert.throws(() => acquireRunLock(dir), (err: unknown) => isMedadError(err) && err.code === ErrorCode.Conflict && new RegExp(`in use by process ${process.pid} on ${hostname()} \\(run run-1\\)`).test(err.message) && /kill \d+/.test(err.message));
    lock.release();
    assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), false);
    assert.equal(runLockHolder(dir), undefined);
    acquireRunLock(dir).release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock left by a dead process (same host) or a silent one (another host) is taken over; a live remote one is not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medad-lock-'));
  const file = join(dir, RUN_LOCK_FILE);
  try {
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: hostname(), since: '2026-01-01T00:00:00Z' }));
    assert.equal(runLockHolder(dir), undefined, 'its pid is gone');
    acquireRunLock(dir).release();

    writeFileSync(file, JSON.stringify({ pid: 1, host: 'worker-7', since: '2026-01-01T00:00:00Z' }));
    assert.equal(runLockHolder(dir)?.host, 'worker-7', 'refreshed recently: alive');
    assert.throws(() => acquireRunLock(dir), /in use by process 1 on worker-7/);
    const old = new Date(Date.now() - RUN_LOCK_STALE_MS - 1000);
    utimesSync(file, old, old);
    assert.equal(runLockHolder(dir), undefined, 'not refreshed for longer than the stale time');
    const lock = acquireRunLock(dir);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).pid, process.pid);
    lock.release();

    writeFileSync(file, '{"pid":');
    assert.equal(runLockHolder(dir), undefined, 'a torn file holds nothing');
    acquireRunLock(dir).release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a process that exits releases its lock; one killed by SIGKILL leaves a file nobody is held by', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medad-lock-'));
  try {
    const take = (end: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', `const { acquireRunLock } = await import(${JSON.stringify(here)}); acquireRunLock(${JSON.stringify(dir)}); ${end}`], { encoding: 'utf8' });
    assert.equal(take('process.exit(3)').status, 3);
    assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), false, 'released at exit');
    assert.equal(take("process.kill(process.pid, 'SIGKILL')").signal, 'SIGKILL');
    assert.equal(existsSync(join(dir, RUN_LOCK_FILE)), true);
    assert.equal(runLockHolder(dir), undefined);
    acquireRunLock(dir).release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
