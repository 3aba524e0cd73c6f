/**
 * The issue's "Done when": a `medad serve` process, runs started by mutation, metrics over a
 * graphql-ws subscription, an evaluation's per-task table, a run's process killed mid-way
 * (FAILED while the server keeps answering, then resumeRun completes it), and a server killed
 * mid-run (INTERRUPTED after restart, then resumeRun completes it).
 *
 * Two flavours run the same cases: the TEST FIXTURE CLI (apps/server/src/testing/fixture-cli.ts,
 * which honours the child-command contract with trivial arithmetic) and the real `medad` CLI,
 * enabled automatically once `medad data synth`, `medad train sft` and `medad eval` exist.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { FIXTURE_CLI, freshDataDir, gql, waitFor, wsClient } from '@medad/server/testing';
import { TIMING_KEY, alive, medadHas, startServerProcess, type ServerProcess } from './harness.js';

interface Flavour {
  name: string;
  skip: string | false;
  env: Record<string, string>;
  backbone: string;
  sftSteps: number;
  longSteps: number;
  datasetSamples: number;
  evalLimit: number;
  /** The model width the backbone config asks for, checked in the checkpoint (real CLI only). */
  dModel?: number;
  /** A log line the resumed attempt writes (fixture only; the real trainer's wording is its own). */
  resumeLog?: RegExp;
  timeoutMs: number;
}


const realMissing = ['data synth', 'train sft', 'eval'].filter((c) => !medadHas(...c.split(' ')));
const FLAVOURS: Flavour[] = [
  {
    name: 'fixture CLI (child-command contract stand-in)',
    skip: false,
    env: {
      MEDAD_RUN_CLI: FIXTURE_CLI,
      MEDAD_PLUGIN_MODULES: fileURLToPath(new URL('./test-plugins.js', import.meta.resolve('@medad/server/testing'))),
      MEDAD_FIXTURE_STEP_MS: '25',
    },
    backbone: '{ plugin: "fixture-backbone" }',
    sftSteps: 20,
    longSteps: 120,
    datasetSamples: 40,
    evalLimit: 20,
    resumeLog: /^resumed from step \d+$/,
    timeoutMs: 30_000,
  },
  {
    name: 'real medad CLI (tfjs-vlm tiny)',
    skip: realMissing.length ? `\`medad ${realMissing.join('`, `medad ')}\` not in this build yet — real-CLI flavour skipped` : false,
    env: {},
    // A config that changes the model's shape: the checkpoint must have it (issue 20).
    backbone: '{ plugin: "tfjs-vlm", config: { preset: "tiny", model: { dModel: 48 } } }',
    dModel: 48,
    sftSteps: 6,
    longSteps: 60,
    datasetSamples: 100,
    evalLimit: 20,
    timeoutMs: 300_000,
  },
];

for (const f of FLAVOURS) {
  describe(`end to end over a server process — ${f.name}`, { skip: f.skip }, () => {
    let server: ServerProcess;
    let dataDir: string;
    let datasetRun = '';
    let judge = 'rule';

    const runOf = async (id: string, fields = 'status statusMessage attempts pid metricCount') =>
      (await gql(server.url, `query($id: ID!) { run(id: $id) { ${fields} } }`, { id })).data?.run;
    const until = (id: string, statuses: string[], what: string) =>
      waitFor(async () => {
        const r = await runOf(id);
        return statuses.includes(r?.status) ? r : undefined;
      }, what, f.timeoutMs, 100);
    const startSft = async (steps: number, saveEvery: number): Promise<string> => {
      const r = await gql(server.url, `mutation { startSftRun(input: { dataset: { fromRun: "${datasetRun}" }, backbone: ${f.backbone}, seed: 7, hyper: { steps: ${steps}, batchSize: 4, saveEvery: ${saveEvery} } }) { id status } }`);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return r.data!.startSftRun.id;
    };
    /** Each step's values that do not measure time (losses, learning rate, accuracies). */
    const trainingValues = async (id: string): Promise<Array<Record<string, number>>> =>
      (await gql(server.url, `{ run(id: "${id}") { metrics { step values } } }`)).data?.run.metrics.map((m: { step: number; values: Record<string, number> }) => ({
        step: m.step,
        ...Object.fromEntries(Object.entries(m.values).filter(([k]) => !TIMING_KEY.test(k))),
      }));
    const contiguous = async (id: string, steps: number): Promise<void> => {
      const rows = (await gql(server.url, `{ run(id: "${id}") { metrics { step } } }`)).data?.run.metrics.map((m: { step: number }) => m.step);
      assert.deepEqual(rows, Array.from({ length: steps }, (_, i) => i + 1), 'every step stored exactly once');
    };

    before(async () => {
      dataDir = await freshDataDir('medad-e2e-');
      server = await startServerProcess(dataDir, f.env);
      const judges = (await gql(server.url, '{ plugins(kind: JUDGE) { id } }')).data?.plugins.map((p: { id: string }) => p.id) as string[];
      assert.ok(judges.length, 'no judge plugin is built; run `npm run build` at the root');
      judge = judges.includes('rule') ? 'rule' : judges[0]!;
      const ds = await gql(server.url, `mutation { buildDataset(input: { name: "e2e", samples: ${f.datasetSamples}, seed: 3 }) { id } }`);
      assert.equal(ds.errors, undefined, JSON.stringify(ds.errors));
      datasetRun = ds.data!.buildDataset.id;
    });
    after(async () => {
      const code = await server.stop();
      assert.equal(code, 0, `graceful shutdown exits 0; output:\n${server.output()}`);
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('a tiny SFT run started by mutation streams metric events over graphql-ws; an evaluation of it gives the per-task table', async () => {
      const sft = await startSft(f.sftSteps, Math.max(1, Math.floor(f.sftSteps / 2)));
      const client = wsClient(server.url);
      const steps: number[] = [];
      try {
        for await (const ev of client.iterate<{ trainingMetrics: { step: number; values: Record<string, number> } }>({
          query: `subscription($id: ID!) { trainingMetrics(runId: $id, fromStep: 1) { step values } }`,
          variables: { id: sft },
        })) {
          steps.push(ev.data!.trainingMetrics.step);
          assert.ok(Object.values(ev.data!.trainingMetrics.values).every((v) => typeof v === 'number'));
        }
      } finally {
        await client.dispose();
      }
      assert.deepEqual(steps, Array.from({ length: f.sftSteps }, (_, i) => i + 1), 'the subscription saw every step in order and ended with the run');
      const done = await until(sft, ['SUCCEEDED', 'FAILED'], 'the SFT run');
      assert.equal(done.status, 'SUCCEEDED', done.statusMessage);
      if (f.dModel) {
        const config = JSON.parse(readFileSync(join(dataDir, 'runs', sft, 'checkpoint', 'config.json'), 'utf8')) as { dModel: number };
        assert.equal(config.dModel, f.dModel, "the backbone config given to startSftRun shaped the trained model");
      }

      const ev = await gql(server.url, `mutation { startEvaluation(input: { dataset: { fromRun: "${datasetRun}" }, checkpoint: { fromRun: "${sft}" }, judge: { plugin: "${judge}" }, seeds: [1, 2], limit: ${f.evalLimit} }) { id } }`);
      assert.equal(ev.errors, undefined, JSON.stringify(ev.errors));
      const evalId = ev.data!.startEvaluation.id;
      const finished = await until(evalId, ['SUCCEEDED', 'FAILED'], 'the evaluation');
      assert.equal(finished.status, 'SUCCEEDED', finished.statusMessage);
      const table = (await gql(server.url, `{ run(id: "${evalId}") { evaluation { overall { mean std } perTask { task mean std } consistency { mean } formatRate { mean } seeds } } }`)).data?.run.evaluation;
      assert.deepEqual(table.seeds, [1, 2]);
      assert.ok(table.perTask.length >= 1 && table.perTask.length <= 5);
      for (const row of table.perTask) {
        assert.ok(row.mean >= 0 && row.mean <= 100, `${row.task}: ${row.mean}`);
      }
      assert.ok(table.overall.mean >= 0 && table.overall.mean <= 100);
    });

    test("killing the run's process mid-way gives FAILED while the server keeps answering; resumeRun completes it", async () => {
      const id = await startSft(f.longSteps, 10);
      const running = await waitFor(async () => {
        const r = await runOf(id);
        return r?.pid && r.metricCount >= 15 ? r : undefined;
      }, 'the run to pass step 15', f.timeoutMs, 50);
      process.kill(running.pid, 'SIGKILL');
      const failed = await until(id, ['FAILED'], 'FAILED after the kill');
      assert.match(failed.statusMessage, /^killed by SIGKILL/);
      const list = await gql(server.url, '{ runs(first: 50) { totalCount edges { node { id status } } } }');
      assert.equal(list.status, 200, 'the server still answers');
      assert.ok(list.data?.runs.edges.some((e: { node: { id: string; status: string } }) => e.node.id === id && e.node.status === 'FAILED'));
      assert.equal((await fetch(server.url.replace('/graphql', '/healthz'))).status, 200);

      const resumed = await gql(server.url, `mutation { resumeRun(id: "${id}") { status } }`);
      assert.equal(resumed.data?.resumeRun.status, 'QUEUED');
      const done = await until(id, ['SUCCEEDED', 'FAILED'], 'the resumed run');
      assert.equal(done.status, 'SUCCEEDED', done.statusMessage);
      assert.equal(done.attempts, 2);
      await contiguous(id, f.longSteps);
      if (f.resumeLog) {
        const logs = (await gql(server.url, `{ run(id: "${id}") { events(last: 200) { type message } } }`)).data?.run.events;
        assert.ok(logs.some((e: { type: string; message: string }) => e.type === 'log' && f.resumeLog!.test(e.message)), 'the second attempt resumed from a checkpoint');
      }
    });

    test('a server killed mid-run leaves no orphan, restarts with the run INTERRUPTED; resumeRun completes it with the metrics of an uninterrupted run', async () => {
      const id = await startSft(f.longSteps, 10);
      const running = await waitFor(async () => {
        const r = await runOf(id);
        return r?.pid && r.metricCount >= 12 ? r : undefined;
      }, 'the run to pass step 12', f.timeoutMs, 50);
      await server.kill();
      // The run's process sees its IPC channel close and exits: nothing keeps writing the run.
      await waitFor(() => !alive(running.pid), `the run's process ${running.pid} to exit after the server died`, 15_000, 50);
      server = await startServerProcess(dataDir, f.env);
      const after = await runOf(id);
      assert.equal(after.status, 'INTERRUPTED');
      assert.ok(after.metricCount >= 10, `metrics written before the crash are kept (${after.metricCount})`);
      await gql(server.url, `mutation { resumeRun(id: "${id}") { status } }`);
      const done = await until(id, ['SUCCEEDED', 'FAILED'], 'the resumed run');
      assert.equal(done.status, 'SUCCEEDED', done.statusMessage);
      await contiguous(id, f.longSteps);
      // The same spec uninterrupted: every step's training values are the same.
      const twin = await startSft(f.longSteps, 10);
      const twinDone = await until(twin, ['SUCCEEDED', 'FAILED'], 'the uninterrupted twin');
      assert.equal(twinDone.status, 'SUCCEEDED', twinDone.statusMessage);
      assert.deepEqual(await trainingValues(id), await trainingValues(twin), 'a crash and resume change no step of the run');
    });
  });
}
