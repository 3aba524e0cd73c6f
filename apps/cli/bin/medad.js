#!/usr/bin/env node
// Committed launcher so `npx medad` is linked at install time, before the TypeScript is built.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('medad: the CLI is not built yet. Fix: run `npm run build` in the repository root.\n');
  process.exit(2);
}
await import(entry.href);
