/**
 * The dashboard (apps/dashboard/public) in real Chromium against a `medad serve` process that
 * runs the TEST FIXTURE CLI (fast stand-in runs that honour the child-command contract): the
 * runs table against the API, a training curve that grows while an SFT run runs and ends at its
 * step count, an evaluation's per-task table, cancel and resume from the page, and the token
 * flow. Every page must log no console errors and throw no page errors.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { FIXTURE_CLI, freshDataDir, gql, waitFor } from '@medad/server/testing';
import { startServerProcess, type ServerProcess } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM}`;
const FIXTURE_ENV = {
  MEDAD_RUN_CLI: FIXTURE_CLI,
  MEDAD_PLUGIN_MODULES: fileURLToPath(new URL('./test-plugins.js', import.meta.resolve('@medad/server/testing'))),
  // Slow enough that a browser sees a 50-step run progress (about 3 s), fast enough for CI.
  MEDAD_FIXTURE_STEP_MS: '60',
};
const BACKBONE = '{ plugin: "fixture-backbone" }';
const SFT_STEPS = 50;
const LONG_STEPS = 5000;
const OPERATOR = 'dashboard-operator-token-0001';
const VIEWER = 'dashboard-viewer-token-00001';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Json = any;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dashboardUrl = (server: ServerProcess): string => server.url.replace(/graphql$/, '');

let browser: Browser;

before(async () => {
  if (skip) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});
after(async () => {
  await browser?.close();
});

/** A fresh browser context on the dashboard, recording console errors and page errors. */
async function openDashboard(server: ServerProcess, allowed?: RegExp): Promise<{ context: BrowserContext; page: Page; problems: string[]; allowedSeen: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  const allowedSeen: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (allowed?.test(m.text())) allowedSeen.push(m.text());
    else problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(dashboardUrl(server));
  return { context, page, problems, allowedSeen };
}

const row = (page: Page, id: string) => page.locator(`#runs tbody tr[data-run-id="${id}"]`);

/** Waits until the runs table shows `id` with `status` (no reload: live updates or polling). */
async function waitRowStatus(page: Page, id: string, statuses: string[], timeout = 20_000): Promise<string> {
  const handle = await page.waitForFunction(
    ([runId, wanted]) => {
      const s = document.querySelector(`#runs tbody tr[data-run-id="${CSS.escape(runId as string)}"]`)?.getAttribute('data-status');
      return s && (wanted as string[]).includes(s) ? s : false;
    },
    [id, statuses] as const,
    { timeout },
  );
  return (await handle.jsonValue()) as string;
}

/** The runs table as the page shows it: id → [kind, status text, steps, backend]. */
async function tableRows(page: Page): Promise<Record<string, string[]>> {
  return page.$$eval('#runs tbody tr', (trs) =>
    Object.fromEntries(trs.map((tr) => [(tr as HTMLElement).dataset.runId!, [1, 2, 3, 4].map((i) => (tr as HTMLTableRowElement).cells[i]!.textContent!.trim())])),
  );
}

describe('dashboard in Chromium — fixture CLI server', { skip }, () => {
  let server: ServerProcess;
  let dataDir: string;
  let datasetRun = '';
  let judge = 'rule';
  let page: Page;
  let context: BrowserContext;
  let problems: string[];
  let sftRun = '';

  const api = (query: string, variables?: Record<string, unknown>) => gql(server.url, query, variables);
  const apiRun = async (id: string, fields = 'status statusMessage attempts metricCount'): Promise<Json> => (await api(`query($id: ID!) { run(id: $id) { ${fields} } }`, { id })).data?.run;
  const until = (id: string, statuses: string[], what: string) =>
    waitFor(async () => {
      const r = await apiRun(id);
      return statuses.includes(r?.status) ? r : undefined;
    }, what, 20_000, 50);
  const startSft = async (steps: number): Promise<string> => {
    const r = await api(`mutation { startSftRun(input: { dataset: { fromRun: "${datasetRun}" }, backbone: ${BACKBONE}, seed: 5, hyper: { steps: ${steps}, batchSize: 4, saveEvery: 10 } }) { id } }`);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!.startSftRun.id;
  };

  before(async () => {
    dataDir = await freshDataDir('medad-dashboard-');
    server = await startServerProcess(dataDir, FIXTURE_ENV);
    const judges = (await api('{ plugins(kind: JUDGE) { id } }')).data?.plugins.map((p: { id: string }) => p.id) as string[];
    assert.ok(judges.length, 'no judge plugin is built; run `npm run build` at the root');
    judge = judges.includes('rule') ? 'rule' : judges[0]!;
    const ds = await api('mutation { buildDataset(input: { name: "dashboard", samples: 40, seed: 3 }) { id } }');
    assert.equal(ds.errors, undefined, JSON.stringify(ds.errors));
    datasetRun = ds.data!.buildDataset.id;
    const built = await until(datasetRun, ['SUCCEEDED', 'FAILED'], 'the dataset build');
    assert.equal(built.status, 'SUCCEEDED', built.statusMessage);
    ({ page, context, problems } = await openDashboard(server));
  });
  after(async () => {
    await context?.close();
    if (server) {
      const code = await server.stop();
      assert.equal(code, 0, `graceful shutdown exits 0; output:\n${server.output()}`);
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('the runs table lists the runs with the status, kind and step count the API reports', async () => {
    await waitRowStatus(page, datasetRun, ['SUCCEEDED']);
    const api1 = (await api('{ runs(first: 50) { totalCount edges { node { id kind status metricCount } } } }')).data!.runs;
    const rows = await tableRows(page);
    assert.equal(Object.keys(rows).length, api1.totalCount);
    for (const { node } of api1.edges) assert.deepEqual(rows[node.id]!.slice(0, 3), [node.kind, node.status, String(node.metricCount)], node.id);
    assert.equal(await page.textContent('#run-count'), `(${api1.totalCount})`);
    assert.equal(await page.getAttribute(`#runs tbody tr[data-run-id="${datasetRun}"] .pill`, 'class'), 'pill status-SUCCEEDED');
    assert.equal(await page.getAttribute('#connection', 'data-state'), 'live', 'the graphql-ws connection is acknowledged');
    assert.equal(await page.textContent('#error'), '');
  });

  test("an SFT run's chart grows while it runs and ends with one point per step", async () => {
    sftRun = await startSft(SFT_STEPS);
    // The new run appears without a reload (runStatus subscription), then a click opens it.
    await waitRowStatus(page, sftRun, ['QUEUED', 'RUNNING']);
    await row(page, sftRun).click();
    await page.locator('#charts figure.chart[data-series="loss"]').waitFor();

    const samples: Array<{ points: number; lastStep: number; status: string }> = [];
    const deadline = Date.now() + 25_000;
    for (;;) {
      const s = await page.evaluate(() => {
        const fig = document.querySelector('#charts figure.chart[data-series="loss"]');
        return {
          points: Number(fig?.getAttribute('data-points') ?? 0),
          lastStep: Number(fig?.getAttribute('data-last-step') ?? 0),
          status: document.getElementById('detail-status')?.dataset.status ?? '',
        };
      });
      samples.push(s);
      if (s.status === 'SUCCEEDED' && s.points === SFT_STEPS) break;
      assert.ok(Date.now() < deadline, `chart did not reach ${SFT_STEPS} points: ${JSON.stringify(samples.slice(-5))}`);
      await sleep(30);
    }
    for (let i = 1; i < samples.length; i++) assert.ok(samples[i]!.points >= samples[i - 1]!.points, 'the point count never drops');
    const whileRunning = new Set(samples.filter((s) => s.status === 'RUNNING' && s.points < SFT_STEPS).map((s) => s.points));
    assert.ok(whileRunning.size >= 3, `the chart grew while the run was RUNNING (saw ${[...whileRunning].join(', ')})`);
    assert.equal(samples.at(-1)!.lastStep, SFT_STEPS);
    assert.equal(await page.getAttribute('#charts', 'data-points'), String(SFT_STEPS));

    const done = await apiRun(sftRun, 'status metricCount checkpoints { step } metrics { step values }');
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(done.metricCount, SFT_STEPS);
    // The label shows the last stored loss value; the table row its final status and steps.
    const lastLoss = done.metrics.at(-1).values.loss as number;
    assert.equal(Number(await page.getAttribute('#charts figure.chart[data-series="loss"]', 'data-last')), lastLoss);
    await waitRowStatus(page, sftRun, ['SUCCEEDED']);
    await page.waitForFunction(([id, text]) => document.querySelector(`#runs tbody tr[data-run-id="${id}"] td.steps`)?.textContent === text, [sftRun, `${SFT_STEPS} / ${SFT_STEPS}`] as const);
    assert.deepEqual(
      await page.$$eval('#checkpoint-table tbody tr td:first-child', (tds) => tds.map((td) => Number(td.textContent))),
      done.checkpoints.map((c: { step: number }) => c.step),
    );
    assert.equal(await page.isHidden('#cancel-run'), true, 'no Cancel on a finished run');
    assert.equal(await page.isHidden('#resume-run'), true, 'no Resume on a SUCCEEDED run');

    // Series picking: unticking "reward" removes its chart; ticking it brings it back with every point.
    assert.deepEqual(await page.$$eval('#series-options input', (is) => is.map((i) => (i as HTMLInputElement).value).sort()), ['loss', 'reward']);
    await page.uncheck('#series-options input[value="reward"]');
    assert.equal(await page.locator('#charts figure.chart[data-series="reward"]').count(), 0);
    await page.check('#series-options input[value="reward"]');
    assert.equal(await page.getAttribute('#charts figure.chart[data-series="reward"]', 'data-points'), String(SFT_STEPS));
  });

  test('an evaluation run shows the per-task table (5 tasks), overall, consistency and format rate', async () => {
    const ev = await api(`mutation { startEvaluation(input: { dataset: { fromRun: "${datasetRun}" }, checkpoint: { fromRun: "${sftRun}" }, judge: { plugin: "${judge}" }, seeds: [1, 2], limit: 20 }) { id } }`);
    assert.equal(ev.errors, undefined, JSON.stringify(ev.errors));
    const evalId = ev.data!.startEvaluation.id as string;
    assert.equal(await waitRowStatus(page, evalId, ['SUCCEEDED', 'FAILED']), 'SUCCEEDED');
    await row(page, evalId).click();
    await page.waitForFunction(() => document.querySelectorAll('#eval-table tbody tr').length > 0);

    const e = (await apiRun(evalId, 'evaluation { overall { mean std } perTask { task mean std } consistency { mean std } formatRate { mean std } }')).evaluation;
    const score = (s: { mean: number; std: number }): string => `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)}`;
    const shown = await page.$$eval('#eval-table tbody tr', (trs) => trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent]));
    assert.equal(shown.length, 5);
    assert.deepEqual(shown, e.perTask.map((t: { task: string; mean: number; std: number }) => [t.task, score(t)]));
    assert.deepEqual(shown.map(([task]) => task), ['anatomy_identification', 'modality_classification', 'anomaly_detection', 'pathology_characterization', 'lesion_localization']);
    assert.equal(await page.textContent('#eval-overall'), score(e.overall));
    assert.equal(await page.textContent('#eval-consistency'), score(e.consistency));
    assert.equal(await page.textContent('#eval-format'), score(e.formatRate));
    assert.match((await page.textContent('#eval-table caption'))!, /seeds 1, 2/);
  });

  test('Cancel on a running run ends with CANCELLED in the table; Resume queues it again', async () => {
    const id = await startSft(LONG_STEPS);
    // Opened mid-run: the chart holds the stored history plus the live rows, with no step missing.
    const opened = await waitFor(async () => ((await apiRun(id)).metricCount >= 15 ? await apiRun(id) : undefined), 'the run to pass step 15', 20_000, 50);
    await waitRowStatus(page, id, ['RUNNING']);
    await row(page, id).click();
    const contiguous = await page.waitForFunction(
      (from) => {
        const fig = document.querySelector('#charts figure.chart[data-series="loss"]');
        const points = Number(fig?.getAttribute('data-points'));
        return points > from + 10 && points === Number(fig?.getAttribute('data-last-step')) ? points : false;
      },
      opened.metricCount as number,
      { timeout: 10_000 },
    );
    assert.ok(((await contiguous.jsonValue()) as number) > opened.metricCount + 10);
    await page.locator('#cancel-run').waitFor({ state: 'visible' });
    assert.equal(await page.isHidden('#resume-run'), true);
    await page.click('#cancel-run');
    await waitRowStatus(page, id, ['CANCELLED']);
    assert.equal((await apiRun(id)).status, 'CANCELLED');
    await page.waitForFunction(() => document.getElementById('detail-status')?.dataset.status === 'CANCELLED');
    await page.locator('#resume-run').waitFor({ state: 'visible' });
    assert.equal(await page.isHidden('#cancel-run'), true);

    await page.click('#resume-run');
    await waitRowStatus(page, id, ['QUEUED', 'RUNNING']);
    const resumed = await waitFor(async () => {
      const r = await apiRun(id);
      return r.status === 'RUNNING' && r.attempts === 2 ? r : undefined;
    }, 'the resumed attempt', 20_000, 50);
    assert.equal(resumed.attempts, 2);
    await page.locator('#cancel-run').waitFor({ state: 'visible' });
    await page.click('#cancel-run');
    await waitRowStatus(page, id, ['CANCELLED']);
    assert.equal((await apiRun(id)).status, 'CANCELLED');
    assert.equal(await page.textContent('#error'), '');
  });

  test('at the end the table matches the API for every run, and the page logged no errors', async () => {
    const list = (await api('{ runs(first: 50) { totalCount edges { node { id kind status } } } }')).data!.runs;
    await page.waitForFunction(
      (want) => want.every(([id, status]) => document.querySelector(`#runs tbody tr[data-run-id="${id}"]`)?.getAttribute('data-status') === status),
      list.edges.map((e: { node: { id: string; status: string } }) => [e.node.id, e.node.status]) as Array<[string, string]>,
    );
    const rows = await tableRows(page);
    assert.deepEqual(Object.keys(rows), list.edges.map((e: { node: { id: string } }) => e.node.id), 'newest first, as the API orders them');
    assert.equal(list.totalCount, 4, "dataset, SFT, evaluation, cancelled SFT");
    assert.deepEqual(problems, []);
  });
});

describe('dashboard in Chromium — a server that requires API tokens', { skip }, () => {
  let server: ServerProcess;
  let dataDir: string;
  let context: BrowserContext | undefined;

  after(async () => {
    await context?.close();
    if (server) assert.equal(await server.stop(), 0, server.output());
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('the page shows an auth error until a token is entered; a viewer cannot cancel, an operator can; the token is remembered', async () => {
    dataDir = await freshDataDir('medad-dashboard-auth-');
    server = await startServerProcess(dataDir, { ...FIXTURE_ENV, MEDAD_API_TOKENS: `${OPERATOR}:operator,${VIEWER}:viewer` });
    const api = (query: string) => gql(server.url, query, undefined, OPERATOR);
    const ds = await api('mutation { buildDataset(input: { name: "auth", samples: 20, seed: 1 }) { id } }');
    assert.equal(ds.errors, undefined, JSON.stringify(ds.errors));
    const sft = await api(`mutation { startSftRun(input: { dataset: { fromRun: "${ds.data!.buildDataset.id}" }, backbone: ${BACKBONE}, hyper: { steps: ${LONG_STEPS}, batchSize: 4, saveEvery: 10 } }) { id } }`);
    assert.equal(sft.errors, undefined, JSON.stringify(sft.errors));
    const sftId = sft.data!.startSftRun.id as string;
    await waitFor(async () => (await api(`{ run(id: "${sftId}") { status } }`)).data?.run.status === 'RUNNING', 'the SFT run to start', 20_000, 50);

    // The browser itself reports refused requests (401 without a token, 403 for a viewer's mutation).
    const opened = await openDashboard(server, /^Failed to load resource: the server responded with a status of 40[13]\b/);
    context = opened.context;
    const { page, problems, allowedSeen } = opened;

    await page.waitForFunction(() => /requires an API token/.test(document.getElementById('error')!.textContent!));
    assert.equal(await page.getAttribute('#connection', 'data-state'), 'auth');
    assert.equal(await page.locator('#runs tbody tr').count(), 0, 'no runs without a token');

    await page.fill('#token', VIEWER);
    await page.press('#token', 'Enter');
    await waitRowStatus(page, sftId, ['RUNNING']);
    assert.equal(await page.locator('#runs tbody tr').count(), 2);
    await page.waitForFunction(() => document.getElementById('connection')!.dataset.state === 'live');
    assert.equal(await page.textContent('#error'), '');

    await row(page, sftId).click();
    await page.locator('#cancel-run').waitFor({ state: 'visible' });
    await page.click('#cancel-run');
    await page.waitForFunction(() => /cancelRun failed: Mutations need the operator role/.test(document.getElementById('error')!.textContent!));
    assert.equal((await api(`{ run(id: "${sftId}") { status } }`)).data?.run.status, 'RUNNING', "the viewer's cancel changed nothing");

    await page.fill('#token', OPERATOR);
    await page.press('#token', 'Enter');
    await page.click('#cancel-run');
    await waitRowStatus(page, sftId, ['CANCELLED']);
    assert.equal((await api(`{ run(id: "${sftId}") { status } }`)).data?.run.status, 'CANCELLED');
    assert.equal(await page.textContent('#error'), '');

    await page.reload();
    await waitRowStatus(page, sftId, ['CANCELLED']);
    assert.equal(await page.inputValue('#token'), OPERATOR, 'the token is kept in localStorage');
    assert.equal(await page.textContent('#error'), '');

    assert.deepEqual(problems, []);
    assert.ok(allowedSeen.some((m) => / 401 /.test(m)), `the unauthenticated request was refused with 401 (${allowedSeen.join(' | ')})`);
  });
});
