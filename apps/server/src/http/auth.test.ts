import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { RunStatus } from '@medad/core';
import { startControlPlane, type ControlPlane } from '../app.js';
import { openPglite } from '../store/sql-client.js';
import { SqlStore } from '../store/store.js';
import { FIXTURE_CLI, freshDataDir, gql, testRegistry, waitFor, wsClient } from '../testing/index.js';
import { TokenAuth, parseTokens } from './auth.js';

const OPERATOR = 'op-0123456789abcdef';
const VIEWER = 'view-0123456789abcdef';

test('tokens parse from token:role lists and bad entries are refused with the entry number', () => {
  const t = parseTokens(`${OPERATOR}:operator, ${VIEWER}:viewer\n# comment`, 'MEDAD_API_TOKENS');
  assert.deepEqual([...t.values()], ['operator', 'viewer']);
  assert.throws(() => parseTokens(`${OPERATOR}:admin`, 'MEDAD_API_TOKENS'), /MEDAD_API_TOKENS entry 1 .* is not token:role with role viewer or operator/);
  assert.throws(() => parseTokens('short:viewer', 'tokens.txt'), /tokens.txt entry 1: the token is 5 characters; at least 16 are required/);
  assert.throws(() => TokenAuth.forHost('0.0.0.0', new Map()), /Refusing to listen on 0\.0\.0\.0 without API tokens/);
  assert.equal(TokenAuth.forHost('127.0.0.1', new Map()).required, false);
  assert.equal(TokenAuth.forHost('0.0.0.0', t).required, true);
});

describe('API tokens and roles over HTTP and websocket; graceful shutdown', () => {
  let cp: ControlPlane;
  let dataDir: string;
  before(async () => {
    dataDir = await freshDataDir();
    process.env.MEDAD_FIXTURE_STEP_MS = '20';
    cp = await startControlPlane(
      { port: 0, dataDir, runCli: FIXTURE_CLI, logLevel: 'silent', tokens: parseTokens(`${OPERATOR}:operator,${VIEWER}:viewer`, 'test') },
      { registry: testRegistry() },
    );
  });
  after(async () => {
    await cp.close();
    delete process.env.MEDAD_FIXTURE_STEP_MS;
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('HTTP: no or wrong token → 401; viewer may query but not mutate (403); operator may mutate', async () => {
    const none = await gql(cp.url, '{ runs { totalCount } }');
    assert.equal(none.status, 401);
    assert.equal(none.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assert.match(none.errors?.[0]?.extensions?.fix, /Authorization: Bearer <token>/);
    assert.equal((await gql(cp.url, '{ runs { totalCount } }', {}, 'not-a-valid-token-at-all')).status, 401);
    const viewerQuery = await gql(cp.url, '{ runs { totalCount } }', {}, VIEWER);
    assert.equal(viewerQuery.data?.runs.totalCount, 0);
    const viewerMutation = await gql(cp.url, 'mutation { buildDataset(input: { name: "v" }) { id } }', {}, VIEWER);
    assert.equal(viewerMutation.status, 403);
    assert.equal(viewerMutation.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.equal((await gql(cp.url, '{ runs { totalCount } }', {}, VIEWER)).data?.runs.totalCount, 0, 'the refused mutation queued nothing');
    const op = await gql(cp.url, 'mutation { buildDataset(input: { name: "tok", samples: 20 }) { id status } }', {}, OPERATOR);
    assert.equal(op.data?.buildDataset.status, 'QUEUED');
    assert.equal((await fetch(cp.url.replace('/graphql', '/healthz'))).status, 200, '/healthz needs no token');
  });

  test('websocket: connection_init without a token is closed with 4403; a viewer subscribes but cannot mutate', async () => {
    let closed = 0;
    const anon = wsClient(cp.url, undefined, (code) => (closed = code));
    await assert.rejects(async () => {
      for await (const _ of anon.iterate({ query: 'subscription { runStatus { runId } }' })) break;
    });
    assert.equal(closed, 4403);
    await anon.dispose();

    const viewer = wsClient(cp.url, VIEWER);
    try {
      await assert.rejects(viewer.iterate({ query: 'mutation { buildDataset(input: { name: "w" }) { id } }' }).next(), (errors: Array<{ extensions: { code: string } }>) => {
        assert.equal(errors[0]!.extensions.code, 'FORBIDDEN');
        return true;
      });
      const run = (await gql(cp.url, 'mutation { buildDataset(input: { name: "ws", samples: 20 }) { id } }', {}, OPERATOR)).data?.buildDataset.id;
      const statuses: string[] = [];
      for await (const ev of viewer.iterate<{ runStatus: { status: string } }>({ query: `subscription { runStatus(runId: "${run}") { status } }` })) {
        statuses.push(ev.data!.runStatus.status);
        if (statuses.includes('SUCCEEDED') || statuses.includes('FAILED')) break;
      }
      assert.equal(statuses.at(-1), 'SUCCEEDED');
    } finally {
      await viewer.dispose();
    }
  });

  test('shutdown closes websockets with 1001, interrupts the running run, and flushes its metrics', async () => {
    const dataset = await waitFor(async () => (await cp.store.datasets())[0], 'a built dataset');
    const id = (await gql(cp.url, `mutation { startSftRun(input: { dataset: { id: "${dataset.id}" }, hyper: { steps: 400 } }) { id } }`, {}, OPERATOR)).data?.startSftRun.id;
    assert.ok(id);
    let closed = 0;
    const client = wsClient(cp.url, VIEWER, (code) => (closed = code));
    const seen: number[] = [];
    const consuming = (async () => {
      try {
        for await (const ev of client.iterate<{ trainingMetrics: { step: number } }>({ query: `subscription { trainingMetrics(runId: "${id}") { step } }` })) seen.push(ev.data!.trainingMetrics.step);
      } catch {
        // the socket closes under the iterator
      }
    })();
    await waitFor(() => seen.length >= 5, 'metrics over the websocket');
    await cp.close();
    await consuming;
    assert.equal(closed, 1001);
    await assert.rejects(fetch(cp.url.replace('/graphql', '/healthz')), 'the port is closed');
    const store = await SqlStore.open(await openPglite(`${dataDir}/db`));
    try {
      const run = await store.getRun(id);
      assert.equal(run?.status, RunStatus.Interrupted);
      assert.match(run?.statusMessage ?? '', /resumeRun continues it from its last checkpoint/);
      const steps = (await store.metrics(id)).map((m) => m.step);
      assert.ok(steps.length >= seen.length, `${steps.length} stored ≥ ${seen.length} streamed`);
      assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1));
    } finally {
      await store.close();
      await client.dispose();
    }
  });
});
