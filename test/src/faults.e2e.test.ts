/**
 * Fault injection against real processes (issue 21): two control planes on one PostgreSQL, a
 * replica killed beside a live one, a run directory still held by an orphan, and a `medad worker`
 * killed mid-Con-GRPO with another worker taking the job over, a cancel whose worker is gone, and
 * Redis with a password over TLS.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { FIXTURE_CLI, freshDataDir, gql, opensslPath, postgresBinDir, redisServerPath, startPostgres, startRedis, waitFor, type TestPostgres, type TestRedis } from '@medad/server/testing';
import { MEDAD, ROOT, TIMING_KEY, alive, medadHas, startServerProcess, type ServerProcess } from './harness.js';

const FIXTURE_ENV = {
  MEDAD_RUN_CLI: FIXTURE_CLI,
  MEDAD_PLUGIN_MODULES: fileURLToPath(new URL('./test-plugins.js', import.meta.resolve('@medad/server/testing'))),
  MEDAD_FIXTURE_STEP_MS: '10',
};
const ENDED = ['SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];

const runOf = async (url: string, id: string, fields = 'status statusMessage attempts pid worker metricCount') => (await gql(url, `query($id: ID!) { run(id: $id) { ${fields} } }`, { id })).data?.run;
const until = (url: string, id: string, statuses: string[], what: string, ms = 60_000) =>
  waitFor(async () => {
    const r = await runOf(url, id);
    return statuses.includes(r?.status) ? r : undefined;
  }, what, ms, 100);
const must = <T>(r: { data?: Record<string, T> | null; errors?: unknown }, field: string): T => {
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return r.data![field]!;
};

const pgMissing = postgresBinDir() ? false : 'PostgreSQL binaries not installed (apt-get install -y postgresql) — replica tests skipped';

describe('two control planes on one PostgreSQL (fixture CLI)', { skip: pgMissing }, () => {
  let pg: TestPostgres;
  let dataDir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let dataset = '';
  const env = (): Record<string, string> => ({ ...FIXTURE_ENV, DATABASE_URL: pg.url, MEDAD_CONCURRENCY: '2', MEDAD_HEARTBEAT_MS: '200', MEDAD_STALE_MS: '3000' });
  const sft = async (url: string, steps: number): Promise<string> =>
    must<{ id: string }>(await gql(url, `mutation { startSftRun(input: { dataset: { fromRun: "${dataset}" }, backbone: { plugin: "fixture-backbone" }, seed: 7, hyper: { steps: ${steps}, batchSize: 4, saveEvery: 5 } }) { id } }`), 'startSftRun').id;

  before(async () => {
    pg = await startPostgres();
    dataDir = await freshDataDir('medad-faults-');
    a = await startServerProcess(dataDir, env());
    b = await startServerProcess(dataDir, env());
    dataset = must<{ id: string }>(await gql(a.url, 'mutation { buildDataset(input: { name: "faults", samples: 40, seed: 3 }) { id } }'), 'buildDataset').id;
    const built = await until(a.url, dataset, ENDED, 'the dataset');
    assert.equal(built.status, 'SUCCEEDED', built.statusMessage);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('20 runs queued through both replicas each execute exactly once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await sft(i % 2 ? b.url : a.url, 8));
    for (const id of ids) {
      const r = await until(a.url, id, ENDED, `run ${id}`);
      assert.equal(r.status, 'SUCCEEDED', r.statusMessage);
    }
    for (const id of ids) {
      const r = (await gql(a.url, `{ run(id: "${id}") { attempts metricCount events(last: 200) { type status } } }`)).data?.run;
      assert.equal(r.attempts, 1, `run ${id} was launched once`);
      assert.equal(r.events.filter((e: { type: string; status: string }) => e.type === 'status' && e.status === 'RUNNING').length, 1, `run ${id} started once`);
      assert.equal(r.metricCount, 8);
    }
  });

  test("a replica's restart leaves the other's run RUNNING; a killed replica's run becomes INTERRUPTED on the live one, its process gone", async () => {
    const id = await sft(a.url, 1500); // 15 s of steps: outlives the restarts below
    const running = await waitFor(async () => {
      const r = await runOf(a.url, id);
      return r?.status === 'RUNNING' && r.pid && r.metricCount >= 3 ? r : undefined;
    }, 'the run to start', 30_000, 50);
    // Whichever replica claimed it (forked its process), restart the other one.
    const owner = running;
    const ownerIsA = parentPid(running.pid) === a.proc.pid;
    assert.ok(ownerIsA || parentPid(running.pid) === b.proc.pid, 'one of the two replicas runs it');
    const [holder, other] = ownerIsA ? [a, b] : [b, a];
    await other.kill();
    const restarted = await startServerProcess(dataDir, env());
    if (ownerIsA) b = restarted;
    else a = restarted;
    await new Promise((r) => setTimeout(r, 1000)); // several heartbeats and sweeps of the restarted replica
    const still = await runOf(restarted.url, id);
    assert.equal(still.status, 'RUNNING', "the restarted replica left the live replica's run alone");
    assert.equal(still.pid, owner.pid);

    await holder.kill();
    await waitFor(() => !alive(owner.pid), `the run's process ${owner.pid} to exit with its replica`, 15_000, 50);
    const interrupted = await until(restarted.url, id, ['INTERRUPTED'], 'the live replica to take the run over', 15_000).catch((err: Error) => {
      throw new Error(`${err.message}; the live replica printed:\n${restarted.output()}`);
    });
    assert.match(interrupted.statusMessage, /replica .* stopped while it was running/);
    const fresh = await startServerProcess(dataDir, env());
    if (ownerIsA) a = fresh;
    else b = fresh;
    must(await gql(restarted.url, `mutation { resumeRun(id: "${id}") { status } }`), 'resumeRun');
    const done = await until(restarted.url, id, ENDED, 'the resumed run');
    assert.equal(done.status, 'SUCCEEDED', done.statusMessage);
    assert.equal(done.metricCount, 1500, 'every step stored exactly once (one row per step)');
  });

  test('cancelRun sent to the replica that does not run it: the owner stops the run at its next heartbeat', async () => {
    const id = await sft(a.url, 3000);
    const running = await waitFor(async () => {
      const r = await runOf(a.url, id);
      return r?.status === 'RUNNING' && r.pid && r.metricCount >= 2 ? r : undefined;
    }, 'the run to start', 30_000, 50);
    const other = parentPid(running.pid) === a.proc.pid ? b : a;
    const cancelled = must<{ status: string; statusMessage: string }>(await gql(other.url, `mutation { cancelRun(id: "${id}") { status statusMessage } }`), 'cancelRun');
    assert.deepEqual(cancelled, { status: 'CANCELLED', statusMessage: 'cancelled by cancelRun' });
    await waitFor(() => !alive(running.pid), `the run's process ${running.pid} to exit`, 10_000, 50);
    const resumed = must<{ status: string }>(await gql(other.url, `mutation { resumeRun(id: "${id}") { status } }`), 'resumeRun');
    assert.equal(resumed.status, 'QUEUED');
    const again = await waitFor(async () => {
      const r = await runOf(a.url, id);
      return r?.status === 'RUNNING' && r.metricCount > 0 ? r : undefined;
    }, 'the resumed run to start', 30_000, 50);
    await new Promise((r) => setTimeout(r, 1000)); // several heartbeats: the old request is not applied to the new attempt
    assert.equal((await runOf(a.url, id)).status, 'RUNNING', 'a resumed run is not cancelled by the request of its previous attempt');
    assert.ok(again.attempts >= 2);
    must(await gql(a.url, `mutation { cancelRun(id: "${id}") { status } }`), 'cancelRun');
  });

  test('resumeRun refuses while a process still holds the run directory, naming it', async () => {
    const id = await sft(a.url, 3000);
    await waitFor(async () => (await runOf(a.url, id))?.metricCount >= 2, 'the run to start', 30_000, 50);
    must(await gql(a.url, `mutation { cancelRun(id: "${id}") { status } }`), 'cancelRun');
    // An orphan of an earlier attempt (the fixture CLI takes no lock; a live process stands in for one).
    const orphan = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const dir = (await runOf(a.url, id, 'dir')).dir as string;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid: orphan.pid, host: hostname(), since: new Date().toISOString(), runId: id }));
      const refused = await gql(a.url, `mutation { resumeRun(id: "${id}") { status } }`);
      assert.equal(refused.errors?.[0]?.extensions?.code, 'CONFLICT');
      assert.match(refused.errors![0]!.message, new RegExp(`in use by process ${orphan.pid} on ${hostname()}`));
      orphan.kill('SIGKILL');
      await waitFor(() => !alive(orphan.pid!), 'the orphan to exit', 5000, 20);
      assert.equal(must<{ status: string }>(await gql(a.url, `mutation { resumeRun(id: "${id}") { status } }`), 'resumeRun').status, 'QUEUED', 'once the holder is gone the run resumes');
      must(await gql(a.url, `mutation { cancelRun(id: "${id}") { status } }`), 'cancelRun');
    } finally {
      orphan.kill('SIGKILL');
    }
  });
});

/** The parent pid of a process (Linux /proc), i.e. which control plane forked a run. */
function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const realMissing = ['data synth', 'train sft', 'train con-grpo', 'worker'].filter((c) => !medadHas(...c.split(' ')));
const redisMissing = !redisServerPath() ? 'redis-server not installed (apt-get install -y redis-server) — worker fault test skipped' : realMissing.length ? `medad ${realMissing.join(', ')} missing` : false;

describe('a medad worker killed mid-Con-GRPO (real CLI, Redis)', { skip: redisMissing }, () => {
  let redis: TestRedis;
  let dataDir: string;
  let server: ServerProcess;
  const workers = new Map<string, ChildProcess>();
  let workerOutput = '';
  const startWorker = (name: string): ChildProcess => {
    const p = spawn(process.execPath, [MEDAD, 'worker', '--name', name], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redis.url, MEDAD_DATA_DIR: dataDir, MEDAD_WORKER_LOCK_MS: '3000', MEDAD_WORKER_STALLED_MS: '1000', MEDAD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    p.stdout!.on('data', (d: Buffer) => (workerOutput += `[${name}] ${d}`));
    p.stderr!.on('data', (d: Buffer) => (workerOutput += `[${name}] ${d}`));
    workers.set(name, p);
    return p;
  };

  before(async () => {
    redis = await startRedis();
    dataDir = await freshDataDir('medad-worker-faults-');
    // A short cancel timeout: the lost-worker cancel below answers after 0.5 + 1 s.
    server = await startServerProcess(dataDir, { REDIS_URL: redis.url, MEDAD_KILL_GRACE_MS: '500', MEDAD_CANCEL_TIMEOUT_MS: '1000' });
    startWorker('w1');
    startWorker('w2');
  });
  after(async () => {
    await server?.stop();
    for (const w of workers.values()) w.kill('SIGKILL');
    await redis?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('another worker finishes the run from its checkpoint; every step is stored once and equals an uninterrupted run', async () => {
    const url = server.url;
    const ds = must<{ id: string }>(await gql(url, 'mutation { buildDataset(input: { name: "wk", samples: 60, seed: 3 }) { id } }'), 'buildDataset').id;
    const backbone = '{ plugin: "tfjs-vlm", config: { preset: "tiny" } }';
    const sft = must<{ id: string }>(await gql(url, `mutation { startSftRun(input: { dataset: { fromRun: "${ds}" }, backbone: ${backbone}, seed: 7, hyper: { steps: 6, batchSize: 4 } }) { id } }`), 'startSftRun').id;
    const sftDone = await until(url, sft, ENDED, 'the SFT run', 90_000).catch((err: Error) => {
      throw new Error(`${err.message}; workers printed:\n${workerOutput}\nserver:\n${server.output()}`);
    });
    assert.equal(sftDone.status, 'SUCCEEDED', sftDone.statusMessage);
    const grpo = async (): Promise<string> =>
      must<{ id: string }>(
        await gql(url, `mutation { startConGrpoRun(input: { dataset: { fromRun: "${ds}" }, from: { fromRun: "${sft}" }, judge: { plugin: "rule" }, seed: 5, hyper: { steps: 24, promptsPerStep: 2, groupSize: 4, saveEvery: 4, evalEvery: 0, evalSamples: 0 } }) { id } }`),
        'startConGrpoRun',
      ).id;
    const id = await grpo();
    const running = await waitFor(async () => {
      const r = await runOf(url, id);
      return r?.status === 'RUNNING' && r.worker && r.metricCount >= 6 ? r : undefined;
    }, 'the Con-GRPO run to pass step 6 on a worker', 300_000, 50);
    const victim = workers.get(running.worker)!;
    assert.ok(victim, `the run is on ${running.worker}`);
    victim.kill('SIGKILL');
    await waitFor(() => !alive(running.pid), `the run's process ${running.pid} to exit with its worker`, 15_000, 50);
    const done = await until(url, id, ENDED, 'the run to finish on the other worker', 300_000);
    assert.equal(done.status, 'SUCCEEDED', done.statusMessage);
    assert.notEqual(done.worker, running.worker, 'the other worker finished it');
    assert.equal(done.attempts, 1, 'the same attempt, taken over — not a new one');

    const values = async (run: string): Promise<Array<Record<string, number>>> =>
      (await gql(url, `{ run(id: "${run}") { metrics(downsample: 1000) { step values } } }`)).data?.run.metrics.map((m: { step: number; values: Record<string, number> }) => ({
        step: m.step,
        ...Object.fromEntries(Object.entries(m.values).filter(([k]) => !TIMING_KEY.test(k))),
      }));
    const got = await values(id);
    assert.deepEqual(got.map((r) => r.step), Array.from({ length: 24 }, (_, i) => i + 1), 'every step stored exactly once');
    const twin = await grpo();
    const twinDone = await until(url, twin, ENDED, 'the uninterrupted twin', 300_000);
    assert.equal(twinDone.status, 'SUCCEEDED', twinDone.statusMessage);
    assert.deepEqual(got, await values(twin), 'a lost worker changes no step of the run');
  });

  test('cancelRun with the worker gone answers after its timeout, and no other worker restarts the cancelled run', async () => {
    const url = server.url;
    for (const name of ['w3', 'w4']) startWorker(name);
    const ds = must<{ id: string }>(await gql(url, 'mutation { buildDataset(input: { name: "lost", samples: 20, seed: 4 }) { id } }'), 'buildDataset').id;
    const id = must<{ id: string }>(await gql(url, `mutation { startSftRun(input: { dataset: { fromRun: "${ds}" }, backbone: { plugin: "tfjs-vlm", config: { preset: "tiny" } }, hyper: { steps: 100000, batchSize: 4, saveEvery: 100000 } }) { id } }`), 'startSftRun').id;
    const running = await waitFor(async () => {
      const r = await runOf(url, id);
      return r?.status === 'RUNNING' && r.worker && r.metricCount >= 2 ? r : undefined;
    }, 'the SFT run to report metrics from a worker', 120_000, 50);
    workers.get(running.worker)!.kill('SIGKILL');
    // Cancel at once, before the job's lock (3 s) expires and another worker could take it over.
    const t0 = Date.now();
    const cancelled = must<{ status: string; statusMessage: string }>(await gql(url, `mutation { cancelRun(id: "${id}") { status statusMessage } }`), 'cancelRun');
    const waited = Date.now() - t0;
    assert.equal(cancelled.status, 'CANCELLED');
    assert.match(cancelled.statusMessage, /did not confirm it stopped within 1\.5 s \(worker lost\?\)/);
    assert.ok(waited >= 1400 && waited < 10_000, `cancelRun answered after ${waited} ms, i.e. after its 1.5 s timeout`);
    await waitFor(() => /job not restarted: it was stopped while its worker was lost/.test(workerOutput), 'another worker to take the stalled job over and decline it', 30_000, 50);
    const settled = await waitFor(async () => {
      const r = await runOf(url, id);
      return r.pid === null ? r : undefined;
    }, 'the declined attempt to be recorded', 10_000, 50);
    await new Promise((r) => setTimeout(r, 2000));
    const later = await runOf(url, id);
    assert.equal(later.status, 'CANCELLED', later.statusMessage);
    assert.equal(later.metricCount, settled.metricCount, 'no worker ran a step of the cancelled run afterwards');
    assert.ok(later.metricCount < 100000);
  });
});

const tlsMissing = !redisServerPath() ? 'redis-server not installed' : !opensslPath() ? 'openssl not installed (apt-get install -y openssl)' : !medadHas('worker') ? 'medad worker missing' : false;

describe('REDIS_URL with a password over TLS (rediss://, private CA)', { skip: tlsMissing }, () => {
  test('the server queues, a worker runs, and both refuse a wrong password with a clear error', async () => {
    const redis = await startRedis({ password: 'p@ss w0rd', tls: true });
    const dataDir = await freshDataDir('medad-redis-tls-');
    const env = { REDIS_URL: redis.url, NODE_EXTRA_CA_CERTS: redis.caFile!, MEDAD_DATA_DIR: dataDir, MEDAD_LOG_LEVEL: 'warn' };
    let server: ServerProcess | undefined;
    let worker: ChildProcess | undefined;
    let out = '';
    try {
      const wrong = spawn(process.execPath, [MEDAD, 'worker'], { cwd: ROOT, env: { ...process.env, ...env, REDIS_URL: redis.url.replace(encodeURIComponent('p@ss w0rd'), 'guess') }, stdio: ['ignore', 'pipe', 'pipe'] });
      let wrongOut = '';
      wrong.stderr!.on('data', (d: Buffer) => (wrongOut += d.toString()));
      const code = await new Promise<number | null>((r) => wrong.once('exit', r));
      assert.notEqual(code, 0);
      assert.match(wrongOut, /cannot use Redis at rediss:\/\/\*\*\*@localhost:\d+: WRONGPASS.*Fix: put the password in the URL/);

      server = await startServerProcess(dataDir, env);
      worker = spawn(process.execPath, [MEDAD, 'worker', '--name', 'tls-worker'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      worker.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      worker.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor(() => out.includes('waiting for runs on rediss://***@localhost'), 'the worker to connect over TLS', 30_000, 50);
      assert.doesNotMatch(out, /p@ss|w0rd/, 'the worker never prints the password');
      const ds = must<{ id: string }>(await gql(server.url, 'mutation { buildDataset(input: { name: "tls", samples: 12, seed: 2 }) { id } }'), 'buildDataset').id;
      const done = await until(server.url, ds, ENDED, 'the dataset run on the TLS worker', 120_000);
      assert.equal(done.status, 'SUCCEEDED', `${done.statusMessage}\nworker:\n${out}\nserver:\n${server.output()}`);
      assert.equal(done.worker, 'tls-worker');
    } finally {
      worker?.kill('SIGKILL');
      await server?.stop();
      await redis.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
