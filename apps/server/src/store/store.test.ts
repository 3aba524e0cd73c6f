import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { RunStatus } from '@medad/core';
import { RunKind, type MetricRow } from '../domain.js';
import { freshPgliteDir } from '../testing/pglite.js';
import { postgresBinDir, startPostgres, type TestPostgres } from '../testing/postgres.js';
import { MIGRATIONS, migrate } from './migrations.js';
import { MetricWriter } from './metric-writer.js';
import { openPglite, openPostgres, type SqlClient } from './sql-client.js';
import { SqlStore, type Store } from './store.js';

const rows = (runId: string, from: number, to: number): MetricRow[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ runId, step: from + i, time: new Date(1_700_000_000_000 + i), values: { loss: 1 / (from + i) } }));

/** The same behaviour checks, run against each SQL engine. */
function describeStore(name: string, open: () => Promise<{ client: SqlClient; cleanup: () => void }>): void {
  describe(`SqlStore on ${name}`, () => {
    let store: Store;
    let client: SqlClient;
    let cleanup: () => void;
    before(async () => {
      ({ client, cleanup } = await open());
      store = await SqlStore.open(client);
    });
    after(async () => {
      await store.close();
      cleanup();
    });

    test('migrations are recorded and applied once', async () => {
      assert.deepEqual(await migrate(client), []);
      const applied = await client.query<{ version: number }>('select version from schema_migrations order by version');
      assert.deepEqual(applied.map((r) => r.version), MIGRATIONS.map((m) => m.version));
    });

    test('a run is created QUEUED, moves through guarded transitions, and keeps its history', async () => {
      const run = await store.createRun({ id: 'sft-a', kind: RunKind.Sft, config: { seed: 7, rewards: [{ plugin: 'format', weight: 0.5 }] }, dir: '/tmp/r/sft-a' });
      assert.equal(run.status, RunStatus.Queued);
      assert.deepEqual(run.config, { seed: 7, rewards: [{ plugin: 'format', weight: 0.5 }] });
      assert.equal((await store.setStatus('sft-a', RunStatus.Running, null, [RunStatus.Queued]))?.status, RunStatus.Running);
      assert.equal(await store.setStatus('sft-a', RunStatus.Running, null, [RunStatus.Queued]), undefined, 'guard refuses a second start');
      await store.updateRun('sft-a', { pid: 4242, attempts: 1, command: ['train', 'sft'], startedAt: new Date(1000), backend: 'wasm' });
      await store.setStatus('sft-a', RunStatus.Failed, 'exit code 3');
      const got = await store.getRun('sft-a');
      assert.equal(got?.pid, 4242);
      assert.deepEqual(got?.command, ['train', 'sft']);
      assert.equal(got?.startedAt?.getTime(), 1000);
      assert.equal(got?.statusMessage, 'exit code 3');
      const history = (await store.events('sft-a')).filter((e) => e.type === 'status').map((e) => e.status);
      assert.deepEqual(history, [RunStatus.Queued, RunStatus.Running, RunStatus.Failed]);
    });

    test('runs page by keyset cursor, newest first, with kind and status filters', async () => {
      for (let i = 0; i < 5; i++) {
        await store.createRun({ id: `eval-${i}`, kind: RunKind.Eval, config: {}, dir: `/tmp/r/eval-${i}` });
        await new Promise((r) => setTimeout(r, 3));
      }
      const first = await store.listRuns({ kinds: [RunKind.Eval], first: 2 });
      assert.deepEqual(first.runs.map((r) => r.id), ['eval-4', 'eval-3']);
      assert.equal(first.hasNextPage, true);
      const last = first.runs[1]!;
      const second = await store.listRuns({ kinds: [RunKind.Eval], first: 10, after: { createdAt: last.createdAt, id: last.id } });
      assert.deepEqual(second.runs.map((r) => r.id), ['eval-2', 'eval-1', 'eval-0']);
      assert.equal(second.hasNextPage, false);
      assert.equal(await store.countRuns({ statuses: [RunStatus.Queued], kinds: [RunKind.Eval] }), 5);
      assert.equal(await store.countRuns({ statuses: [RunStatus.Failed] }), 1);
    });

    test('metrics are idempotent on (run, step) and downsample to at most N evenly spaced rows', async () => {
      await store.createRun({ id: 'm', kind: RunKind.Sft, config: {}, dir: '/tmp/r/m' });
      assert.equal(await store.insertMetrics(rows('m', 1, 60)), 60);
      assert.equal(await store.insertMetrics(rows('m', 50, 100)), 40, 'steps 50-60 replayed after a resume are not stored twice');
      assert.equal(await store.metricCount('m'), 100);
      assert.deepEqual([...(await store.metricCounts(['m', 'no-such-run', 'm']))], [['m', 100], ['no-such-run', 0]], 'one query for several runs; unknown runs count 0');
      const last = await store.lastMetrics(['m', 'no-such-run']);
      assert.deepEqual([[...last.keys()], last.get('m')?.step, last.get('m')?.values.loss], [['m'], 100, 1 / 100], 'the highest step of each run; a run without rows is absent');
      const all = await store.metrics('m');
      assert.deepEqual(all.map((r) => r.step), Array.from({ length: 100 }, (_, i) => i + 1));
      assert.equal(all[9]!.values.loss, 1 / 10);
      const down = await store.metrics('m', 10);
      assert.ok(down.length <= 10, `got ${down.length} points`);
      assert.equal(down[0]!.step, 1);
      assert.equal(down.at(-1)!.step, 100);
      const gaps = down.slice(1).map((r, i) => r.step - down[i]!.step);
      assert.ok(Math.max(...gaps) <= 12, `gaps ${gaps.join(',')}`);
      assert.deepEqual((await store.metrics('m', 1000)).length, 100);
    });

    test('the batched writer stores every row once, on size, on interval and on close', async () => {
      await store.createRun({ id: 'w', kind: RunKind.Sft, config: {}, dir: '/tmp/r/w' });
      const writer = new MetricWriter(store, { maxBatch: 50, intervalMs: 20 });
      for (const r of rows('w', 1, 120)) writer.add(r);
      writer.add(rows('w', 3, 3)[0]!); // a replayed step
      await writer.flush();
      assert.equal(await store.metricCount('w'), 120);
      writer.add(rows('w', 121, 121)[0]!);
      await new Promise((r) => setTimeout(r, 80));
      assert.equal(await store.metricCount('w'), 121, 'the interval flushed a lone row');
      for (const r of rows('w', 122, 130)) writer.add(r);
      await writer.close();
      assert.equal(await store.metricCount('w'), 130);
      assert.equal(writer.written, 130);
      assert.ok(writer.batches <= 6, `${writer.batches} INSERTs for 131 rows`);
    });

    test('checkpoints, evaluations and datasets round-trip', async () => {
      await store.upsertCheckpoint({ runId: 'sft-a', step: 20, path: '/tmp/r/sft-a/checkpoints/step-20', createdAt: new Date(5) });
      await store.upsertCheckpoint({ runId: 'sft-a', step: 10, path: '/tmp/r/sft-a/checkpoints/step-10', createdAt: new Date(4) });
      assert.deepEqual((await store.checkpoints('sft-a')).map((c) => c.step), [10, 20]);
      await store.upsertCheckpoint({ runId: 'sft-a', step: 30, path: '/tmp/r/sft-a/checkpoints/step-20', createdAt: new Date(6) });
      assert.deepEqual((await store.checkpoints('sft-a')).map((c) => c.step), [10, 30], 'a newer step at the same path replaces the older row');
      await store.saveEvaluation('eval-0', { overall: 61.5, perTask: { anomaly_detection: 90 } });
      assert.equal((await store.evaluation('eval-0'))?.result.overall, 61.5);
      assert.deepEqual([...(await store.evaluations(['eval-0', 'sft-a']))].map(([id, e]) => [id, e.result.overall]), [['eval-0', 61.5]]);
      await store.upsertDataset({ id: 'demo', name: 'demo', path: '/tmp/d/demo', runId: null, info: { counts: { train: 70 } }, createdAt: new Date() });
      assert.deepEqual((await store.datasets()).map((d) => [d.id, d.info?.counts]), [['demo', { train: 70 }]]);
      assert.equal(await store.isEmpty(), false);
      assert.equal(await store.ping(), true);
    });
  });
}

describeStore('PGlite', async () => {
  const dir = await freshPgliteDir();
  return { client: await openPglite(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

const pgMissing = postgresBinDir() ? false : 'PostgreSQL binaries not installed (apt-get install -y postgresql) — real-server store tests skipped';
describe('real PostgreSQL', { skip: pgMissing }, () => {
  let pg: TestPostgres | undefined;
  after(() => pg?.stop());
  describeStore('PostgreSQL', async () => {
    pg = await startPostgres();
    return { client: await openPostgres(pg.url), cleanup: () => undefined };
  });

  test('metrics written before a crash survive a reopen (nothing lost on restart)', async () => {
    assert.ok(pg);
    const a = await SqlStore.open(await openPostgres(pg.url));
    await a.createRun({ id: 'crash', kind: RunKind.Sft, config: {}, dir: '/tmp/r/crash' });
    const writer = new MetricWriter(a, { maxBatch: 10, intervalMs: 10_000 });
    for (const r of rows('crash', 1, 25)) writer.add(r);
    await writer.close();
    await a.close();
    const b = await SqlStore.open(await openPostgres(pg.url));
    assert.equal(await b.metricCount('crash'), 25);
    await b.close();
  });
});
