import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TASKS, type OptionLetter, type Task } from '@medad/core';
import { createImage, encodePng } from '@medad/dataset';
import type { Prediction } from '@medad/evaluator';
import { evalDir, runDir, TABLE1_METHODS, table3Method, TABLE3_WEIGHTS, type MethodSpec } from './plan.js';
import { presetRows } from './presets.js';
import { collectHtmlInputs, confusionByTask, orderingParagraph, renderHtml, writeReport, type MethodResult, type ReportMeta, type Results } from './report.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const meta: ReportMeta = {
  command: 'medad reproduce --preset smoke --out X',
  preset: 'smoke',
  presetRows: presetRows(),
  machine: { cpus: 2, cpuModel: 'test', node: process.version, platform: 'test' },
  wallSeconds: 61,
  invocations: 1,
  jobSeconds: 100,
  generatedAt: '2026-01-01T00:00:00.000Z',
};

/** One prediction; `parsed` null = no answer. */
function pred(id: string, task: Task, answer: OptionLetter, parsed: OptionLetter | null, seed: number, raw = `<think>x</think><answer>${parsed ?? ''}</answer>`): Prediction {
  return { id, task, answer, raw, parsed, judgeDeduction: parsed, correct: parsed === answer, formatOk: parsed !== null, thinkCorrect: parsed === answer, seed };
}

function writeEval(out: string, method: string, seed: number, preds: Prediction[], finished = true): void {
  const dir = evalDir(out, method, seed);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'predictions.jsonl'), preds.map((p) => JSON.stringify(p) + '\n').join(''));
  if (finished) writeFileSync(join(dir, 'eval.json'), JSON.stringify({ n: preds.length }));
}

/** A dataset of 6 test samples: 4 anatomy, 2 modality (unequal, so overall ≠ mean of tasks). */
function makeOut(): { out: string; ids: Array<{ id: string; task: Task; answer: OptionLetter }> } {
  const out = mkdtempSync(join(tmpdir(), 'medad-report-'));
  dirs.push(out);
  const data = join(out, 'data');
  mkdirSync(join(data, 'images'), { recursive: true });
  writeFileSync(join(data, 'images', 'a.png'), encodePng(createImage(4, 4, 1, [128])));
  const ids = [
    { id: 's0', task: 'anatomy_identification' as Task, answer: 'A' as OptionLetter },
    { id: 's1', task: 'anatomy_identification' as Task, answer: 'B' as OptionLetter },
    { id: 's2', task: 'anatomy_identification' as Task, answer: 'C' as OptionLetter },
    { id: 's3', task: 'anatomy_identification' as Task, answer: 'D' as OptionLetter },
    { id: 's4', task: 'modality_classification' as Task, answer: 'A' as OptionLetter },
    { id: 's5', task: 'modality_classification' as Task, answer: 'B' as OptionLetter },
  ];
  const samples = ids.map((s) => ({
    id: s.id,
    image: 'images/a.png',
    modality: 'CT',
    anatomy: 'Brain',
    task: s.task,
    question: `Question about <b>${s.id}</b>?`,
    options: ['Brain', 'Lung', 'Liver', 'Knee'],
    answer: s.answer,
    cot: 'Looking at it, (A).',
    source: 'test',
    split: 'test',
  }));
  writeFileSync(join(data, 'samples.jsonl'), samples.map((s) => JSON.stringify(s) + '\n').join(''));
  return { out, ids };
}

const layoutMethods = (seeds: number[]): Array<MethodSpec & { seeds: number[] }> => [
  ...TABLE1_METHODS.map((m) => ({ ...m, seeds })),
  ...TABLE3_WEIGHTS.map(table3Method).map((m) => ({ ...m, seeds: seeds.slice(0, 1) })),
];

test('overall accuracy is total correct / total questions per seed, then mean ± sample std over seeds', () => {
  const { out } = makeOut();
  // Seed 1: anatomy 1/4 right, modality 2/2 right → overall 3/6 = 50 (the mean of tasks would be 62.5).
  const seed1 = [pred('s0', 'anatomy_identification', 'A', 'A', 1), pred('s1', 'anatomy_identification', 'B', 'A', 1), pred('s2', 'anatomy_identification', 'C', null, 1), pred('s3', 'anatomy_identification', 'D', 'A', 1), pred('s4', 'modality_classification', 'A', 'A', 1), pred('s5', 'modality_classification', 'B', 'B', 1)];
  // Seed 2: anatomy 4/4, modality 1/2 → 5/6.
  const seed2 = [pred('s0', 'anatomy_identification', 'A', 'A', 2), pred('s1', 'anatomy_identification', 'B', 'B', 2), pred('s2', 'anatomy_identification', 'C', 'C', 2), pred('s3', 'anatomy_identification', 'D', 'D', 2), pred('s4', 'modality_classification', 'A', 'A', 2), pred('s5', 'modality_classification', 'B', 'C', 2)];
  writeEval(out, 'con-grpo', 1, seed1);
  writeEval(out, 'con-grpo', 2, seed2);
  // An evaluation without eval.json (interrupted) is not counted.
  writeEval(out, 'sft', 1, seed1, false);
  writeReport({ outDir: out, dataDir: join(out, 'data'), methods: layoutMethods([1, 2]) }, meta);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
  const full = results.methods.find((m) => m.id === 'con-grpo')!;

  // By hand from the predictions file.
  const byHand = (seed: number): number => {
    const rows = readFileSync(join(evalDir(out, 'con-grpo', seed), 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Prediction);
    return (100 * rows.filter((r) => r.correct).length) / rows.length;
  };
  assert.equal(full.perSeed[0]!.overall, byHand(1));
  assert.equal(full.perSeed[0]!.overall, 50);
  assert.ok(Math.abs(full.perSeed[1]!.overall - 500 / 6) < 1e-9);
  const mean = (50 + 500 / 6) / 2;
  const std = Math.sqrt(((50 - mean) ** 2 + (500 / 6 - mean) ** 2) / 1);
  assert.ok(Math.abs(full.overall.mean - mean) < 1e-9);
  assert.ok(Math.abs(full.overall.std - std) < 1e-9);
  assert.equal(full.overall.n, 2);
  // Per task: anatomy 25 and 100 → 62.5 ± 53.03; modality 100 and 50.
  assert.equal(full.perTask.anatomy_identification!.mean, 62.5);
  assert.ok(Math.abs(full.perTask.anatomy_identification!.std - Math.sqrt(2 * 37.5 ** 2)) < 1e-9);
  assert.equal(full.perTask.modality_classification!.mean, 75);
  assert.equal(full.invalidRate.mean, (100 / 6 + 0) / 2);
  // SFT has no finished evaluation; its cells are dashes.
  const sft = results.methods.find((m) => m.id === 'sft')!;
  assert.deepEqual(sft.seeds, []);
  const md = readFileSync(join(out, 'results.md'), 'utf8');
  assert.match(md, /\| SFT-only \| — \| — \|/);
  assert.match(md, new RegExp(`\\| SFT\\+Con-GRPO \\| ${mean.toFixed(2).replace('.', '\\.')} ± ${std.toFixed(2).replace('.', '\\.')} \\|`));
  // Table 3's 1/3 row uses only the seeds the other weight settings ran (the first): 50.
  assert.match(md, /\| \(1\/3, 1\/3, 1\/3\) \| 50\.00 \| 83\.33 \| 1 \|/);
  // NaN is written as null, not as invalid JSON.
  assert.equal(results.methods.find((m) => m.id === 'rl-only')!.overall.mean, null);
});

test('baselines are scored on the evaluated questions, per task through the dataset', () => {
  const { out } = makeOut();
  writeEval(out, 'con-grpo', 1, [pred('s0', 'anatomy_identification', 'A', 'A', 1), pred('s4', 'modality_classification', 'A', 'B', 1)]);
  const p = (id: string, answer: OptionLetter, predicted: OptionLetter) => ({ id, answer, predicted });
  writeFileSync(
    join(out, 'baselines.json'),
    JSON.stringify({
      rows: [],
      predictions: {
        imageOnly: [p('s0', 'A', 'A'), p('s1', 'B', 'B'), p('s4', 'A', 'C')],
        textOnly: [p('s0', 'A', 'B'), p('s1', 'B', 'B'), p('s4', 'A', 'A')],
      },
    }),
  );
  const { results } = writeReport({ outDir: out, dataDir: join(out, 'data'), methods: layoutMethods([1]) }, meta);
  // s1 was not evaluated by any configuration, so it is left out.
  assert.equal(results.baselines!.imageOnly.n, 2);
  assert.equal(results.baselines!.imageOnly.overall, 50);
  assert.equal(results.baselines!.imageOnly.perTask.anatomy_identification, 100);
  assert.equal(results.baselines!.imageOnly.perTask.modality_classification, 0);
  assert.equal(results.baselines!.textOnly.perTask.modality_classification, 100);
  const md = readFileSync(join(out, 'results.md'), 'utf8');
  assert.match(md, /\| Image-only baseline \| 100\.00 \| 0\.00 \| — \| — \| — \| 50\.00 \|/);
});

test('confusion matrix counts answer key × parsed answer, with a "none" column', () => {
  const preds = [
    pred('1', 'anomaly_detection', 'A', 'A', 1),
    pred('2', 'anomaly_detection', 'A', 'A', 1),
    pred('3', 'anomaly_detection', 'A', 'C', 1),
    pred('4', 'anomaly_detection', 'B', null, 1),
    pred('5', 'anomaly_detection', 'D', 'B', 2),
    pred('6', 'lesion_localization', 'D', 'D', 1),
  ];
  const m = confusionByTask(preds);
  assert.deepEqual(m.anomaly_detection, [
    [2, 0, 1, 0, 0],
    [0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0],
  ]);
  assert.equal(m.lesion_localization[3]![3], 1);
  assert.equal(m.anatomy_identification.flat().reduce((a, b) => a + b, 0), 0);
  assert.deepEqual(Object.keys(m), [...TASKS]);
});

test('report.html escapes completions and questions, embeds the images, plots the curves', () => {
  const { out } = makeOut();
  const evil = '<think>x</think><answer>A</answer><script>alert("x")</script>';
  writeEval(out, 'con-grpo', 1, [pred('s0', 'anatomy_identification', 'A', 'A', 1, evil), pred('s4', 'modality_classification', 'A', null, 1)]);
  const run = runDir(out, 'con-grpo', 1);
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'metrics.jsonl'), [1, 2, 3].map((step) => JSON.stringify({ step, reward_mean: step / 10, kl: 0.01 * step, reward_consistency: 0.5 })).join('\n') + '\n{"step":4,"rew');
  const layout = { outDir: out, dataDir: join(out, 'data'), methods: layoutMethods([1]) };
  const { results } = writeReport(layout, meta);
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(!html.includes('<script'), 'no script tag survives');
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  assert.ok(html.includes('Question about &lt;b&gt;s0&lt;/b&gt;?'));
  assert.match(html, /src="data:image\/png;base64,iVBORw0KGgo/);
  const inputs = collectHtmlInputs(layout);
  const curves = inputs.curves.find((c) => c.method === 'con-grpo')!;
  assert.deepEqual(curves.charts.map((c) => c.key), ['reward_mean', 'reward_consistency', 'kl']);
  assert.deepEqual(curves.charts[0]!.series[0]!.points, [[1, 0.1], [2, 0.2], [3, 0.3]]);
  assert.equal(inputs.samples.length, 2);
  assert.ok(renderHtml(results, inputs).includes('<svg'));
});

function fakeMethod(id: string, label: string, means: number[]): MethodResult {
  const mean = means.reduce((a, b) => a + b, 0) / means.length;
  const std = Math.sqrt(means.reduce((a, b) => a + (b - mean) ** 2, 0) / (means.length - 1));
  const ms = { mean, std, n: means.length };
  return { id, label, table: 'table1', seedsPlanned: [1, 2], seeds: [1, 2], perSeed: [], overall: ms, perTask: {}, consistency: ms, consistencyKeep: ms, formatRate: ms, thinkCorrectness: ms, invalidRate: ms };
}

test('the ordering paragraph says which paired differences to SFT-only are significant and which are ties', () => {
  const withPaired = (m: MethodResult, mean: number, ci95: [number, number]): MethodResult => ({ ...m, pairedVsSftOnly: { mean, ci95, seeds: [1, 2], questions: 100, significant: ci95[0] > 0 || ci95[1] < 0 } });
  const text = orderingParagraph([fakeMethod('sft', 'SFT-only', [70, 72]), withPaired(fakeMethod('grpo-acc', 'SFT+GRPO (acc)', [80, 80]), 9, [6.5, 11.2]), withPaired(fakeMethod('con-grpo', 'SFT+Con-GRPO', [71, 72]), 0.5, [-1.25, 2])], null);
  assert.match(text, /Paired differences to SFT-only .*: SFT\+GRPO \(acc\) \+9\.00 \[\+6\.50, \+11\.20\]; SFT\+Con-GRPO \+0\.50 \[−1\.25, \+2\.00\] \(tie\)\. Significant \(interval excludes 0\): SFT\+GRPO \(acc\); the others are ties with SFT-only\./);
});

test('the ordering paragraph states the measured ordering and the inversions from the numbers', () => {
  const text = orderingParagraph(
    [fakeMethod('sft', 'SFT-only', [70, 72]), fakeMethod('rl-only', 'RL-only', [40, 44]), fakeMethod('grpo-acc', 'SFT+GRPO (acc)', [80, 80]), fakeMethod('grpo-con', 'SFT+GRPO (con)', [75, 77]), fakeMethod('con-grpo', 'SFT+Con-GRPO', [77, 81])],
    null,
  );
  assert.match(text, /Measured \(overall accuracy, mean over 2 seeds\): RL-only 42\.00 < SFT-only 71\.00 < SFT\+GRPO \(con\) 76\.00 < SFT\+Con-GRPO 79\.00 < SFT\+GRPO \(acc\) 80\.00\./);
  assert.match(text, /SFT\+GRPO \(acc\) \(80\.00\) is above SFT\+GRPO \(con\) \(76\.00\) by 4\.00 points, more than the larger seed std 1\.41/);
  assert.match(text, /SFT\+GRPO \(acc\) \(80\.00\) is above SFT\+Con-GRPO \(79\.00\) by 1\.00 points, within the larger seed std 2\.83/);
  assert.ok(!/RL-only \(/.test(text), 'RL-only is below everything, as in the paper');
  const same = orderingParagraph([fakeMethod('sft', 'SFT-only', [2, 2]), fakeMethod('con-grpo', 'SFT+Con-GRPO', [3, 3])], null);
  assert.match(same, /Among the evaluated configurations the ordering matches the paper's\. Not evaluated: RL-only, SFT\+GRPO \(acc\), SFT\+GRPO \(con\)\./);
});
