import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of `packages/dataset/fixtures/real/<name>`: found above the compiled test, else under the working directory. */
export function realFixture(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'fixtures', 'real', name);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  const fromCwd = resolve('fixtures', 'real', name);
  if (existsSync(fromCwd)) return fromCwd;
  throw new Error(`fixture ${name} not found above ${fileURLToPath(import.meta.url)} or in ${resolve('fixtures', 'real')}; run the tests from packages/dataset`);
}

/** A fresh temporary directory for a test's files. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `medad-${prefix}-`));
}
