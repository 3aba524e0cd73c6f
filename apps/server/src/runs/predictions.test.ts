import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RunStatus, type MedAdSample } from '@medad/core';
import { writePngFile, writeSamplesJsonl } from '@medad/dataset';
import { startControlPlane, type ControlPlane } from '../app.js';
import { RunKind } from '../domain.js';
import { parseTokens } from '../http/auth.js';
import { freshDataDir, gql, testRegistry } from '../testing/index.js';

describe("an evaluation's predictions through GraphQL", () => {
  let cp: ControlPlane;
  let dataDir: string;
  const tasks = ['modality_classification', 'pathology_characterization'] as const;
  before(async () => {
    dataDir = await freshDataDir();
    cp = await startControlPlane({ port: 0, dataDir, logLevel: 'silent' }, { registry: testRegistry() });
    const data = join(dataDir, 'datasets', 'p');
    mkdirSync(data, { recursive: true });
    const samples: MedAdSample[] = Array.from({ length: 6 }, (_, i) => ({
      id: `s${i}`, image: `images/s${i}.png`, modality: 'CT', anatomy: 'Lung', task: tasks[i % 2]!, question: `Question ${i}?`, options: ['CT', 'MRI', 'X-ray', 'OCT'], answer: 'A', cot: 'so the answer is CT (A).', source: 't', split: 'test',
      // s2: a lesion box and a local-zoom inset for the viewer to draw.
      ...(i === 2 ? { bbox: { x: 1, y: 0, width: 1, height: 1 }, meta: { zoom: { crop: { x: 0, y: 0, width: 2, height: 2 }, inset: { x: 0, y: 1, width: 1, height: 1 }, corner: 'bl' } } } : {}),
    }));
    writeSamplesJsonl(join(data, 'samples.jsonl'), samples);
    // A samples file edited by hand so that one image path leaves the dataset directory (the writer refuses it).
    writeFileSync(join(data, 'samples.jsonl'), readFileSync(join(data, 'samples.jsonl'), 'utf8').replace('"images/s5.png"', '"../secret.png"'));
    writePngFile(join(data, 'images', 's1.png'), { width: 2, height: 2, channels: 1, data: Uint8Array.of(0, 80, 160, 240) });
    writePngFile(join(dataDir, 'datasets', 'secret.png'), { width: 1, height: 1, channels: 1, data: Uint8Array.of(7) });
    const dir = join(dataDir, 'runs', 'eval-p');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ kind: 'eval', data }));
    const lines = samples.map((s, i) => ({
      id: s.id, task: s.task, answer: 'A', seed: 0, formatOk: true, thinkCorrect: i % 2 === 0,
      raw: `<think> finding ${i}, so the answer is (${i < 3 ? 'A' : 'B'}). </think> <answer> ${i < 3 ? 'A' : 'B'} </answer>`,
      parsed: i < 3 ? 'A' : 'B', correct: i < 3, judgeDeduction: i % 3 === 0 ? null : i < 3 ? 'A' : 'B', judgeDeductionKeep: i < 3 ? 'A' : 'B',
    }));
    writeFileSync(join(dir, 'predictions.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    await cp.store.createRun({ id: 'eval-p', kind: RunKind.Eval, config: {}, dir });
    await cp.store.setStatus('eval-p', RunStatus.Succeeded, null);
    // A second evaluation of the same questions that answers every one correctly.
    const dirB = join(dataDir, 'runs', 'eval-q');
    mkdirSync(dirB, { recursive: true });
    writeFileSync(join(dirB, 'spec.json'), JSON.stringify({ kind: 'eval', data }));
    writeFileSync(join(dirB, 'predictions.jsonl'), lines.map((l) => JSON.stringify({ ...l, parsed: 'A', correct: true })).join('\n') + '\n');
    await cp.store.createRun({ id: 'eval-q', kind: RunKind.Eval, config: {}, dir: dirB });
    // A Con-GRPO run's logged completions: 2 steps × G = 2, and a torn last line (killed mid-write).
    const grpo = join(dataDir, 'runs', 'grpo-p');
    mkdirSync(grpo, { recursive: true });
    writeFileSync(join(grpo, 'spec.json'), JSON.stringify({ kind: 'con-grpo', data }));
    const completion = (step: number, j: number) => ({
      step, group: 0, sampleId: `s${step}`, task: tasks[step % 2], answer: 'A', completion: `<think> look ${step}.${j} </think> <answer> ${j ? 'B' : 'A'} </answer>`,
      parsed: j ? 'B' : 'A', wellFormed: true, judgeDeduction: 'A', reward: j ? 0.33 : 1, rewards: { format: 1, accuracy: j ? 0 : 1, consistency: j ? 0 : 1 }, advantage: j ? -0.7 : 0.7,
    });
    writeFileSync(join(grpo, 'completions.jsonl'), [completion(1, 0), completion(1, 1), completion(2, 0), completion(2, 1)].map((c) => JSON.stringify(c)).join('\n') + '\n{"step": 3, "gro');
    await cp.store.createRun({ id: 'grpo-p', kind: RunKind.ConGrpo, config: {}, dir: grpo });
  });
  after(async () => {
    await cp.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const page = async (args: string) => {
    const r = await gql(cp.url, `{ run(id: "eval-p") { predictions${args} { totalCount pageInfo { hasNextPage endCursor } edges { node { id task correct consistent consistentKeep think question options image parsed annotations } } } } }`);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!.run.predictions as { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: Record<string, unknown> }> };
  };

  test('filters by task, correctness and consistency; pages with cursors; joins the sample and splits out the think', async () => {
    const all = await page('');
    assert.equal(all.totalCount, 6);
    assert.deepEqual(all.edges[1]!.node, { id: 's1', task: 'pathology_characterization', correct: true, consistent: true, consistentKeep: true, think: 'finding 1, so the answer is (A).', question: 'Question 1?', options: ['CT', 'MRI', 'X-ray', 'OCT'], image: 'images/s1.png', parsed: 'A', annotations: null });
    assert.deepEqual(all.edges[2]!.node.annotations, { bbox: { x: 1, y: 0, width: 1, height: 1 }, crop: { x: 0, y: 0, width: 2, height: 2 }, inset: { x: 0, y: 1, width: 1, height: 1 } });
    assert.deepEqual((await page('(correct: false)')).edges.map((e) => e.node.id), ['s3', 's4', 's5']);
    assert.deepEqual((await page('(consistent: false)')).edges.map((e) => e.node.id), ['s0', 's3'], 'no deduction is not consistent');
    assert.deepEqual((await page('(task: "modality_classification", correct: true)')).edges.map((e) => e.node.id), ['s0', 's2']);
    const first = await page('(first: 4)');
    assert.deepEqual([first.edges.length, first.pageInfo.hasNextPage, first.pageInfo.endCursor], [4, true, '3']);
    const next = await page(`(first: 4, after: "${first.pageInfo.endCursor}")`);
    assert.deepEqual([next.edges.map((e) => e.node.id), next.pageInfo.hasNextPage], [['s4', 's5'], false]);
    const bad = await gql(cp.url, '{ run(id: "eval-p") { predictions(first: 501) { totalCount } } }');
    assert.match(bad.errors![0]!.message, /predictions\(first: 501\) must be between 1 and 500/);
  });

  test('differenceFrom: one evaluation minus another, paired, overall then per task, with 95% intervals', async () => {
    const r = await gql(cp.url, '{ run(id: "eval-p") { differenceFrom(baseline: "eval-q") { task mean ci95 seeds questions significant } } }');
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const rows = r.data!.run.differenceFrom as Array<{ task: string; mean: number; ci95: number[]; seeds: number[]; questions: number; significant: boolean }>;
    assert.deepEqual(rows.map((d) => d.task), ['overall', 'modality_classification', 'pathology_characterization']);
    // eval-p gets s3, s4, s5 wrong where eval-q is right: −50 points overall on 6 paired questions of seed 0.
    assert.equal(rows[0]!.mean, -50);
    assert.deepEqual([rows[0]!.seeds, rows[0]!.questions], [[0], 6]);
    assert.ok(rows[0]!.ci95[0]! <= -50 && rows[0]!.ci95[1]! >= -50 && rows[0]!.ci95[1]! < 0, `${rows[0]!.ci95}`);
    assert.equal(rows[0]!.significant, true);
    // modality: s0, s2, s4 (s4 wrong) → −33.3; pathology: s1, s3, s5 (s3, s5 wrong) → −66.7.
    assert.ok(Math.abs(rows[1]!.mean + 100 / 3) < 1e-9 && Math.abs(rows[2]!.mean + 200 / 3) < 1e-9);
    const other = await gql(cp.url, '{ run(id: "grpo-p") { differenceFrom(baseline: "eval-q") { task } } }');
    assert.deepEqual(other.data!.run.differenceFrom, [], 'a non-EVAL run has no difference');
    const missing = await gql(cp.url, '{ run(id: "eval-p") { differenceFrom(baseline: "nope") { task } } }');
    assert.match(missing.errors![0]!.message, /baseline: no run nope/);
  });

  test("a Con-GRPO run's logged completions: by step, with rewards, advantage, think and question; a torn line is skipped", async () => {
    const r = await gql(cp.url, '{ run(id: "grpo-p") { completions(step: 2) { totalCount edges { node { step sampleId parsed reward rewards advantage think question } } } all: completions { totalCount } } }');
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const c = r.data!.run;
    assert.equal(c.all.totalCount, 4);
    assert.equal(c.completions.totalCount, 2);
    assert.deepEqual(c.completions.edges[1].node, { step: 2, sampleId: 's2', parsed: 'B', reward: 0.33, rewards: { format: 1, accuracy: 0, consistency: 0 }, advantage: -0.7, think: 'look 2.1', question: 'Question 2?' });
    const other = await gql(cp.url, '{ run(id: "eval-p") { completions { totalCount } } }');
    assert.equal(other.data!.run.completions.totalCount, 0, 'only Con-GRPO runs log completions');
  });

  test('GET /images/<run>/<sample> serves the sample image from the run dataset, nothing outside it, and needs the API token when tokens are set', async () => {
    const base = cp.url.replace(/\/graphql$/, '');
    const ok = await fetch(`${base}/images/eval-p/s1`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('content-type'), 'image/png');
    assert.deepEqual(new Uint8Array(await ok.arrayBuffer()), new Uint8Array(readFileSync(join(dataDir, 'datasets', 'p', 'images', 's1.png'))));
    assert.equal((await fetch(`${base}/images/eval-p/s2`)).status, 404, 'a sample whose file is missing');
    assert.equal((await fetch(`${base}/images/eval-p/nope`)).status, 404, 'an unknown sample');
    assert.equal((await fetch(`${base}/images/none/s1`)).status, 404, 'an unknown run');
    assert.equal((await fetch(`${base}/images/eval-p/s5`)).status, 404, 'an image path outside the dataset directory');
    assert.equal((await fetch(`${base}/images/eval-p/${encodeURIComponent('../../db')}`)).status, 404);
    assert.equal((await fetch(`${base}/images/eval-p/%E0%A4%A`)).status, 404, 'malformed percent-encoding is no image, not a server error');

    const token = 'v'.repeat(24);
    const secured = await startControlPlane({ port: 0, dataDir: await freshDataDir(), logLevel: 'silent', tokens: parseTokens(`${token}:viewer`, 'test'), datasetRoots: [join(dataDir, 'datasets')] }, { registry: testRegistry() });
    try {
      await secured.store.createRun({ id: 'eval-p', kind: RunKind.Eval, config: {}, dir: join(dataDir, 'runs', 'eval-p') });
      const url = `${secured.url.replace(/\/graphql$/, '')}/images/eval-p/s1`;
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    } finally {
      await secured.close();
    }
  });
});
