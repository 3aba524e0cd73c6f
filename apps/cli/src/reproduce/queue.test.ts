import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseRunSpec } from '@medad/core';
import { RedisLauncher, startWorker, type Launcher, type RunWorker } from '@medad/server';
import { redisServerPath, startRedis, type TestRedis } from '@medad/server/testing';
import { doneFile, Executor } from './executor.js';
import { specFile, type Job } from './plan.js';

const MEDAD = fileURLToPath(new URL('../../bin/medad.js', import.meta.url));

const missing = redisServerPath() ? false : 'redis-server not installed (apt-get install -y redis-server) — reproduce-over-Redis test skipped';

describe('medad reproduce --queue redis: jobs run on `medad worker`s through the control plane’s launcher', { skip: missing }, () => {
  let redis: TestRedis;
  let worker: RunWorker;
  let launcher: RedisLauncher;
  const out = mkdtempSync(join(tmpdir(), 'medad-reproduce-queue-'));
  before(async () => {
    redis = await startRedis();
    worker = await startWorker({ redisUrl: redis.url, name: 'reproduce-worker', concurrency: 2, roots: [out] });
    launcher = await RedisLauncher.connect(redis.url);
  });
  after(async () => {
    await launcher.close();
    await worker.close();
    await redis.stop();
    rmSync(out, { recursive: true, force: true });
  });

  test('a job with a run spec runs on the worker (the queue carries its spec); jobs without one run here', async () => {
    const data = join(out, 'data');
    const spec = parseRunSpec({ kind: 'dataset', out: data, generator: { plugin: 'synthetic', config: { samples: 20, seed: 1 } } }, 'test');
    const jobs: Job[] = [{ id: 'data', kind: 'data', deps: [], cli: ['run', specFile(out, 'data')], spec, argv: [process.execPath, MEDAD, 'run', specFile(out, 'data')], outDir: data, estimate: 1 }];
    const started: string[] = [];
    const remote: Launcher = { capacity: launcher.capacity, launch: (s, hooks) => launcher.launch(s, { ...hooks, onStart: (info) => (started.push(info.worker), hooks.onStart(info)) }) };
    const r = await new Executor(jobs, { outDir: out, concurrency: 1, launcher: remote }).run();
    assert.deepEqual(r.ran, ['data'], JSON.stringify(r.failed));
    assert.deepEqual(started, ['reproduce-worker'], 'the worker ran it');
    assert.equal(readFileSync(join(data, 'samples.jsonl'), 'utf8').trim().split('\n').length, 20);
  });

  test('jobs without a spec run locally beside the queue: done files, the stdout file and a failure with its log', async () => {
    const script = (name: string, body: string): string => {
      const f = join(out, `${name}.cjs`);
      writeFileSync(f, body);
      return f;
    };
    const jobs: Job[] = [
      { id: 'a', kind: 'other', deps: [], cli: ['test', 'a'], argv: [process.execPath, script('a', `console.log(JSON.stringify({ pid: process.pid, worker: !!process.send }))`)], estimate: 1, stdoutFile: join(out, 'a.json') },
      { id: 'b', kind: 'other', deps: ['a'], cli: ['test', 'b'], argv: [process.execPath, script('b', `console.error('b broke'); process.exit(4)`)], estimate: 1 },
    ];
    const r = await new Executor(jobs, { outDir: out, concurrency: 2, launcher }).run();
    assert.deepEqual(r.ran, ['a']);
    assert.deepEqual(r.failed.map((f) => [f.id, f.code]), [['b', 4]]);
    assert.ok(r.failed[0]!.tail.some((l) => l.includes('b broke')));
    assert.ok(existsSync(doneFile(out, 'a')));
    const a = JSON.parse(readFileSync(join(out, 'a.json'), 'utf8')) as { pid: number; worker: boolean };
    assert.notEqual(a.pid, process.pid);
    assert.equal(a.worker, true, 'the job ran as a forked child with an IPC channel, as runs are started');
  });
});
