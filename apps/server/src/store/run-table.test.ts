import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { RunStatus } from '@medad/core';
import { RunKind, type RunRecord } from '../domain.js';
import { freshPgliteDir } from '../testing/pglite.js';
import { openPglite, type SqlClient } from './sql-client.js';
import { SqlStore, type RunQuery } from './store.js';

let dir: string;
let client: SqlClient;
let cached: SqlStore;
let direct: SqlStore;

before(async () => {
  dir = await freshPgliteDir();
  client = await openPglite(dir);
  cached = await SqlStore.open(client); // PGlite: the runs table in memory
  direct = await SqlStore.open(client, { cacheRuns: false }); // every read from the database
});
after(async () => {
  await client.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every page of a listing, following the cursors. */
async function pages(store: SqlStore, q: Omit<RunQuery, 'first' | 'after'>, first: number): Promise<RunRecord[][]> {
  const out: RunRecord[][] = [];
  let after: RunQuery['after'];
  for (;;) {
    const page = await store.listRuns({ ...q, first, after });
    out.push(page.runs.map((r) => ({ ...r })));
    if (!page.hasNextPage) return out;
    const last = page.runs.at(-1)!;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

/** The in-memory table answers every run read exactly as the database does. */
async function assertSame(when: string): Promise<void> {
  for (const q of [{}, { kinds: [RunKind.Sft] }, { statuses: [RunStatus.Running, RunStatus.Queued] }, { kinds: [RunKind.Eval], statuses: [RunStatus.Succeeded] }]) {
    for (const first of [1, 7, 100]) assert.deepEqual(await pages(cached, q, first), await pages(direct, q, first), `${when}: ${JSON.stringify(q)} first ${first}`);
    assert.equal(await cached.countRuns(q), await direct.countRuns(q), `${when}: count ${JSON.stringify(q)}`);
  }
  for (const s of [[RunStatus.Queued], [RunStatus.Running, RunStatus.Failed]]) assert.deepEqual((await cached.runsWithStatus(s)).map((r) => ({ ...r })), await direct.runsWithStatus(s), `${when}: withStatus ${s}`);
  for (const id of ['r-00', 'r-17', 'r-29', 'nope']) assert.deepEqual(await cached.getRun(id).then((r) => r && { ...r }), await direct.getRun(id), `${when}: getRun ${id}`);
  assert.equal(await cached.isEmpty(), await direct.isEmpty());
}

test('the in-memory runs table (PGlite) answers run reads exactly as the database, through every kind of write', async () => {
  assert.equal(await cached.isEmpty(), true, 'loaded before any run exists');
  const kinds = [RunKind.Sft, RunKind.ConGrpo, RunKind.Eval, RunKind.BuildDataset];
  // Created in a burst: many share a millisecond, so ties are ordered by id.
  for (let i = 0; i < 30; i++) await cached.createRun({ id: `r-${String(i).padStart(2, '0')}`, kind: kinds[i % 4]!, config: { i }, dir: `/tmp/r/${i}` });
  await assertSame('after creates');
  for (let i = 0; i < 30; i += 3) await cached.setStatus(`r-${String(i).padStart(2, '0')}`, RunStatus.Running, null);
  assert.equal(await cached.setStatus('r-00', RunStatus.Succeeded, null, [RunStatus.Queued]), undefined, 'a guard that fails changes nothing');
  await cached.setStatus('r-03', RunStatus.Failed, 'exit code 1', [RunStatus.Running]);
  await cached.setStatus('r-08', RunStatus.Succeeded, null);
  await assertSame('after status changes');
  assert.ok(await cached.claimRun('r-01', 'replica-a'));
  assert.equal(await cached.claimRun('r-01', 'replica-b'), undefined);
  assert.ok(await cached.claimRun('r-02', 'replica-a'));
  assert.equal(await cached.releaseClaim('r-02', 'replica-a'), true);
  await cached.updateRun('r-06', { pid: 4242, worker: 'local:vm', startedAt: new Date(1_800_000_000_000), command: ['train', 'sft'], backend: 'ort-cpu', attempts: 2 });
  await direct.setStatus('r-10', RunStatus.Failed, null); // (through the other store: the cache is not told; see below)
  await cached.claimRun('r-05', 'replica-a');
  await cached.setStatus('r-05', RunStatus.Running, null, undefined, 'replica-a');
  assert.equal(await cached.requestCancel('r-05'), true);
  assert.deepEqual(await cached.heartbeat('replica-a'), ['r-05']);
  // r-10 was changed behind the cache's back: the one thing a single-writer read model cannot see.
  assert.equal((await cached.getRun('r-10'))?.status, RunStatus.Queued);
  await cached.setStatus('r-10', RunStatus.Failed, null); // a write through the store brings it back in line
  await assertSame('after claims, patches, cancel requests and heartbeats');
});

test("each run's last metric row and evaluation, in memory too, equal the database's through inserts, replays and overwrites", async () => {
  const ids = ['r-00', 'r-01', 'r-04', 'nope'];
  const same = async (when: string): Promise<void> => {
    assert.deepEqual(await cached.lastMetrics(ids), await direct.lastMetrics(ids), `${when}: lastMetrics`);
    assert.deepEqual(await cached.evaluations(ids), await direct.evaluations(ids), `${when}: evaluations`);
  };
  const row = (runId: string, step: number) => ({ runId, step, time: new Date(1_700_000_000_000 + step), values: { loss: 1 / step, reward: step / 10 } });
  await same('before any'); // held as "none" from here on
  assert.equal(await cached.insertMetrics([row('r-00', 1), row('r-00', 2), row('r-01', 5)]), 3);
  await same('after inserts');
  assert.equal(await cached.insertMetrics([row('r-00', 2), row('r-00', 1)]), 0, 'a replay stores nothing');
  await cached.insertMetrics([row('r-00', 7), row('r-04', 3)]);
  await same('after more');
  assert.equal((await cached.lastMetrics(['r-00'])).get('r-00')?.step, 7);
  await cached.saveEvaluation('r-04', { overall: 50 });
  await same('after an evaluation');
  await cached.saveEvaluation('r-04', { overall: 61.5 });
  await same('after it is overwritten');
  assert.equal((await cached.evaluations(['r-04'])).get('r-04')?.result.overall, 61.5);
});

test('cached records are frozen: a caller cannot change the read model by accident', async () => {
  const run = (await cached.getRun('r-06'))!;
  assert.throws(() => {
    (run as { status: string }).status = 'SUCCEEDED';
  }, TypeError);
  assert.equal((await direct.getRun('r-06'))?.status, RunStatus.Running);
});
