import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { RunStatus } from '@medad/core';
import { startControlPlane, type ControlPlane } from '../app.js';
import { RunKind } from '../domain.js';
import { freshDataDir, testRegistry, waitFor, wsClient } from '../testing/index.js';

describe('subscriptions share one execution per event and operation', () => {
  let cp: ControlPlane;
  let dataDir: string;
  const runId = 'sft-shared';
  before(async () => {
    dataDir = await freshDataDir();
    cp = await startControlPlane({ port: 0, dataDir, logLevel: 'silent' }, { registry: testRegistry() });
    await cp.store.createRun({ id: runId, kind: RunKind.Sft, config: {}, dir: `${dataDir}/runs/${runId}` });
    await cp.store.claimRun(runId, cp.executor.owner);
    await cp.store.setStatus(runId, RunStatus.Running, null, undefined, cp.executor.owner);
  });
  after(async () => {
    await cp.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('subscribers with the same query get the same rows, another selection gets its own shape, and disposing a client unsubscribes at once', async () => {
    const full = 'subscription($id: ID!) { trainingMetrics(runId: $id) { step values } }';
    const stepOnly = 'subscription($id: ID!) { trainingMetrics(runId: $id) { step } }';
    const got: Array<Array<Record<string, unknown>>> = [[], [], []];
    const clients = [wsClient(cp.url), wsClient(cp.url), wsClient(cp.url)];
    [full, full, stepOnly].forEach((query, i) =>
      clients[i]!.subscribe({ query, variables: { id: runId } }, { next: (r) => got[i]!.push((r.data as { trainingMetrics: Record<string, unknown> }).trainingMetrics), error: (e) => assert.fail(String(e)), complete: () => undefined }),
    );
    await waitFor(() => cp.bus.listenerCount(`metrics:${runId}`) === 3, 'three live subscriptions');
    for (let step = 1; step <= 5; step++) cp.bus.publish('metrics', runId, { runId, step, time: new Date(), values: { loss: 1 / step } });
    await waitFor(() => got.every((g) => g.length === 5), 'every row at every subscriber');
    const expected = [1, 2, 3, 4, 5].map((step) => ({ step, values: { loss: 1 / step } }));
    assert.deepEqual(got[0], expected);
    assert.deepEqual(got[1], expected);
    assert.deepEqual(got[2], [1, 2, 3, 4, 5].map((step) => ({ step })), 'its own selection, not the shared one');
    await clients[0]!.dispose();
    await waitFor(() => cp.bus.listenerCount(`metrics:${runId}`) === 2, 'the disposed subscriber to leave the bus', 2000, 10);
    await Promise.all(clients.slice(1).map((c) => c.dispose()));
    await waitFor(() => cp.bus.listenerCount(`metrics:${runId}`) === 0, 'every subscriber to leave the bus', 2000, 10);
  });
});
