import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './postgres.js';

/** A redis-server started for a test. */
export interface TestRedis {
  /** redis://127.0.0.1:PORT, or rediss://:PASSWORD@localhost:PORT with a password and TLS. */
  url: string;
  /** With TLS: the self-signed certificate clients must trust (NODE_EXTRA_CA_CERTS). */
  caFile?: string;
  stop(): Promise<void>;
}

/** Path of `redis-server`, or undefined when not installed. */
export function redisServerPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** Path of `openssl` (needed for a TLS test server), or undefined. */
export function opensslPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/**
 * Starts a throwaway redis-server on a free loopback port (no persistence). With `password` it
 * requires AUTH; with `tls` it listens only with TLS, on a self-signed certificate for `localhost`
 * made with openssl (clients trust it through NODE_EXTRA_CA_CERTS={@link TestRedis.caFile}).
 */
export async function startRedis(o: { password?: string; tls?: boolean } = {}): Promise<TestRedis> {
  const bin = redisServerPath();
  if (!bin) throw new Error('redis-server not found (apt-get install -y redis-server)');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'medad-redis-'));
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  if (o.password) args.push('--requirepass', o.password);
  let caFile: string | undefined;
  if (o.tls) {
    const openssl = opensslPath();
    if (!openssl) throw new Error('openssl not found (apt-get install -y openssl)');
    caFile = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', caFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
    args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', caFile, '--tls-key-file', key, '--tls-ca-cert-file', caFile, '--tls-auth-clients', 'no');
  } else {
    args.push('--port', String(port));
  }
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
  });
  return {
    url: `${o.tls ? 'rediss' : 'redis'}://${o.password ? `:${encodeURIComponent(o.password)}@` : ''}${o.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    caFile,
    async stop() {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
