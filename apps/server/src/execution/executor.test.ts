import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RunStatus } from '@medad/core';
import { RunKind, type MetricRow, type RunRecord } from '../domain.js';
import { MetricWriter } from '../store/metric-writer.js';
import { openPglite } from '../store/sql-client.js';
import { SqlStore, type Store } from '../store/store.js';
import { FIXTURE_CLI, freshPgliteDir, waitFor } from '../testing/index.js';
import { EventBus } from './event-bus.js';
import { Executor } from './executor.js';
import { LocalLauncher } from './launcher.js';
import { storedSpec, threadsPerJob } from './run-commands.js';
import { parseRunSpec, type DatasetSpec, type EvalSpec, type SftSpec } from '@medad/core';

const hyper = (steps: number, saveEvery = 5) => ({ steps, batchSize: 4, lr: 1e-3, warmupSteps: 0, saveEvery });

describe('Executor (child processes through the fixture CLI)', () => {
  let dbDir: string;
  let dataDir: string;
  let store: Store;
  let writer: MetricWriter;
  let bus: EventBus;
  let executor: Executor;
  let n = 0;

  const newExecutor = (concurrency = 1): Executor =>
    new Executor({ store, writer, bus, launcher: new LocalLauncher(concurrency), cli: FIXTURE_CLI, cwd: dataDir, killGraceMs: 2000 });

  const sft = async (steps: number, extra: Partial<SftSpec> = {}, dependsOn?: string): Promise<RunRecord> => {
    const id = `sft-${++n}`;
    const dir = join(dataDir, 'runs', id);
    const config = parseRunSpec({ kind: 'sft', data: join(dataDir, 'ds'), out: dir, backbone: { plugin: 'tfjs-vlm', config: { preset: 'tiny' } }, seed: 1, hyper: hyper(steps), ...extra });
    return store.createRun({ id, kind: RunKind.Sft, config: config as never, dir, dependsOn });
  };
  const final = (id: string) => waitFor(async () => {
    const r = await store.getRun(id);
    return r && ![RunStatus.Queued, RunStatus.Running].includes(r.status) ? r : undefined;
  }, `run ${id} to end`);

  before(async () => {
    dbDir = await freshPgliteDir();
    dataDir = mkdtempSync(join(tmpdir(), 'medad-exec-'));
    store = await SqlStore.open(await openPglite(dbDir));
    writer = new MetricWriter(store, { intervalMs: 20 });
    bus = new EventBus();
    executor = newExecutor();
    await executor.start();
  });
  after(async () => {
    await executor.shutdown();
    await writer.close();
    await store.close();
    rmSync(dbDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a run streams its metrics in order, stores them, records checkpoints and backend, and SUCCEEDS', async () => {
    const run = await sft(12);
    const stream = bus.subscribe('metrics', run.id);
    const statuses = bus.subscribe('status', run.id);
    executor.pump();
    const seen: MetricRow[] = [];
    for await (const row of stream) {
      seen.push(row);
      if (row.step === 12) break;
    }
    assert.deepEqual(seen.map((r) => r.step), Array.from({ length: 12 }, (_, i) => i + 1));
    assert.ok(seen[11]!.values.loss! < seen[0]!.values.loss!);
    const done = await final(run.id);
    assert.equal(done.status, RunStatus.Succeeded, done.statusMessage ?? '');
    assert.equal(done.backend, 'fixture');
    assert.equal(done.attempts, 1);
    assert.equal(done.pid, null);
    assert.deepEqual((await store.checkpoints(run.id)).map((c) => c.step), [12], 'only the latest checkpoint (overwritten in place) is listed');
    assert.equal(await store.metricCount(run.id), 12);
    const st: RunStatus[] = [];
    for await (const s of statuses) {
      st.push(s.status);
      if (s.status === RunStatus.Succeeded) break;
    }
    assert.deepEqual(st, [RunStatus.Running, RunStatus.Succeeded]);
    assert.equal(bus.listenerCount(), 0, 'iterators that ended unsubscribed');
  });

  test('concurrency 1 runs queued runs one after another, oldest first', async () => {
    const a = await sft(4);
    const b = await sft(4);
    executor.pump();
    const [ra, rb] = [await final(a.id), await final(b.id)];
    assert.equal(ra.status, RunStatus.Succeeded);
    assert.equal(rb.status, RunStatus.Succeeded);
    assert.ok(rb.startedAt!.getTime() >= ra.finishedAt!.getTime() - 5, 'b started after a finished');
  });

  test('a crashing child gives FAILED with the exit code and stderr; resume completes it from its checkpoint, each step stored once', async () => {
    process.env.MEDAD_FIXTURE_FAIL_AT = '8';
    try {
      const run = await sft(10);
      executor.pump();
      const failed = await final(run.id);
      assert.equal(failed.status, RunStatus.Failed);
      assert.match(failed.statusMessage ?? '', /exit code 3; last stderr: fixture-cli: injected failure at step 8/);
      assert.deepEqual((await store.metrics(run.id)).map((m) => m.step), [1, 2, 3, 4, 5, 6, 7]);
      await executor.resume(run.id);
      const done = await final(run.id);
      assert.equal(done.status, RunStatus.Succeeded, done.statusMessage ?? '');
      assert.equal(done.attempts, 2);
      assert.deepEqual((await store.metrics(run.id)).map((m) => m.step), Array.from({ length: 10 }, (_, i) => i + 1));
      const logs = (await store.events(run.id)).filter((e) => e.type === 'log').map((e) => e.message);
      assert.ok(logs.includes('resumed from step 5'), logs.join(' / '));
    } finally {
      delete process.env.MEDAD_FIXTURE_FAIL_AT;
    }
  });

  test('SIGKILL mid-run gives FAILED "killed by SIGKILL"; cancel stops a running child and a queued run', async () => {
    process.env.MEDAD_FIXTURE_STEP_MS = '40';
    try {
      const run = await sft(200);
      executor.pump();
      const running = await waitFor(async () => {
        const r = await store.getRun(run.id);
        return r?.pid && (await store.metricCount(run.id)) >= 3 ? r : undefined;
      }, 'the run to report metrics');
      process.kill(running.pid!, 'SIGKILL');
      const failed = await final(run.id);
      assert.equal(failed.status, RunStatus.Failed);
      assert.match(failed.statusMessage ?? '', /^killed by SIGKILL/);

      const long = await sft(200);
      const queued = await sft(3);
      executor.pump();
      await waitFor(async () => (await store.getRun(long.id))?.status === RunStatus.Running, 'long run to start');
      assert.equal((await executor.cancel(queued.id)).status, RunStatus.Cancelled);
      const t0 = Date.now();
      const cancelled = await executor.cancel(long.id);
      assert.equal(cancelled.status, RunStatus.Cancelled);
      assert.ok(Date.now() - t0 < 2000, 'SIGTERM stopped it before the SIGKILL grace');
      await assert.rejects(executor.cancel(long.id), /only QUEUED or RUNNING runs can be cancelled/);
    } finally {
      delete process.env.MEDAD_FIXTURE_STEP_MS;
    }
  });

  test('threadsPerJob divides the cores among side-by-side jobs (at least 1; none for remote workers)', () => {
    assert.equal(threadsPerJob(1, 2), 2);
    assert.equal(threadsPerJob(2, 2), 1);
    assert.equal(threadsPerJob(3, 2), 1);
    assert.equal(threadsPerJob(2, 8), 4);
    assert.equal(threadsPerJob(Number.POSITIVE_INFINITY, 8), undefined);
  });

  test('a dataset → SFT → evaluation chain resolves its references at launch and stores the evaluation table', async () => {
    const dsConfig = parseRunSpec({ kind: 'dataset', out: join(dataDir, 'datasets', 'chain'), generator: { plugin: 'synthetic', config: { samples: 20, seed: 3 } } }) as DatasetSpec;
    const ds = await store.createRun({ id: 'ds-chain', kind: RunKind.BuildDataset, config: dsConfig as never, dir: join(dataDir, 'runs', 'ds-chain') });
    const train = await sft(6, { data: `run:${ds.id}` }, ds.id);
    const evalConfig = parseRunSpec({ kind: 'eval', data: `run:${ds.id}`, out: join(dataDir, 'runs', 'eval-chain'), checkpoint: `run:${train.id}`, seeds: [1, 2, 3], decoding: 'sample' }) as EvalSpec;
    const ev = await store.createRun({ id: 'eval-chain', kind: RunKind.Eval, config: evalConfig as never, dir: join(dataDir, 'runs', 'eval-chain'), dependsOn: train.id });
    executor.pump();
    const done = await final(ev.id);
    assert.equal(done.status, RunStatus.Succeeded, done.statusMessage ?? '');
    assert.deepEqual(done.command, ['run', join(dataDir, 'runs', ev.id, 'spec.json'), '--run-id', ev.id]);
    const resolved = JSON.parse(readFileSync(join(dataDir, 'runs', ev.id, 'spec.json'), 'utf8')) as EvalSpec;
    assert.deepEqual([resolved.checkpoint, resolved.data], [join(dataDir, 'runs', train.id, 'checkpoint'), dsConfig.out], 'references resolved at launch');
    // One job at a time on this machine: the SFT child gets every core's worth of gradient threads.
    const trained = JSON.parse(readFileSync(join(dataDir, 'runs', train.id, 'spec.json'), 'utf8')) as SftSpec;
    assert.equal(trained.compute.threads, threadsPerJob(1));
    const evaluation = await store.evaluation(ev.id);
    assert.equal(typeof evaluation?.result.overall, 'number');
    assert.equal(Object.keys(evaluation?.result.perTask as object).length, 5);
    assert.deepEqual((await store.datasets()).map((d) => [d.id, d.runId]), [['chain', ds.id]]);
    assert.ok(existsSync(join(dataDir, 'runs', ev.id, 'run-config.json')));
  });

  test('a run stored before run specs (its own config shape) is read as the equivalent spec, so it can still be resumed', async () => {
    const legacy = { dataset: { fromRun: 'ds-old' }, from: { path: '/ckpt' }, rewards: [{ plugin: 'format', weight: 1, config: {} }], judge: { plugin: 'rule', config: {} }, seed: 4, hyper: { steps: 30, promptsPerStep: 2, groupSize: 4, beta: 0.1, clipEpsilon: 0.3, learningRate: 1e-5, temperature: 0.9, checkpointEvery: 5, oversample: 1, gradEngine: 'ort' } };
    const spec = parseRunSpec(storedSpec({ id: 'grpo-old', kind: RunKind.ConGrpo, config: legacy, dir: '/runs/grpo-old' } as unknown as RunRecord));
    if (spec.kind !== 'con-grpo') return assert.fail(spec.kind);
    assert.deepEqual([spec.data, spec.from, spec.out, spec.seed], ['run:ds-old', '/ckpt', '/runs/grpo-old', 4]);
    assert.deepEqual([spec.hyper.steps, spec.hyper.epsilon, spec.hyper.lr, spec.hyper.saveEvery, spec.compute.gradEngine, spec.hyper.mu], [30, 0.3, 1e-5, 5, 'ort', 1]);
    const ds = parseRunSpec(storedSpec({ id: 'ds-old', kind: RunKind.BuildDataset, config: { name: 'old', samples: 40, seed: 3, zoom: false, outDir: '/data/old' }, dir: '/runs/ds-old' } as unknown as RunRecord));
    assert.deepEqual(ds, { kind: 'dataset', out: '/data/old', generator: { plugin: 'synthetic', config: { samples: 40, seed: 3, zoom: false, build: 'changed' } } });
  });

  test('a run whose dependency failed fails with the reason; shutdown interrupts, a restart keeps the metrics and resume finishes', async () => {
    const missing = await sft(3, { data: 'run:no-such-run' });
    const dependent = await sft(3, {}, missing.id);
    executor.pump();
    assert.match((await final(missing.id)).statusMessage ?? '', /could not prepare the run: data "run:no-such-run" is not a buildDataset run/);
    assert.match((await final(dependent.id)).statusMessage ?? '', new RegExp(`run ${missing.id} it depends on ended FAILED`));

    process.env.MEDAD_FIXTURE_STEP_MS = '30';
    const run = await sft(60);
    executor.pump();
    await waitFor(async () => (await store.metricCount(run.id)) >= 6, 'some metrics');
    await executor.shutdown();
    delete process.env.MEDAD_FIXTURE_STEP_MS;
    const interrupted = await store.getRun(run.id);
    assert.equal(interrupted?.status, RunStatus.Interrupted);
    const stored = await store.metricCount(run.id);
    assert.ok(stored >= 6);

    // A server killed hard leaves RUNNING rows behind: the next start marks them INTERRUPTED and imports metrics.jsonl.
    const orphan = await sft(5);
    await store.setStatus(orphan.id, RunStatus.Running, null);
    mkdirSync(orphan.dir, { recursive: true });
    writeFileSync(join(orphan.dir, 'metrics.jsonl'), '{"step":1,"loss":0.5}\n{"step":2,"loss":0.4}\n{"step":3,"lo');
    executor = newExecutor();
    await executor.start();
    const o = await store.getRun(orphan.id);
    assert.equal(o?.status, RunStatus.Interrupted);
    assert.deepEqual((await store.metrics(orphan.id)).map((m) => [m.step, m.values.loss]), [[1, 0.5], [2, 0.4]]);
    await executor.resume(run.id);
    const done = await final(run.id);
    assert.equal(done.status, RunStatus.Succeeded, done.statusMessage ?? '');
    assert.deepEqual((await store.metrics(run.id)).map((m) => m.step), Array.from({ length: 60 }, (_, i) => i + 1));
  });
});
