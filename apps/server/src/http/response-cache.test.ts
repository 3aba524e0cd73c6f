import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { RunKind } from '../domain.js';
import { startControlPlane, type ControlPlane } from '../app.js';
import { FIXTURE_CLI, freshDataDir, gql, testRegistry } from '../testing/index.js';
import { ResponseCache } from './response-cache.js';
import { observeWrites, openPglite } from '../store/sql-client.js';

const answer = (body: string) => ({ status: 200, headers: [['content-type', 'application/json']] as Array<[string, string]>, body });

describe('ResponseCache', () => {
  test('serves an answer until a write finishes or it is maxAgeMs old', () => {
    const c = new ResponseCache(1000);
    c.set('k', c.current, answer('a'), 0);
    assert.equal(c.get('k', 1000)?.body, 'a');
    assert.equal(c.get('k', 1001), undefined, 'older than maxAgeMs');
    c.set('k', c.current, answer('b'), 2000);
    c.invalidate();
    assert.equal(c.get('k', 2001), undefined, 'a write finished since');
    assert.deepEqual([c.hits, c.misses], [1, 2]);
  });

  test('an answer computed while a write finished is not stored; entries are bounded; 0 turns it off', () => {
    const c = new ResponseCache(1000, 2);
    const started = c.current;
    c.invalidate();
    c.set('k', started, answer('stale'), 0);
    assert.equal(c.size, 0);
    for (const k of ['a', 'b', 'c']) c.set(k, c.current, answer(k), 0);
    assert.deepEqual([c.size, c.get('a', 0), c.get('c', 0)?.body], [2, undefined, 'c'], 'the oldest is dropped');
    const small = new ResponseCache(1000, 100, 50, 59);
    small.set('a', small.current, answer('x'.repeat(29)), 0);
    small.set('b', small.current, answer('y'.repeat(29)), 0);
    assert.deepEqual([small.size, small.get('a', 0), small.get('b', 0)?.body.length, small.heldChars], [1, undefined, 29, 30], 'held characters are bounded');
    small.set('c', small.current, answer('z'.repeat(51)), 0);
    assert.equal(small.get('c', 0), undefined, 'a body over maxBodyChars is not stored');
    const off = new ResponseCache(0);
    off.set('k', off.current, answer('a'), 0);
    assert.deepEqual([off.enabled, off.get('k', 0)], [false, undefined]);
  });
});

test('observeWrites reports each statement that may have changed data, once finished', async () => {
  let writes = 0;
  const raw = await openPglite();
  const db = observeWrites(raw, () => writes++);
  try {
    await db.exec('create table t (id int primary key, v int)');
    await db.query('insert into t values (1, 1)');
    assert.equal(writes, 2);
    await db.query('select * from t');
    await db.query('update t set v = 2 where id = 9 returning *');
    assert.equal(writes, 2, 'reads and a RETURNING that matched no row changed nothing');
    await db.query('update t set v = 2 where id = 1 returning *');
    await db.query('update t set v = 3 where id = 9');
    await db.transaction(async (tx) => void (await tx.query('select 1')));
    await assert.rejects(db.query('insert into t values (1, 1)'));
    assert.equal(writes, 6, 'a write without RETURNING, a transaction and a failed write count');
  } finally {
    await db.close();
  }
});

describe('response cache in the control plane', () => {
  let cp: ControlPlane;
  let dataDir: string;
  const VIEWER = 'v'.repeat(32);
  const OPERATOR = 'o'.repeat(32);
  const LIST = '{ runs(first: 50) { totalCount edges { node { id status } } } }';

  before(async () => {
    dataDir = await freshDataDir();
    // No heartbeat inside the test: its periodic write would invalidate between two requests.
    cp = await startControlPlane(
      { port: 0, dataDir, runCli: FIXTURE_CLI, logLevel: 'silent', responseCacheMs: 60_000, heartbeatMs: 600_000, staleMs: 1_800_000, tokens: new Map([[VIEWER, 'viewer'], [OPERATOR, 'operator']]) },
      { registry: testRegistry() },
    );
  });
  after(async () => {
    await cp.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a repeated query is answered from the cache until the database changes', async () => {
    const first = await gql(cp.url, LIST, undefined, VIEWER);
    const again = await gql(cp.url, LIST, undefined, VIEWER);
    assert.deepEqual([first.cache, again.cache], ['miss', 'hit']);
    assert.deepEqual(again.data, first.data);
    await cp.store.createRun({ id: 'sft-cache-1', kind: RunKind.Sft, config: {}, dir: `${dataDir}/runs/sft-cache-1` });
    const after = await gql(cp.url, LIST, undefined, VIEWER);
    assert.equal(after.cache, 'miss', 'the write invalidated it');
    assert.equal(after.data?.runs.totalCount, first.data?.runs.totalCount + 1);
    assert.ok(after.data?.runs.edges.some((e: { node: { id: string } }) => e.node.id === 'sft-cache-1'));
  });

  test('roles do not share answers; errors, mutations and different variables are never served from it', async () => {
    await gql(cp.url, LIST, undefined, VIEWER);
    assert.equal((await gql(cp.url, LIST, undefined, OPERATOR)).cache, 'miss', 'another role');
    assert.equal((await gql(cp.url, LIST, undefined, OPERATOR)).cache, 'hit');
    const bad = '{ runs(first: 5) { nope } }';
    await gql(cp.url, bad, undefined, VIEWER);
    const badAgain = await gql(cp.url, bad, undefined, VIEWER);
    assert.equal(badAgain.status, 400);
    assert.notEqual(badAgain.cache, 'hit');
    const one = 'query($id: ID!) { run(id: $id) { id } }';
    await gql(cp.url, one, { id: 'sft-cache-1' }, VIEWER);
    const other = await gql(cp.url, one, { id: 'nope' }, VIEWER);
    assert.deepEqual([other.cache, other.data?.run], ['miss', null]);
    const cancel = 'mutation { cancelRun(id: "sft-cache-1") { id status } }';
    const m1 = await gql(cp.url, cancel, undefined, OPERATOR);
    const m2 = await gql(cp.url, cancel, undefined, OPERATOR);
    assert.ok(m1.cache !== 'hit' && m2.cache !== 'hit', 'a mutation always executes');
    assert.equal((await gql(cp.url, cancel, undefined, VIEWER)).status, 403, 'a viewer still may not mutate');
  });

  test('unauthenticated requests are refused before the cache is consulted', async () => {
    await gql(cp.url, LIST, undefined, VIEWER);
    const anon = await gql(cp.url, LIST);
    assert.equal(anon.status, 401);
    assert.equal(anon.cache, undefined);
  });
});
