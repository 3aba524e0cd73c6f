#!/usr/bin/env node
// `npm run bench -- <suite> [...]`: runs bench/<suite>.js, whose default export returns an object of
// figures; writes bench/results/<suite>.json with the machine it ran on. Ratios are computed within
// one run, so they compare like with like.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .map((f) => f.replace(/\.bench\.js$/, ''))
  .sort();
const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (requested.length === 0) {
  process.stderr.write(`usage: npm run bench -- <suite> [...]\nsuites: ${suites.join(', ')}\n`);
  process.exit(2);
}
for (const name of requested) {
  if (!suites.includes(name)) {
    process.stderr.write(`bench: unknown suite "${name}". Fix: use one of: ${suites.join(', ')}\n`);
    process.exit(2);
  }
}
mkdirSync(join(here, 'results'), { recursive: true });
for (const name of requested) {
  const mod = await import(pathToFileURL(join(here, `${name}.bench.js`)).href);
  process.stderr.write(`bench ${name}: running...\n`);
  const started = Date.now();
  const figures = await mod.default({ log: (msg) => process.stderr.write(`  ${msg}\n`) });
  if (typeof figures.skipped === 'string') {
    // The suite cannot run on this machine (e.g. gpu without CUDA): say why, keep the last result.
    process.stderr.write(`bench ${name}: skipped: ${figures.skipped}\n`);
    continue;
  }
  const result = {
    suite: name,
    command: `npm run bench -- ${name}`,
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    seconds: (Date.now() - started) / 1000,
    ...figures,
  };
  const file = join(here, 'results', `${name}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`bench ${name}: wrote ${file}\n`);
}
