import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../app.js';
import { FIXTURE_CLI, freshDataDir, testRegistry, wsClient } from '../testing/index.js';
import { RateLimiter } from './rate-limit.js';

test('a caller gets its burst, then waits for the refill; callers are counted apart; 0 disables', () => {
  let now = 0;
  const limiter = new RateLimiter(3, () => now);
  assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [undefined, undefined, undefined]);
  assert.equal(limiter.take('a'), 20, 'one request per 20 s refills');
  assert.equal(limiter.take('b'), undefined, 'another caller has its own bucket');
  now = 19_000;
  assert.equal(limiter.take('a'), 1);
  now = 21_000;
  assert.equal(limiter.take('a'), undefined);
  assert.equal(limiter.take('a'), 19);
  now = 10 * 60_000;
  assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a'), limiter.take('a')].map((x) => x === undefined), [true, true, true, false], 'the burst never exceeds the limit');
  const off = new RateLimiter(0, () => now);
  assert.ok(Array.from({ length: 1000 }, () => off.take('x')).every((x) => x === undefined));
});

test('the caller table stays bounded: refilled callers are forgotten first', () => {
  let now = 0;
  const limiter = new RateLimiter(60, () => now, 2);
  limiter.take('a');
  limiter.take('b');
  now = 60_000;
  limiter.take('c');
  assert.equal((limiter as unknown as { buckets: Map<string, unknown> }).buckets.size, 1);
});

describe('the control plane limits mutations and chat completions per caller', () => {
  let cp: ControlPlane;
  let dataDir: string;
  before(async () => {
    dataDir = await freshDataDir();
    cp = await startControlPlane({ port: 0, dataDir, runCli: FIXTURE_CLI, logLevel: 'silent', rateLimits: { mutationsPerMinute: 2, v1PerMinute: 1 } }, { registry: testRegistry() });
  });
  after(async () => {
    await cp.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('over HTTP and websocket a third mutation in a minute gets 429 RATE_LIMITED with Retry-After; queries are not limited', async () => {
    const post = (query: string) => fetch(cp.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    for (let i = 0; i < 2; i++) assert.notEqual((await post('mutation { cancelRun(id: "nope") { id } }')).status, 429);
    const limited = await post('mutation { cancelRun(id: "nope") { id } }');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '30');
    const body = (await limited.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> };
    assert.equal(body.errors[0]!.extensions.code, 'RATE_LIMITED');
    assert.match(body.errors[0]!.message, /Too many mutations: the limit is 2 per minute per caller\. Fix: retry after 30 s/);
    assert.equal((await post('{ runs { totalCount } }')).status, 200);
    const client = wsClient(cp.url);
    try {
      await assert.rejects(
        (async () => {
          for await (const _ of client.iterate({ query: 'mutation { cancelRun(id: "nope") { id } }' })) void _;
        })(),
        (err: unknown) => JSON.stringify(err).includes('RATE_LIMITED'),
      );
    } finally {
      await client.dispose();
    }
  });

  test('/v1/chat/completions answers 429 rate_limit_exceeded with Retry-After past the limit', async () => {
    const chat = () => fetch(cp.url.replace('/graphql', '/v1/chat/completions'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal((await chat()).status, 400, 'the first is read (and refused for its body)');
    const limited = await chat();
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '60');
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, 'rate_limit_exceeded');
  });
});
