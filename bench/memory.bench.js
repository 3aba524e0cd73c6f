// `npm run bench -- memory`: resident memory of an idle `medad serve` (embedded PGlite, no runs),
// read from /proc 3 s after it listens: on a fresh data directory (the first `npm start`) and
// restarted on the same directory. Linux only (VmRSS).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MEDAD = fileURLToPath(new URL('../apps/cli/bin/medad.js', import.meta.url));

async function idleRssMb(dataDir) {
  const proc = spawn(process.execPath, [MEDAD, 'serve', '--port', '0', '--data-dir', dataDir], { env: { ...process.env, MEDAD_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
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
  await new Promise((r) => setTimeout(r, 3000));
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]);
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
  return { rssMb: kb / 1024, startSeconds };
}

export default async function memory({ log }) {
  const dir = mkdtempSync(join(tmpdir(), 'medad-bench-memory-'));
  try {
    log('idle medad serve on a fresh data directory...');
    const first = await idleRssMb(dir);
    log('restarted on the same directory...');
    const again = await idleRssMb(dir);
    return {
      idle_rss_mb_first_start: Math.round(first.rssMb),
      idle_rss_mb: Math.round(again.rssMb),
      start_seconds_first: first.startSeconds,
      start_seconds_restart: again.startSeconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
