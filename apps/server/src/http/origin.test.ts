import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { startControlPlane, type ControlPlane } from '../app.js';
import { FIXTURE_CLI, freshDataDir, testRegistry } from '../testing/index.js';

/** A raw HTTP request with any headers (fetch does not let a caller set Host). */
function raw(url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: body ? 'POST' : 'GET', headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The HTTP status a websocket upgrade gets (101 when accepted). */
function upgrade(url: string, origin: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { origin } });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req: unknown, res: IncomingMessage) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
}

describe('loopback without tokens: only this server’s own pages and loopback names reach the API', () => {
  let cp: ControlPlane;
  let dataDir: string;
  const mutation = JSON.stringify({ query: 'mutation { buildDataset(input: { name: "evil", samples: 20 }) { id } }' });
  before(async () => {
    dataDir = await freshDataDir();
    cp = await startControlPlane({ port: 0, dataDir, runCli: FIXTURE_CLI, logLevel: 'silent', allowedOrigins: ['http://localhost:5173'] }, { registry: testRegistry() });
  });
  after(async () => {
    await cp.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a page on another origin can neither POST a mutation nor open the websocket; nothing is created', async () => {
    const before = (await cp.store.listRuns({ first: 100 })).runs.length;
    const r = await raw(cp.url, { origin: 'http://evil.example' }, mutation);
    assert.equal(r.status, 403);
    const e = JSON.parse(r.text).errors[0];
    assert.equal(e.extensions.code, 'FORBIDDEN');
    assert.match(e.message, /Origin "http:\/\/evil\.example" may not call this server/);
    assert.match(e.extensions.fix, /MEDAD_ALLOWED_ORIGINS/);
    assert.equal(await upgrade(cp.url, 'http://evil.example'), 403);
    assert.equal(await upgrade(cp.url, 'null'), 403, 'a sandboxed page');
    const v1 = await raw(cp.url.replace('/graphql', '/v1/models'), { origin: 'http://evil.example' });
    assert.equal(v1.status, 403);
    assert.equal(JSON.parse(v1.text).error.code, 'origin_not_allowed');
    assert.equal((await cp.store.listRuns({ first: 100 })).runs.length, before);
  });

  test('a DNS-rebound Host is refused; loopback names are served', async () => {
    const port = cp.port;
    const rebound = await raw(cp.url, { host: `evil.example:${port}` }, JSON.stringify({ query: '{ runs { totalCount } }' }));
    assert.equal(rebound.status, 403);
    assert.match(JSON.parse(rebound.text).errors[0].message, /Host "evil\.example:\d+" is not this server/);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      assert.equal((await raw(cp.url, { host }, JSON.stringify({ query: '{ runs { totalCount } }' }))).status, 200, host);
    }
  });

  test('the server’s own origin and MEDAD_ALLOWED_ORIGINS pass; requests without Origin (curl, SDKs) are unaffected', async () => {
    const query = JSON.stringify({ query: '{ runs { totalCount } }' });
    for (const origin of [`http://127.0.0.1:${cp.port}`, `http://localhost:${cp.port}`, 'http://localhost:5173']) {
      assert.equal((await raw(cp.url, { origin }, query)).status, 200, origin);
      assert.equal(await upgrade(cp.url, origin), 101, origin);
    }
    assert.equal((await raw(cp.url, {}, query)).status, 200);
  });
});
