import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ErrorCode, MedadError } from '@medad/core';

function realOrResolved(p: string): string {
  // Resolve symlinks of the longest existing prefix, so a link inside a root pointing outside is caught.
  let head = resolve(p);
  const tail: string[] = [];
  while (!existsSync(head)) {
    const parent = resolve(head, '..');
    if (parent === head) break;
    tail.unshift(head.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
    head = parent;
  }
  const real = existsSync(head) ? realpathSync(head) : head;
  return tail.length ? resolve(real, ...tail) : real;
}

/** True when `child` is `root` or inside it. */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Checks that a user-given path lies inside one of the configured roots (after resolving `..`
 * and symlinks) and returns its absolute form; otherwise fails with FORBIDDEN before anything
 * is read. Relative paths are taken relative to the first root.
 */
export function confinePath(userPath: string, roots: readonly string[], field: string, what: string): string {
  if (!userPath || userPath.includes('\0')) {
    throw new MedadError(ErrorCode.BadUserInput, `${field} is empty or contains a NUL byte`, { fix: `give the ${what} path` });
  }
  if (!roots.length) {
    throw new MedadError(ErrorCode.Forbidden, `${field}: no ${what} roots are configured, so no path is allowed`, {
      fix: `configure ${what} roots (see apps/server/README.md)`,
    });
  }
  const abs = isAbsolute(userPath) ? userPath : resolve(roots[0]!, userPath);
  const real = realOrResolved(abs);
  for (const root of roots) {
    if (isInside(realOrResolved(root), real)) return real;
  }
  throw new MedadError(ErrorCode.Forbidden, `${field} "${userPath}" is outside the allowed ${what} roots`, {
    fix: `use a path under ${roots.join(' or ')} (or add a root with the server's ${what === 'dataset' ? 'MEDAD_DATASET_ROOTS' : 'MEDAD_CHECKPOINT_ROOTS'} setting)`,
    details: { field, roots },
  });
}
