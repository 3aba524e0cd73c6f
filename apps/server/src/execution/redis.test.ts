import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../app.js';
import { FIXTURE_CLI, freshDataDir, gql, opensslPath, redisServerPath, startRedis, testRegistry, waitFor, wsClient, type TestRedis } from '../testing/index.js';
import { checkRedis, jobProblem, startWorker, type RunWorker } from './redis.js';

const missing = redisServerPath() ? false : 'redis-server not installed (apt-get install -y redis-server) — BullMQ queue tests skipped';

describe('REDIS_URL: runs go through BullMQ to a worker, metrics come back over pub/sub', { skip: missing }, () => {
  let redis: TestRedis;
  let cp: ControlPlane;
  let worker: RunWorker;
  let dataDir: string;
  before(async () => {
    redis = await startRedis();
    dataDir = await freshDataDir();
    process.env.MEDAD_FIXTURE_STEP_MS = '15';
    cp = await startControlPlane({ port: 0, dataDir, runCli: FIXTURE_CLI, logLevel: 'silent', redisUrl: redis.url, killGraceMs: 2000 }, { registry: testRegistry() });
    worker = await startWorker({ redisUrl: redis.url, name: 'test-worker', concurrency: 1, cli: FIXTURE_CLI, roots: [join(dataDir, 'runs'), join(dataDir, 'datasets')] });
  });
  after(async () => {
    await cp.close();
    await worker.close();
    await redis.stop();
    delete process.env.MEDAD_FIXTURE_STEP_MS;
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a run queued by mutation is executed by the worker, streams metrics to a subscriber and is stored', async () => {
    const ds = (await gql(cp.url, 'mutation { buildDataset(input: { name: "rq", samples: 20 }) { id } }')).data?.buildDataset.id;
    const sft = (await gql(cp.url, `mutation { startSftRun(input: { dataset: { fromRun: "${ds}" }, hyper: { steps: 10, saveEvery: 5 } }) { id } }`)).data?.startSftRun.id;
    const client = wsClient(cp.url);
    const steps: number[] = [];
    try {
      for await (const ev of client.iterate<{ trainingMetrics: { step: number } }>({ query: `subscription { trainingMetrics(runId: "${sft}", fromStep: 1) { step } }` })) {
        steps.push(ev.data!.trainingMetrics.step);
      }
    } finally {
      await client.dispose();
    }
    assert.deepEqual(steps, Array.from({ length: 10 }, (_, i) => i + 1));
    const run = await gql(cp.url, `{ run(id: "${sft}") { status worker metricCount checkpoints { step } } }`);
    assert.deepEqual(run.data?.run, { status: 'SUCCEEDED', worker: 'test-worker', metricCount: 10, checkpoints: [{ step: 10 }] });
  });

  test('cancelRun reaches the child on the worker over the control channel', async () => {
    const ds = (await gql(cp.url, '{ datasets { id } }')).data?.datasets[0].id;
    const id = (await gql(cp.url, `mutation { startSftRun(input: { dataset: { id: "${ds}" }, hyper: { steps: 1000 } }) { id } }`)).data?.startSftRun.id;
    await waitFor(async () => (await cp.store.metricCount(id)) >= 3, 'the remote run to report metrics');
    const cancelled = await gql(cp.url, `mutation { cancelRun(id: "${id}") { status worker } }`);
    assert.deepEqual(cancelled.data?.cancelRun, { status: 'CANCELLED', worker: 'test-worker' });
    assert.ok((await cp.store.metricCount(id)) < 1000);
  });
});

describe('a queued job is data: the worker checks it before anything runs', () => {
  const roots = ['/srv/medad/runs', '/srv/medad/datasets'];
  const spec = (out: string) => ({ kind: 'sft', data: '/srv/medad/datasets/d', out, seed: 1 });
  test('a plain id, a run directory inside the roots and a spec that writes there pass', () => {
    assert.equal(jobProblem({ runId: 'sft-1', attempt: 'a', dir: '/srv/medad/runs/sft-1', spec: spec('/srv/medad/runs/sft-1') }, roots), undefined);
  });
  test('anything else is refused with the reason', () => {
    assert.match(jobProblem({ runId: '../x', attempt: 'a', dir: '/srv/medad/runs/x', spec: spec('/srv/medad/runs/x') }, roots)!, /not a plain id/);
    assert.match(jobProblem({ runId: 'x', attempt: 'a', dir: '/etc', spec: spec('/etc') }, roots)!, /outside the allowed run directory roots/);
    assert.match(jobProblem({ runId: 'x', attempt: 'a', dir: '/srv/medad/runs/x', spec: spec('/home/me/.ssh') }, roots)!, /spec\.out "\/home\/me\/\.ssh" is outside the allowed run directory roots/);
    assert.match(jobProblem({ runId: 'x', attempt: 'a', dir: '/srv/medad/runs/x', spec: { kind: 'shell', cmd: 'rm -rf /' } }, roots)!, /kind/);
    assert.match(jobProblem({ runId: 'x', attempt: 'a', dir: 'relative/x', spec: spec('relative/x') }, roots)!, /not an absolute path/);
  });
});

describe('REDIS_URL that cannot work fails at start with one clear error', { skip: missing }, () => {
  test('a wrong or missing password, a refused port, a bad scheme', async () => {
    const redis = await startRedis({ password: 's3cret' });
    try {
      await checkRedis(redis.url);
      const wrong = redis.url.replace('s3cret', 'nope');
      await assert.rejects(checkRedis(wrong), (err: Error) => {
        assert.match(err.message, /^cannot use Redis at redis:\/\/\*\*\*@127\.0\.0\.1:\d+: WRONGPASS/);
        assert.doesNotMatch(err.message, /nope/, 'the password is not echoed');
        assert.match(err.message, /Fix: put the password in the URL/);
        return true;
      });
      await assert.rejects(checkRedis(redis.url.replace(':s3cret@', '')), /NOAUTH Authentication required\. Fix: put the password in the URL/);
    } finally {
      await redis.stop();
    }
    await assert.rejects(checkRedis(redis.url), /ECONNREFUSED .*Fix: check that redis-server runs at that host and port/);
    await assert.rejects(checkRedis('http://127.0.0.1:6379'), /scheme http: — expected redis: or rediss:/);
  });

  test('rediss:// to a server whose certificate is not trusted names NODE_EXTRA_CA_CERTS', { skip: opensslPath() ? false : 'openssl not installed' }, async () => {
    const redis = await startRedis({ password: 'pw', tls: true });
    try {
      await assert.rejects(checkRedis(redis.url), /^.*cannot use Redis at rediss:\/\/\*\*\*@localhost:\d+: self[- ]signed certificate.*Fix: .*NODE_EXTRA_CA_CERTS/);
      await assert.rejects(checkRedis(redis.url.replace('rediss:', 'redis:'), 1500), /Fix: check that redis-server runs at that host and port \(a TLS-only server needs rediss:\/\/\)/);
    } finally {
      await redis.stop();
    }
  });
});
