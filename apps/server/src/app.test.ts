import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RunStatus, conGrpoHyperSchema, sftHyperSchema } from '@medad/core';
import { startControlPlane, type ControlPlane } from './app.js';
import { queueDemoPipeline } from './demo.js';
import { FIXTURE_CLI, freshDataDir, gql, testRegistry, waitFor, wsClient } from './testing/index.js';

const RUN_FIELDS = 'id kind status statusMessage attempts';

describe('control plane over HTTP and graphql-ws (fixture CLI, PGlite)', () => {
  let cp: ControlPlane;
  let dataDir: string;
  const outside = mkdtempSync(join(tmpdir(), 'medad-outside-'));

  before(async () => {
    dataDir = await freshDataDir();
    process.env.MEDAD_FIXTURE_STEP_MS = '15';
    cp = await startControlPlane({ port: 0, dataDir, runCli: FIXTURE_CLI, logLevel: 'silent', killGraceMs: 2000 }, { registry: testRegistry() });
  });
  after(async () => {
    await cp.close();
    delete process.env.MEDAD_FIXTURE_STEP_MS;
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test('on an empty database the demo pipeline (dataset → SFT → Con-GRPO → eval) runs through and fills the evaluation table', async () => {
    const queued = await queueDemoPipeline(cp.store, cp.runs, { samples: 40, sftSteps: 8, grpoSteps: 4, evalLimit: 20 });
    assert.deepEqual(queued.map((r) => r.kind), ['BUILD_DATASET', 'SFT', 'CON_GRPO', 'EVAL']);
    assert.deepEqual(await queueDemoPipeline(cp.store, cp.runs), [], 'not queued again once runs exist');
    const evalId = queued[3]!.id;
    const done = await waitFor(async () => {
      const r = await gql(cp.url, `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} evaluation { overall { mean std } perTask { task mean std } consistency { mean } seeds } } }`, { id: evalId });
      return ['SUCCEEDED', 'FAILED'].includes(r.data?.run?.status) ? r.data!.run : undefined;
    }, 'the demo evaluation', 30_000);
    assert.equal(done.status, 'SUCCEEDED', done.statusMessage);
    assert.deepEqual(done.evaluation.perTask.map((t: { task: string }) => t.task), ['anatomy_identification', 'modality_classification', 'anomaly_detection', 'pathology_characterization', 'lesion_localization']);
    assert.equal(typeof done.evaluation.overall.mean, 'number');
    assert.equal(done.evaluation.overall.std, 1.5);
    assert.deepEqual(done.evaluation.seeds, [1, 2, 3]);
    const grpo = await gql(cp.url, `{ run(id: "${queued[2]!.id}") { config command checkpoints { step } metrics(downsample: 3) { step values } } }`);
    assert.deepEqual(grpo.data?.run.config.rewards.map((r: { plugin: string; weight: number }) => [r.plugin, Number(r.weight.toFixed(4))]), [['format', 0.3333], ['accuracy', 0.3333], ['consistency', 0.3333]]);
    assert.equal(grpo.data?.run.config.hyper.groupSize, 8);
    assert.deepEqual([grpo.data?.run.config.hyper.oversample, grpo.data?.run.config.compute.gradEngine], [conGrpoHyperSchema.parse({}).oversample, 'auto'], 'omitted fields take the spec defaults');
    assert.deepEqual(grpo.data?.run.command, ['run', join(dataDir, 'runs', queued[2]!.id, 'spec.json'), '--run-id', queued[2]!.id], 'the child runs the stored spec');
    const sft = await gql(cp.url, `{ run(id: "${queued[1]!.id}") { config } }`);
    assert.equal(sft.data?.run.config.hyper.grounding, sftHyperSchema.parse({}).grounding);
    assert.equal(grpo.data?.run.config.from, `run:${queued[1]!.id}`, 'stored with a run reference');
    const resolved = JSON.parse(readFileSync(join(dataDir, 'runs', queued[2]!.id, 'spec.json'), 'utf8'));
    assert.equal(resolved.from, join(dataDir, 'runs', queued[1]!.id, 'checkpoint'), 'resolved to the latest checkpoint at launch');
    assert.equal(resolved.kind, 'con-grpo');
    assert.deepEqual(grpo.data?.run.metrics.map((m: { step: number }) => m.step), [1, 3, 4]);
  });

  test('a subscription receives metric events while the run trains, then ends; runStatus reports the transitions', async () => {
    const ds = await gql(cp.url, '{ datasets { id path info } }');
    assert.equal(ds.data?.datasets[0].id, 'demo');
    const client = wsClient(cp.url);
    try {
      const statuses: string[] = [];
      let id = '';
      const statusSub = client.iterate<{ runStatus: { runId: string; status: string } }>({ query: 'subscription { runStatus { runId status message } }' });
      const collecting = (async () => {
        for await (const ev of statusSub) {
          statuses.push(`${ev.data!.runStatus.runId} ${ev.data!.runStatus.status}`);
          if (ev.data!.runStatus.runId === id && ev.data!.runStatus.status === 'SUCCEEDED') break;
        }
      })();
      await waitFor(() => cp.bus.listenerCount('status:*') === 1, 'the runStatus subscription to be live');
      const started = await gql(cp.url, `mutation { startSftRun(input: { dataset: { id: "demo" }, backbone: { plugin: "fixture-backbone", config: { preset: "small" } }, seed: 5, hyper: { steps: 12, saveEvery: 4 } }) { ${RUN_FIELDS} } }`);
      id = started.data?.startSftRun.id as string;
      assert.equal(started.data?.startSftRun.status, 'QUEUED');
      const steps: number[] = [];
      for await (const ev of client.iterate<{ trainingMetrics: { step: number; values: { loss: number } } }>({ query: `subscription { trainingMetrics(runId: "${id}", fromStep: 1) { step values } }` })) {
        steps.push(ev.data!.trainingMetrics.step);
      }
      assert.deepEqual(steps, Array.from({ length: 12 }, (_, i) => i + 1), 'every step once, in order, and the stream ended with the run');
      await collecting;
      assert.deepEqual(statuses.filter((s) => s.startsWith(`${id} `)), [`${id} RUNNING`, `${id} SUCCEEDED`]);
      const run = await gql(cp.url, `{ run(id: "${id}") { status backend metricCount durationMs checkpoints { step } config } }`);
      assert.deepEqual(run.data?.run.checkpoints.map((c: { step: number }) => c.step), [12], 'the run keeps its latest checkpoint');
      assert.equal(run.data?.run.backend, 'fixture');
      assert.equal(run.data?.run.config.backbone.config.preset, 'small');
    } finally {
      await client.dispose();
    }
    await waitFor(() => cp.bus.listenerCount() === 0, 'subscriptions to be released');
  });

  test('inputs are validated into BAD_USER_INPUT errors that name the field and the fix; paths outside the roots are FORBIDDEN', async () => {
    const bad = async (input: string, mutation = 'startSftRun') => (await gql(cp.url, `mutation { ${mutation}(input: ${input}) { id } }`)).errors?.[0];
    let e = await bad('{ dataset: { id: "demo" }, hyper: { lr: -1, steps: 0 } }');
    assert.equal(e?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(e?.extensions?.stacktrace, undefined, 'no stack trace leaves the server');
    const invalid = (await gql(cp.url, '{ runs(first: 1) { edges { node { nosuchfield } } } }')).errors?.[0];
    assert.equal(invalid?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(invalid?.extensions?.stacktrace, undefined, 'validation errors carry no stack trace either');
    assert.match(e!.message, /input\.hyper\.steps: must be ≥ 1; input\.hyper\.lr: must be > 0/);
    e = await bad('{ dataset: { id: "demo" }, compute: { gradEngine: "gpu" } }');
    assert.match(e!.message, /input\.compute\.gradEngine: must be auto, ort or tfjs/);
    e = await bad('{ dataset: { id: "demo" }, hyper: { grounding: -0.5 } }');
    assert.match(e!.message, /input\.hyper\.grounding: must be ≥ 0 \(0 = off\)/);
    e = await bad('{ dataset: { id: "demo" }, backbone: { plugin: "gpt-9" } }');
    assert.match(e!.message, /input\.backbone\.plugin: unknown backbone plugin "gpt-9"/);
    assert.match(e!.extensions?.fix, /use one of: fixture-backbone, tfjs-vlm/);
    e = await bad('{ dataset: { id: "demo" }, backbone: { plugin: "fixture-backbone", config: { preset: "huge" } } }');
    assert.equal(e?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(e!.message, /input\.backbone\.config: Invalid config for backbone plugin "fixture-backbone": field "preset"/);
    e = await bad('{ dataset: { id: "demo", path: "x" } }');
    assert.match(e!.message, /input\.dataset: give exactly one of id, path, fromRun \(got id, path\)/);
    e = await bad(`{ dataset: { id: "demo" }, from: { fromRun: "nope" }, rewards: [{ plugin: "accuracy", weight: 0 }, { plugin: "format", weight: 0 }] }`, 'startConGrpoRun');
    assert.match(e!.message, /input\.from\.fromRun: no run "nope"/);
    const sft = (await gql(cp.url, '{ runs(filter: { kinds: [SFT], statuses: [SUCCEEDED] }, first: 1) { edges { node { id } } } }')).data?.runs.edges[0].node.id;
    e = await bad(`{ dataset: { id: "demo" }, from: { fromRun: "${sft}" }, rewards: [{ plugin: "accuracy", weight: 0 }, { plugin: "format", weight: 0 }] }`, 'startConGrpoRun');
    assert.match(e!.message, /input\.rewards: give at least one reward a weight > 0/);
    e = await bad(`{ dataset: { id: "demo" }, from: { fromRun: "${sft}" }, rewards: [{ plugin: "length", weight: 1 }] }`, 'startConGrpoRun');
    assert.match(e!.extensions?.fix, /use one of: accuracy, consistency, format/);
    e = await bad(`{ dataset: { id: "demo" }, checkpoint: { fromRun: "${sft}" }, seeds: [1, 1] }`, 'startEvaluation');
    assert.match(e!.message, /input\.seeds: seeds must be distinct/);
    e = await bad('{ name: "Bad Name!" }', 'buildDataset');
    assert.match(e!.message, /input\.name: must be 1-64 characters/);
    e = await bad('{ name: "demo" }', 'buildDataset');
    assert.equal(e?.extensions?.code, 'CONFLICT');

    // Plugin configs are confined too: paths to the data roots, URLs to allowed hosts, key variables to allowed names.
    e = await bad(`{ dataset: { id: "demo" }, from: { fromRun: "${sft}" }, judge: { plugin: "learned", config: { checkpoint: "/etc/passwd" } } }`, 'startConGrpoRun');
    assert.equal(e?.extensions?.code, 'FORBIDDEN');
    assert.match(e!.message, /input\.judge\.config\.checkpoint "\/etc\/passwd" is outside the allowed data roots/);
    e = await bad(`{ dataset: { id: "demo" }, from: { fromRun: "${sft}" }, judge: { plugin: "openai", config: { baseUrl: "http://collector.example:8000/v1" } } }`, 'startConGrpoRun');
    assert.equal(e?.extensions?.code, 'FORBIDDEN');
    assert.match(e!.message, /input\.judge\.config\.baseUrl: host "collector\.example:8000" is not an allowed outbound host/);
    e = await bad(`{ dataset: { id: "demo" }, from: { fromRun: "${sft}" }, judge: { plugin: "openai", config: { baseUrl: "http://127.0.0.1:9/v1", apiKeyEnv: "MEDAD_API_TOKENS" } } }`, 'startConGrpoRun');
    assert.equal(e?.extensions?.code, 'FORBIDDEN');
    assert.match(e!.message, /input\.judge\.config\.apiKeyEnv: "MEDAD_API_TOKENS" is not an allowed API-key variable/);
    const allowed = await gql(cp.url, `mutation { startEvaluation(input: { dataset: { id: "demo" }, checkpoint: { fromRun: "${sft}" }, judge: { plugin: "openai", config: { baseUrl: "http://127.0.0.1:9/v1" } } }) { id config } }`);
    assert.equal(allowed.errors, undefined, 'a loopback endpoint with the default key variable is allowed');
    await gql(cp.url, `mutation { cancelRun(id: "${allowed.data!.startEvaluation.id}") { id } }`);

    // A path outside the roots is refused before anything is read: a secret file there is never opened.
    writeFileSync(join(outside, 'samples.jsonl'), '{"secret": true}\n');
    e = await bad(`{ dataset: { path: "${outside}" } }`);
    assert.equal(e?.extensions?.code, 'FORBIDDEN');
    assert.match(e!.message, /input\.dataset\.path ".*" is outside the allowed dataset roots/);
    e = await bad(`{ dataset: { path: "../../${outside}/x" } }`);
    assert.equal(e?.extensions?.code, 'FORBIDDEN');
    // A symlink under the dataset root that leads outside is neither listed nor accepted as a dataset id.
    symlinkSync(outside, join(dataDir, 'datasets', 'linked'), 'dir');
    const listed = (await gql(cp.url, '{ datasets { id } }')).data?.datasets.map((d: { id: string }) => d.id);
    assert.ok(!listed.includes('linked'), `listed: ${listed}`);
    e = await bad('{ dataset: { id: "linked" } }');
    assert.match(e!.message, /input\.dataset\.id: no dataset "linked"/);
    e = await bad(`{ dataset: { id: "demo" }, checkpoint: { path: "/etc/passwd" } }`, 'startEvaluation');
    assert.equal(e?.extensions?.code, 'FORBIDDEN');
    assert.match(e!.message, /input\.checkpoint\.path "\/etc\/passwd" is outside the allowed checkpoint roots/);
    const runs = await gql(cp.url, '{ runs(filter: { statuses: [QUEUED, RUNNING] }) { totalCount } }');
    assert.equal(runs.data?.runs.totalCount, 0, 'no invalid input queued a run');
  });

  test('runs page as a Relay connection; cancel and resume go through GraphQL', async () => {
    const p1 = await gql(cp.url, '{ runs(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id createdAt } } } }');
    const total = p1.data?.runs.totalCount as number;
    assert.ok(total >= 5);
    assert.equal(p1.data?.runs.edges.length, 2);
    const all: string[] = p1.data?.runs.edges.map((e: { node: { id: string } }) => e.node.id);
    let cursor = p1.data?.runs.pageInfo.endCursor as string;
    for (;;) {
      const p = await gql(cp.url, 'query($after: String) { runs(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } }', { after: cursor });
      all.push(...p.data?.runs.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!p.data?.runs.pageInfo.hasNextPage) break;
      cursor = p.data?.runs.pageInfo.endCursor;
    }
    assert.equal(all.length, total);
    assert.equal(new Set(all).size, total);
    // metricCount over a page is batched into one query; each run still gets its own count.
    const counted = await gql(cp.url, '{ runs(first: 100) { edges { node { id metricCount } } } }');
    const counts = counted.data?.runs.edges.map((e: { node: { id: string; metricCount: number } }) => [e.node.id, e.node.metricCount]);
    assert.deepEqual(counts, await Promise.all(all.map(async (id) => [id, await cp.store.metricCount(id)])));
    assert.ok(counts.some((c: Array<string | number>) => Number(c[1]) > 0), 'some run has metrics');
    const badCursor = await gql(cp.url, '{ runs(after: "garbage") { totalCount } }');
    assert.match(badCursor.errors?.[0]?.message ?? '', /after: "garbage" is not a cursor returned by this server/);

    const long = (await gql(cp.url, 'mutation { startSftRun(input: { dataset: { id: "demo" }, hyper: { steps: 500 } }) { id } }')).data?.startSftRun.id;
    await waitFor(async () => (await cp.store.metricCount(long)) > 2, 'the long run to report');
    const cancelled = await gql(cp.url, `mutation { cancelRun(id: "${long}") { status statusMessage } }`);
    assert.deepEqual(cancelled.data?.cancelRun, { status: 'CANCELLED', statusMessage: 'cancelled by cancelRun' });
    const again = await gql(cp.url, `mutation { cancelRun(id: "${long}") { status } }`);
    assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT');
    const resumed = await gql(cp.url, `mutation { resumeRun(id: "${long}") { status statusMessage } }`);
    assert.equal(resumed.data?.resumeRun.status, 'QUEUED');
    assert.match(resumed.data?.resumeRun.statusMessage, /resumed after CANCELLED \(attempt 2\)/);
    await waitFor(async () => (await cp.store.getRun(long))?.status === RunStatus.Running, 'resumed run to start');
    await gql(cp.url, `mutation { cancelRun(id: "${long}") { status } }`);
    const missing = await gql(cp.url, 'mutation { resumeRun(id: "nope") { id } }');
    assert.equal(missing.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });

  test('query depth and cost limits, body size limit, methods and content types are enforced at the edge', async () => {
    const deep = await gql(cp.url, '{ runs { edges { node { checkpoints { step } evaluation { overall { mean } perTask { task } } } } } }');
    assert.equal(deep.errors, undefined, 'a normal query passes');
    const costly = await gql(cp.url, '{ runs(first: 100) { edges { node { metrics(downsample: 100000) { step values } } } } }');
    assert.equal(costly.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.equal(costly.errors?.[0]?.extensions?.limit, 'cost');
    // The same numbers given as variables are costed the same.
    const viaVariables = await gql(cp.url, 'query($n: Int, $d: Int) { runs(first: $n) { edges { node { metrics(downsample: $d) { step values } } } } }', { n: 100, d: 100000 });
    assert.equal(viaVariables.status, 400);
    assert.equal(viaVariables.errors?.[0]?.extensions?.limit, 'cost');
    // metrics without downsample is bounded (2,000 points) and costed so: a page of 100 runs' full metrics is refused.
    const unbounded = await gql(cp.url, '{ runs(first: 100) { edges { node { metrics { step values } } } } }');
    assert.equal(unbounded.errors?.[0]?.extensions?.limit, 'cost');
    const anyRun = (await gql(cp.url, '{ runs(first: 1) { edges { node { id } } } }')).data?.runs.edges[0].node.id;
    const tooMany = await gql(cp.url, `{ run(id: "${anyRun}") { metrics(downsample: 20000) { step } } }`);
    assert.match(tooMany.errors?.[0]?.message ?? '', /downsample: 20000 is not in \[1, 10000\]/);
    // Introspection is costed: many aliased __schema selections are refused, one passes.
    const one = await gql(cp.url, '{ __schema { types { name fields { name } } } }');
    assert.equal(one.errors, undefined);
    const aliased = await gql(cp.url, `{ ${Array.from({ length: 200 }, (_, i) => `s${i}: __schema { types { name fields { name } } }`).join(' ')} }`);
    assert.equal(aliased.errors?.[0]?.extensions?.limit, 'cost');
    const nested = 'query { runs { edges { node { evaluation { overall { mean } } } } } }';
    const tightDir = await freshDataDir();
    const tight = await startControlPlane({ port: 0, dataDir: tightDir, runCli: FIXTURE_CLI, logLevel: 'silent', limits: { maxDepth: 4, maxBodyBytes: 2048 } }, { registry: testRegistry() });
    try {
      const tooDeep = await gql(tight.url, nested);
      assert.equal(tooDeep.status, 400);
      assert.equal(tooDeep.errors?.[0]?.extensions?.limit, 'depth');
      assert.match(tooDeep.errors![0]!.message, /Query depth 6 exceeds the limit of 4/);
      const big = await fetch(tight.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ runs { totalCount } } # ${'x'.repeat(5000)}` }) });
      assert.equal(big.status, 413);
      assert.equal(((await big.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code, 'PAYLOAD_TOO_LARGE');
    } finally {
      await tight.close();
      rmSync(tightDir, { recursive: true, force: true });
    }
    const put = await fetch(cp.url, { method: 'PUT' });
    assert.equal(put.status, 405);
    const form = await fetch(cp.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{ runs { totalCount } }' });
    assert.equal(form.status, 415);
    const broken = await fetch(cp.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{ "query": ' });
    assert.equal(broken.status, 400);
    const getMutation = await fetch(`${cp.url}?query=${encodeURIComponent('mutation { cancelRun(id: "x") { id } }')}`, { headers: { 'apollo-require-preflight': 'true' } });
    assert.equal(getMutation.status, 405, 'mutations are refused over GET');
    const health = await fetch(cp.url.replace('/graphql', '/healthz'));
    assert.equal(health.status, 200);
    assert.deepEqual(Object.keys((await health.json()) as object), ['ok', 'database', 'activeRuns', 'subscriptions']);
  });
});
