// `npm run bench -- memory`: resident memory of an idle `medad serve` (embedded PGlite, no runs):
// the median of VmRSS sampled every 250 ms during the 5 s after it listens (RSS moves by ±20 MB with
// the garbage collector), on a fresh data directory (the first `npm start`) and restarted on the
// same directory (and once more with V8's default WebAssembly tiering for PGlite), and on PostgreSQL (DATABASE_URL) when its binaries are installed. Linux only (/proc).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MEDAD = fileURLToPath(new URL('../apps/cli/bin/medad.js', import.meta.url));

async function idleRssMb(dataDir, env = {}) {
  const proc = spawn(process.execPath, [MEDAD, 'serve', '--port', '0', '--data-dir', dataDir], { env: { ...process.env, MEDAD_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const started = Date.now();
  await new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (/GraphQL at http/.test(out)) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > 120_000 || proc.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`medad serve did not start:\n${out}`));
      }
    }, 50);
  });
  const startSeconds = (Date.now() - started) / 1000;
  const samples = [];
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    samples.push(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]));
  }
  samples.sort((a, b) => a - b);
  const kb = (samples[9] + samples[10]) / 2;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
  return { rssMb: kb / 1024, startSeconds };
}

/** Median wall time of `medad --help` (module loading: what every command pays before it starts). */
function helpSeconds() {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [MEDAD, '--help'], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`medad --help exited ${r.status}`);
    times.push((performance.now() - t) / 1000);
  }
  return times.sort((a, b) => a - b)[2];
}

export default async function memory({ log }) {
  const dir = mkdtempSync(join(tmpdir(), 'medad-bench-memory-'));
  try {
    log('medad --help, 5 times...');
    const help = helpSeconds();
    log('idle medad serve on a fresh data directory...');
    const first = await idleRssMb(dir);
    log('restarted on the same directory...');
    const again = await idleRssMb(dir);
    // PGlite's WebAssembly with V8's default tiering (the optimising tier recompiles hot functions)
    // instead of the baseline compiler only (store/sql-client.ts withBaselineWasm).
    log('restarted with MEDAD_PGLITE_TIER_UP=1...');
    const tierUp = await idleRssMb(dir, { MEDAD_PGLITE_TIER_UP: '1' });
    // The same server on PostgreSQL (DATABASE_URL): the process without the embedded database.
    const { postgresBinDir, startPostgres } = await import('@medad/server/testing');
    let postgres = null;
    if (postgresBinDir()) {
      log('on PostgreSQL (DATABASE_URL)...');
      const pg = await startPostgres();
      try {
        postgres = await idleRssMb(join(dir, 'pg'), { DATABASE_URL: pg.url });
      } finally {
        pg.stop();
      }
    }
    return {
      idle_rss_mb_first_start: Math.round(first.rssMb),
      idle_rss_mb: Math.round(again.rssMb),
      idle_rss_mb_pglite_tier_up: Math.round(tierUp.rssMb),
      start_seconds_first: first.startSeconds,
      start_seconds_restart: again.startSeconds,
      idle_rss_mb_postgres: postgres ? Math.round(postgres.rssMb) : null,
      cli_help_seconds: help,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
