/** The GraphQL-over-HTTP audit of the `graphql-http` package against `/graphql`: every MUST audit passes. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '@medad/server';
import { FIXTURE_CLI, freshDataDir, testRegistry } from '@medad/server/testing';

interface Audit {
  id: string;
  name: string;
  fn: () => Promise<{ status: 'ok' | 'warn' | 'error'; reason?: string }>;
}
type AuditModule = { serverAudits: (o: { url: string; fetchFn?: unknown }) => Audit[] };

let audits: AuditModule | undefined;
try {
  const specifier = 'graphql-http'; // a variable, so the build does not need the package's types
  audits = (await import(specifier)) as AuditModule;
} catch {
  audits = undefined;
}

describe('graphql-http server audits', { skip: audits ? false : 'the graphql-http package is not installed (it is a dependency of the test/ package: add "test" to the root workspaces and run npm install)' }, () => {
  let cp: ControlPlane;
  let dataDir: string;
  before(async () => {
    dataDir = await freshDataDir('medad-audit-');
    cp = await startControlPlane({ port: 0, dataDir, runCli: FIXTURE_CLI, logLevel: 'silent' }, { registry: testRegistry() });
  });
  after(async () => {
    await cp.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('every MUST audit passes (SHOULD/MAY results are reported)', async (t) => {
    const list = audits!.serverAudits({ url: cp.url, fetchFn: fetch });
    const results = await Promise.all(list.map(async (a) => ({ name: a.name, ...(await a.fn()) })));
    const must = results.filter((r) => r.name.startsWith('MUST'));
    for (const r of results.filter((x) => x.status !== 'ok')) t.diagnostic(`${r.status}: ${r.name} — ${r.reason ?? ''}`);
    assert.ok(must.length >= 10, `${must.length} MUST audits`);
    assert.deepEqual(must.filter((r) => r.status !== 'ok').map((r) => `${r.name}: ${r.reason}`), []);
  });
});
