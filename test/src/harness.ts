import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The `medad` launcher. */
export const MEDAD = join(ROOT, 'apps/cli/bin/medad.js');
/** The server entry used when `medad serve` is not wired into the CLI yet. */
export const SERVER_MAIN = join(ROOT, 'apps/server/dist/main.js');

/** True when this build's `medad` has the (sub)command: its help starts with `Usage: medad <args>`. */
export function medadHas(...args: string[]): boolean {
  if (!existsSync(MEDAD)) return false;
  const r = spawnSync(process.execPath, [MEDAD, ...args, '--help'], { encoding: 'utf8', cwd: ROOT });
  return r.status === 0 && r.stdout.includes(`Usage: medad ${args.join(' ')} `);
}

/** A control-plane process started by a test. */
export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  /** Everything the process printed. */
  output(): string;
  /** SIGTERM and wait for exit (graceful shutdown); resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait (a crash). */
  kill(): Promise<void>;
}

/**
 * Starts `medad serve --port 0 --data-dir DIR` (or the server's own entry when the CLI lacks
 * `serve`) and resolves once it printed its GraphQL URL.
 */
export function startServerProcess(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const viaCli = medadHas('serve');
  const args = viaCli ? [MEDAD, 'serve', '--port', '0', '--data-dir', dataDir] : [SERVER_MAIN, '--port', '0', '--data-dir', dataDir];
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, MEDAD_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${out}`)), 60_000);
    void exited.then((code) => reject(new Error(`server exited ${code} before listening:\n${out}`)));
    const onData = (): void => {
      const m = /GraphQL at (http:\/\/\S+\/graphql)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      resolve({
        url: m[1]!,
        proc,
        output: () => out,
        stop: async () => {
          proc.kill('SIGTERM');
          return exited;
        },
        kill: async () => {
          proc.kill('SIGKILL');
          await exited;
        },
      });
    };
    proc.stdout!.on('data', onData);
  });
}

/** One row of a run's `metrics.jsonl`. */
export interface MetricsRow {
  step: number;
  [k: string]: number;
}

/** The rows of a run directory's `metrics.jsonl` (a line torn by a kill is skipped). */
export function readRows(dir: string): MetricsRow[] {
  if (!existsSync(join(dir, 'metrics.jsonl'))) return [];
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as MetricsRow];
      } catch {
        return [];
      }
    });
}

/** Metric keys that measure wall time or speed, which differ between runs of one spec. */
export const TIMING_KEY = /time|_s$|_ms$|per_s|tokens_per|eta|throughput|elapsed/i;

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
