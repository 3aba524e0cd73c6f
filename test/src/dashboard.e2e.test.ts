/**
 * The dashboard (apps/dashboard, built by `npm run build` into apps/dashboard/dist) in real
 * Chromium against a real `medad serve` that runs the real `medad` CLI on the tiny preset:
 * a dataset, an SFT and a Con-GRPO run started from the forms (a bad field shows the server's
 * message at that field), the reward chart gaining points as metrics arrive, a completion opened
 * in the viewer, an evaluation's per-task table, two evaluations compared with paired intervals,
 * a reproduce results.json rendered, cancel and resume, axe-core, and screenshots at 1280×800 and
 * 390×844 in test/artifacts/. A second server requires tokens: the page asks for one, a viewer
 * cannot start runs. Every page must log no console errors and throw no page errors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { freshDataDir, gql, waitFor } from '@medad/server/testing';
import { ROOT, startServerProcess, type ServerProcess } from './harness.js';

const CHROMIUM = '/usr/bin/chromium';
const DIST = join(ROOT, 'apps/dashboard/dist/index.html');
const skip = !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM}` : !existsSync(DIST) ? 'the dashboard is not built (npm run build)' : false;
const ARTIFACTS = join(ROOT, 'test/artifacts');
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const OPERATOR = 'dashboard-operator-token-0001';
const VIEWER = 'dashboard-viewer-token-00001';
const GRPO_STEPS = 12;
// Enough for the tiny model to learn the <think>…</think><answer>…</answer> form (training.e2e: 400 steps learn the answers too).
const SFT_STEPS = 400;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API JSON
type Json = any;

let browser: Browser;

before(async () => {
  if (skip) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});
after(async () => {
  await browser?.close();
});

/** A browser context on the dashboard, recording console errors and page errors (`allowed` ones apart). */
async function openDashboard(url: string, allowed?: RegExp): Promise<{ context: BrowserContext; page: Page; problems: string[]; allowedSeen: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const problems: string[] = [];
  const allowedSeen: string[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (allowed?.test(m.text())) allowedSeen.push(m.text());
    else problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url);
  return { context, page, problems, allowedSeen };
}

/** Waits until the run page shows one of `statuses`; returns it. */
async function detailStatus(page: Page, statuses: string[], timeout = 180_000): Promise<string> {
  const h = await page.waitForFunction((wanted) => {
    const s = document.querySelector('#run-detail')?.getAttribute('data-status');
    return s && wanted.includes(s) ? s : false;
  }, statuses, { timeout });
  return (await h.jsonValue()) as string;
}

/** Types values into the open form's fields (`hyper-steps` → `#f-input-hyper-steps`). */
async function fill(page: Page, fields: Record<string, string | number>): Promise<void> {
  for (const [field, value] of Object.entries(fields)) await page.fill(`#f-input-${field}`, String(value));
}

/** Submits the open form and returns the id of the run it started (the page moves to `#/run/<id>`). */
async function submitForm(page: Page): Promise<string> {
  await page.click('#start-submit');
  await page.waitForFunction(() => /^#\/run\/[^/]+/.test(location.hash));
  return decodeURIComponent(/^#\/run\/([^/]+)/.exec(await page.evaluate(() => location.hash))![1]!);
}

/** axe-core on the page as it is: the serious and critical violations (none expected). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE); // evaluated over the DevTools protocol: the page's CSP does not apply
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- axe's global
    const axe = (globalThis as any).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v: Json) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n: Json) => n.target.join(' ')).slice(0, 3) }));
  });
  return (result as Array<{ id: string; impact: string; nodes: string[] }>).filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.join(', ')}`);
}

/** Nothing wider than the viewport, and no table cell that cuts its content. */
async function clipped(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    if (document.documentElement.scrollWidth > innerWidth + 1) out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${innerWidth}`);
    for (const td of Array.from(document.querySelectorAll('#runs td'))) {
      const el = td as HTMLElement;
      if (el.scrollWidth > el.clientWidth + 1) out.push(`cell "${el.textContent}" of ${el.clientWidth}px holds ${el.scrollWidth}px`);
    }
    return out;
  });
}

describe('dashboard in Chromium — a real control plane and the tiny preset', { skip }, () => {
  let server: ServerProcess;
  let dataDir: string;
  let page: Page;
  let context: BrowserContext;
  let problems: string[];
  let dataset = '';
  let sft = '';
  let grpo = '';
  let evalSft = '';
  let evalGrpo = '';
  const api = async (query: string, variables?: Record<string, unknown>): Promise<Json> => {
    const r = await gql(server.url, query, variables);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data;
  };
  const base = (): string => server.url.replace(/graphql$/, '');

  before(async () => {
    dataDir = await freshDataDir('medad-dashboard-');
    server = await startServerProcess(dataDir);
    ({ page, context, problems } = await openDashboard(base()));
  });
  after(async () => {
    await context?.close();
    if (server) assert.equal(await server.stop(), 0, server.output());
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('builds a dataset from the form: a bad name shows the server message at its field, a good one starts the run', async () => {
    await page.goto(`${base()}#/start/dataset`);
    await page.fill('#f-input-name', 'Bad Name!');
    await page.click('#start-submit');
    const error = await page.locator('#f-input-name-error').textContent();
    assert.match(error!, /must be 1-64 characters/);
    assert.equal(await page.getAttribute('#f-input-name', 'aria-invalid'), 'true');
    await page.fill('#f-input-name', 'e2e');
    await page.fill('#f-input-samples', '80');
    await page.fill('#f-input-seed', '3');
    await page.selectOption('#f-input-zoom', 'true'); // MedReason-R1 local zoom: the viewer draws crop and inset
    dataset = await submitForm(page);
    assert.equal(await detailStatus(page, ['SUCCEEDED', 'FAILED']), 'SUCCEEDED');
    assert.match(JSON.stringify((await api(`{ run(id: "${dataset}") { config } }`)).run.config), /"samples":80\b/);
  });

  test('starts a small SFT from the form (hyper fields from the run spec schema); its curves and held-out table fill', async () => {
    await page.goto(`${base()}#/start/sft`);
    await page.selectOption('#f-input-dataset', 'id:e2e');
    await page.selectOption('#f-input-backbone-config-preset', 'tiny');
    await page.fill('#f-input-hyper-steps', '0');
    await page.click('#start-submit');
    assert.match((await page.locator('#f-input-hyper-steps-error').textContent())!, /(≥|>=|at least|too small).*1/i);
    await fill(page, { 'hyper-steps': SFT_STEPS, 'hyper-batchSize': 16, 'hyper-lr': 0.003, 'hyper-saveEvery': 100, 'hyper-evalEvery': 0, 'hyper-evalSamples': 10, seed: 5 });
    sft = await submitForm(page);
    const spec = (await api(`{ run(id: "${sft}") { config } }`)).run.config;
    assert.deepEqual([spec.hyper.steps, spec.hyper.batchSize, spec.hyper.lr, spec.seed, spec.backbone.config.preset], [SFT_STEPS, 16, 0.003, 5, 'tiny']);
    assert.equal(spec.hyper.warmupSteps, 50, 'fields left empty take the spec defaults');
    assert.equal(await detailStatus(page, ['SUCCEEDED', 'FAILED']), 'SUCCEEDED');
    await page.waitForFunction(() => Number(document.querySelector('figure[data-series="loss"]')?.getAttribute('data-points')) >= 1);
    const count = (await api(`{ run(id: "${sft}") { metricCount } }`)).run.metricCount;
    await page.waitForFunction((n) => Number(document.getElementById('charts')?.dataset.points) === n, count);
    assert.equal(await page.locator('#held-out tbody tr[data-task]').count(), 5, 'held-out accuracy for each task');
    // uPlot draws axes with ticks and a legend that reads values.
    assert.ok((await page.locator('figure[data-series="loss"] .u-axis').count()) >= 2);
    assert.ok((await page.locator('figure[data-series="loss"] .u-legend').count()) === 1);
  });

  test('starts a Con-GRPO run from the form; the reward chart gains points while it runs; a completion opens in the viewer', async () => {
    await page.goto(`${base()}#/start/con-grpo`);
    await page.selectOption('#f-input-dataset', 'id:e2e');
    await page.selectOption('#f-input-from', sft);
    await fill(page, { 'hyper-steps': GRPO_STEPS, 'hyper-promptsPerStep': 4, 'hyper-groupSize': 8, 'hyper-saveEvery': 6, 'hyper-evalEvery': 0, 'hyper-evalSamples': 0, 'hyper-logCompletions': 2, seed: 5 });
    grpo = await submitForm(page);
    // The reward chart as metrics arrive: a first point, then more while the run is still running.
    const first = Number(await (await page.waitForFunction(() => {
      const n = Number(document.querySelector('figure[data-series="reward"]')?.getAttribute('data-points'));
      return n >= 1 ? n : false;
    }, undefined, { timeout: 180_000 })).jsonValue());
    assert.ok(first < GRPO_STEPS, `the chart showed ${first} points before the run ended`);
    await page.screenshot({ path: join(ARTIFACTS, 'con-grpo-live-1280x800.png'), fullPage: true });
    assert.equal(await detailStatus(page, ['SUCCEEDED', 'FAILED']), 'SUCCEEDED');
    await page.waitForFunction((n) => Number(document.querySelector('figure[data-series="reward"]')?.getAttribute('data-points')) === n, GRPO_STEPS);
    for (const series of ['loss', 'kl', 'accuracy', 'consistency', 'format', 'length', 'zero-variance', 'time']) assert.equal(await page.locator(`figure[data-series="${series}"]`).count(), 1, `a ${series} chart`);

    await page.click('#tab-completions');
    assert.equal((await api(`{ run(id: "${grpo}") { completions { totalCount } } }`)).run.completions.totalCount, GRPO_STEPS * 2 * 8, '2 groups of 8 logged per step');
    // The viewer opens at the run's latest step.
    await page.waitForFunction((n) => (document.getElementById('viewer-step') as HTMLInputElement | null)?.value === String(n), GRPO_STEPS);
    await page.fill('#viewer-step', String(GRPO_STEPS));
    await page.press('#viewer-step', 'Enter');
    const logged = (await api(`{ run(id: "${grpo}") { completions(step: ${GRPO_STEPS}) { totalCount edges { node { parsed answer } } } } }`)).run.completions;
    assert.equal(logged.totalCount, 16, 'the last step: 2 groups of 8');
    await page
      .waitForFunction((n) => Number(document.getElementById('viewer-count')?.dataset.count) === n, logged.totalCount, { timeout: 15_000 })
      .catch(async (err: Error) => assert.fail(`${err.message}: the viewer says "${await page.textContent('#viewer')}"`));
    // Open one with a think block (the viewer lists them in the API's order).
    const nodes = (await api(`{ run(id: "${grpo}") { completions(step: ${GRPO_STEPS}) { edges { node { sampleId think parsed judgeDeduction } } } } }`)).run.completions.edges.map((e: Json) => e.node);
    const at = Math.max(0, nodes.findIndex((n: Json) => n.think));
    assert.ok(nodes[at].think, `the SFT policy writes a think block: ${JSON.stringify(nodes[0])}`);
    await page.locator('.items .item').nth(at).click();
    await page.waitForFunction(() => ((document.getElementById('sample-image') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0);
    assert.equal(await page.getAttribute('#item-detail', 'data-sample-id'), nodes[at].sampleId);
    assert.equal((await page.textContent('#item-think'))!.trim(), nodes[at].think);
    assert.equal((await page.textContent('#item-answer'))!.trim(), nodes[at].parsed ?? '— (none parsed)');
    assert.equal((await page.textContent('#item-judge'))!.trim(), nodes[at].judgeDeduction ?? '— (none)');
    const terms = await page.$$eval('#reward-breakdown tbody th', (ths) => ths.map((t) => t.textContent));
    for (const t of ['format', 'accuracy', 'consistency', 'Weighted reward', 'Advantage']) assert.ok(terms.includes(t), `${t} in ${terms}`);
    await page.screenshot({ path: join(ARTIFACTS, 'completion-1280x800.png'), fullPage: true });
    // Only the incorrect ones.
    await page.selectOption('#viewer-correct', 'false');
    const wrong = logged.edges.filter((e: Json) => e.node.parsed !== e.node.answer).length;
    await page.waitForFunction((n) => Number(document.getElementById('viewer-count')?.dataset.count) === n, wrong);
    assert.equal(await page.locator('.items .item[data-correct="true"]').count(), 0);
  });

  test("evaluations: one from the form; the per-task table matches the API's", async () => {
    await page.goto(`${base()}#/start/eval`);
    await page.selectOption('#f-input-dataset', 'id:e2e');
    await page.selectOption('#f-input-checkpoint', grpo);
    await page.fill('#f-input-seeds', '[1, 2]');
    await page.fill('#f-input-limit', '16');
    evalGrpo = await submitForm(page);
    evalSft = (await api(`mutation { startEvaluation(input: { dataset: { id: "e2e" }, checkpoint: { fromRun: "${sft}" }, seeds: [1, 2], limit: 16 }) { id } }`)).startEvaluation.id;
    assert.equal(await detailStatus(page, ['SUCCEEDED', 'FAILED']), 'SUCCEEDED');
    await waitFor(async () => (await api(`{ run(id: "${evalSft}") { status } }`)).run.status === 'SUCCEEDED' || undefined, 'the SFT evaluation', 180_000, 200);
    const e = (await api(`{ run(id: "${evalGrpo}") { evaluation { overall { mean std } perTask { task mean std } } } }`)).run.evaluation;
    await page.locator('#evaluation').waitFor();
    const rows = await page.$$eval('#evaluation tbody tr[data-task]', (trs) => trs.map((tr) => [tr.getAttribute('data-task'), tr.querySelector('td')!.textContent]));
    const fmt = (s: Json): string => `${s.mean.toFixed(2)}${s.std != null ? ` ± ${s.std.toFixed(2)}` : ''}`;
    assert.deepEqual(rows, [...e.perTask.map((t: Json) => [t.task, fmt(t)]), ['overall', fmt(e.overall)]]);
    await page.click('#tab-predictions');
    await page.waitForFunction(() => Number(document.getElementById('viewer-count')?.dataset.count) === 32);
    // A localization question: the image carries the lesion box, the zoom crop and inset, and the region the model picked.
    await page.selectOption('#viewer-task', 'lesion_localization');
    const local = (await api(`{ run(id: "${evalGrpo}") { predictions(task: "lesion_localization", first: 1) { totalCount edges { node { id parsed options annotations } } } } }`)).run.predictions;
    assert.ok(local.totalCount > 0, 'the first 16 test questions include a localization one');
    await page.waitForFunction((n) => Number(document.getElementById('viewer-count')?.dataset.count) === n, local.totalCount);
    await page.locator('.items .item').first().click();
    await page.locator('#sample-image').waitFor();
    const node = local.edges[0].node;
    assert.ok(node.annotations?.bbox && node.annotations?.inset && node.annotations?.crop, JSON.stringify(node.annotations));
    await page.locator('.overlay rect[data-kind="lesion"]').waitFor();
    const drawn = await page.$$eval('.overlay rect', (rs) => rs.map((r) => [r.getAttribute('data-kind'), ...['x', 'y', 'width', 'height'].map((k) => Number(r.getAttribute(k)))]));
    const b = node.annotations.bbox;
    assert.deepEqual(drawn.find((d) => d[0] === 'lesion'), ['lesion', b.x, b.y, b.width, b.height]);
    assert.ok(drawn.some((d) => d[0] === 'inset') && drawn.some((d) => d[0] === 'crop'));
    const picked = node.parsed ? node.options['ABCD'.indexOf(node.parsed)] : undefined;
    assert.equal(drawn.some((d) => d[0] === 'predicted'), ['Left Upper', 'Right Upper', 'Left Lower', 'Right Lower', 'Center'].includes(picked), `model picked ${picked}`);
    await page.screenshot({ path: join(ARTIFACTS, 'prediction-zoom-1280x800.png'), fullPage: true });
  });

  test('compares two evaluations (paired intervals from the server) and overlays training curves', async () => {
    await page.goto(`${base()}#/runs`);
    for (const id of [evalSft, evalGrpo, sft, grpo]) await page.locator(`#runs tr[data-run-id="${id}"] input[type=checkbox]`).check();
    await page.click('#compare-selected');
    await page.locator('#compare-evaluations').waitFor();
    const d = (await api(`{ run(id: "${evalGrpo}") { differenceFrom(baseline: "${evalSft}") { task mean ci95 significant } } }`)).run.differenceFrom;
    const overall = d.find((x: Json) => x.task === 'overall');
    const cells = await page.$$eval('#compare-evaluations tr[data-task="overall"] td', (tds) => tds.map((t) => t.textContent));
    const s = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
    assert.equal(cells[2], `${s(overall.mean)} [${s(overall.ci95[0])}, ${s(overall.ci95[1])}]${overall.significant ? '' : ' tie'}`);
    // The other evaluation as the baseline: the Δ column moves and reads the reversed difference.
    await page.selectOption('#compare-baseline', evalGrpo);
    const back = (await api(`{ run(id: "${evalSft}") { differenceFrom(baseline: "${evalGrpo}") { task mean ci95 significant } } }`)).run.differenceFrom.find((x: Json) => x.task === 'overall');
    const expected = `${s(back.mean)} [${s(back.ci95[0])}, ${s(back.ci95[1])}]${back.significant ? '' : ' tie'}`;
    await page.waitForFunction((want) => document.querySelectorAll('#compare-evaluations tr[data-task="overall"] td')[1]?.textContent === want, expected);
    const rewardSeries = await page.$$eval('figure[data-series="compare-reward_mean"] .u-legend .u-series', (els) => els.length);
    assert.equal(rewardSeries, 2, 'step + the Con-GRPO run');
    assert.ok((await page.locator('figure[data-series="compare-loss"] .u-legend .u-series').count()) === 3, 'step + both training runs on one loss chart');
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: join(ARTIFACTS, 'compare-1280x800.png'), fullPage: true });
  });

  test('renders a reproduce results.json as the paper tables', async () => {
    const file = join(ROOT, 'docs/results/quick/results.json');
    const results = JSON.parse(readFileSync(file, 'utf8'));
    await page.goto(`${base()}#/results`);
    await page.setInputFiles('#results-file', file);
    await page.locator('#results-table1').waitFor();
    const methods = await page.$$eval('#results-table1 tr[data-method]', (trs) => trs.map((t) => t.getAttribute('data-method')));
    assert.deepEqual(methods, results.methods.filter((m: Json) => m.table === 'table1').map((m: Json) => m.id));
    assert.deepEqual(await axeViolations(page), []);
  });

  test('cancel and resume from the run page', async () => {
    const long = (await api(`mutation { startSftRun(input: { dataset: { id: "e2e" }, backbone: { plugin: "tfjs-vlm", config: { preset: "tiny" } }, hyper: { steps: 100000, batchSize: 4, saveEvery: 100000 } }) { id } }`)).startSftRun.id;
    await page.goto(`${base()}#/run/${long}`);
    await detailStatus(page, ['RUNNING'], 60_000);
    await page.click('#cancel-run');
    assert.equal(await detailStatus(page, ['CANCELLED'], 60_000), 'CANCELLED');
    await page.click('#resume-run');
    await detailStatus(page, ['QUEUED', 'RUNNING'], 60_000);
    await api(`mutation { cancelRun(id: "${long}") { id } }`);
    assert.equal(await detailStatus(page, ['CANCELLED'], 60_000), 'CANCELLED');
  });

  test('runs list: every run, nothing clipped at 1280×800 or 390×844; axe finds nothing serious on any view; screenshots', async () => {
    await page.goto(`${base()}#/runs`);
    const list = (await api('{ runs(first: 50) { totalCount edges { node { id status } } } }')).runs;
    await page.waitForFunction((n) => document.querySelectorAll('#runs tbody tr').length === n, list.totalCount);
    const shown = await page.$$eval('#runs tbody tr', (trs) => trs.map((t) => [t.getAttribute('data-run-id'), t.getAttribute('data-status')]));
    assert.deepEqual(shown, list.edges.map((e: Json) => [e.node.id, e.node.status]), 'newest first, as the API orders them');
    await page.fill('#run-search', 'e2e');
    await page.waitForFunction(() => document.querySelectorAll('#runs tbody tr').length < 8);
    await page.fill('#run-search', '');
    await page.selectOption('#run-kind', 'EVAL');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#runs tbody tr')).every((t) => t.getAttribute('data-kind') === 'EVAL') && document.querySelectorAll('#runs tbody tr').length === 2);
    await page.selectOption('#run-kind', '');
    await page.waitForFunction((n) => document.querySelectorAll('#runs tbody tr').length === n, list.totalCount);
    for (const [w, h] of [[1280, 800], [390, 844]] as const) {
      await page.setViewportSize({ width: w, height: h });
      await page.waitForTimeout(200);
      assert.deepEqual(await clipped(page), [], `runs at ${w}×${h}`);
      await page.screenshot({ path: join(ARTIFACTS, `runs-${w}x${h}.png`), fullPage: true });
      await page.goto(`${base()}#/run/${grpo}`);
      await page.locator('figure[data-series="reward"]').waitFor();
      assert.deepEqual(await clipped(page), [], `run detail at ${w}×${h}`);
      await page.screenshot({ path: join(ARTIFACTS, `run-${w}x${h}.png`), fullPage: true });
      await page.goto(`${base()}#/runs`);
      await page.waitForFunction((n) => document.querySelectorAll('#runs tbody tr').length === n, list.totalCount);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    for (const view of ['#/runs', `#/run/${grpo}`, `#/run/${grpo}/completions`, `#/run/${evalGrpo}/evaluation`, `#/run/${evalGrpo}/predictions`, '#/start/sft', '#/start/con-grpo', '#/start/eval']) {
      await page.goto(`${base()}${view}`);
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(300);
      assert.deepEqual(await axeViolations(page), [], view);
    }
    // Keyboard: the skip link and the first run link are reachable with Tab.
    await page.goto(`${base()}#/runs`);
    await page.reload();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
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

  test('the page asks for a token; a viewer token lists runs but cannot start one; the token is kept for the session', async () => {
    dataDir = await freshDataDir('medad-dashboard-auth-');
    server = await startServerProcess(dataDir, { MEDAD_API_TOKENS: `${OPERATOR}:operator,${VIEWER}:viewer` });
    const ds = await gql(server.url, 'mutation { buildDataset(input: { name: "auth", samples: 20, seed: 1 }) { id } }', undefined, OPERATOR);
    assert.equal(ds.errors, undefined, JSON.stringify(ds.errors));
    // The browser itself reports refused requests (401 without a token, 403 for a viewer's mutation).
    const opened = await openDashboard(server.url.replace(/graphql$/, ''), /^Failed to load resource: the server responded with a status of 40[13]\b/);
    context = opened.context;
    const { page, problems, allowedSeen } = opened;
    await page.locator('#token-needed').waitFor();
    assert.equal(await page.locator('#runs tbody tr').count(), 0, 'no runs without a token');

    await page.fill('#api-token', VIEWER);
    await page.press('#api-token', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('#runs tbody tr').length === 1);
    await page.waitForFunction(() => document.getElementById('socket-state')?.dataset.state === 'connected');
    assert.equal(await page.locator('#token-needed').count(), 0);

    await page.goto(`${server.url.replace(/graphql$/, '')}#/start/dataset`);
    await page.fill('#f-input-name', 'viewer');
    await page.click('#start-submit');
    await page.waitForFunction(() => /operator/.test(document.getElementById('error')?.textContent ?? ''));
    assert.equal((await gql(server.url, '{ runs { totalCount } }', undefined, OPERATOR)).data?.runs.totalCount, 1, "the viewer's start changed nothing");

    await page.reload();
    assert.equal(await page.inputValue('#api-token'), VIEWER, 'the token is kept for the session');
    await page.goto(`${server.url.replace(/graphql$/, '')}#/runs`);
    await page.waitForFunction(() => document.querySelectorAll('#runs tbody tr').length === 1);
    assert.deepEqual(problems, []);
    assert.ok(allowedSeen.some((m) => / 401 /.test(m)), `the unauthenticated request was refused with 401 (${allowedSeen.join(' | ')})`);
  });
});
