import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** This package's `medad` launcher. */
export const MEDAD_BIN_PATH = fileURLToPath(new URL('../bin/medad.js', import.meta.url));

/** Runs `medad <args>` with this Node; resolves with its output and exit code (never rejects on a non-zero exit). */
export async function medad(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MEDAD_BIN_PATH, ...args]);
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}
