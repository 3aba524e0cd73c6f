import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lastNamedOption, stripConclusion, type Judge } from '@medad/core';
import { concludedOption } from './conclusion.js';
import { scoreOutputs } from './evaluate.js';
import { aggregateSeeds, meanStd, summarize } from './metrics.js';
import { readPredictions } from './predictions.js';
import { resultsTable } from './tables.js';

// Eight hand-written predictions: accuracy by hand is modality 2/3, anatomy 1/2, anomaly 3/3; overall 6/8.
const HAND = [
  { id: '1', task: 'modality_classification', answer: 'A', parsed: 'A', judgeDeduction: 'A', correct: true, formatOk: true, thinkCorrect: true },
  { id: '2', task: 'modality_classification', answer: 'B', parsed: 'C', judgeDeduction: 'B', correct: false, formatOk: true, thinkCorrect: true },
  { id: '3', task: 'modality_classification', answer: 'C', parsed: 'C', judgeDeduction: 'C', correct: true, formatOk: true, thinkCorrect: true },
  { id: '4', task: 'anatomy_identification', answer: 'D', parsed: null, judgeDeduction: 'D', correct: false, formatOk: false, thinkCorrect: false },
  { id: '5', task: 'anatomy_identification', answer: 'A', parsed: 'A', judgeDeduction: null, correct: true, formatOk: true, thinkCorrect: false },
  { id: '6', task: 'anomaly_detection', answer: 'B', parsed: 'B', judgeDeduction: 'B', correct: true, formatOk: true, thinkCorrect: true },
  { id: '7', task: 'anomaly_detection', answer: 'C', parsed: 'C', judgeDeduction: 'C', correct: true, formatOk: true, thinkCorrect: true },
  { id: '8', task: 'anomaly_detection', answer: 'D', parsed: 'D', judgeDeduction: 'A', correct: true, formatOk: true, thinkCorrect: false },
].map((p) => ({ ...p, raw: '', seed: 1 }));

test('accuracy recomputed by hand from a predictions file matches the evaluator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medad-eval-'));
  const file = join(dir, 'predictions.jsonl');
  writeFileSync(file, HAND.map((p) => JSON.stringify(p)).join('\n') + '\n{"id": "torn');
  const preds = readPredictions(file);
  assert.equal(preds.length, 8);
  const s = summarize(preds);
  assert.equal(s.overall, (100 * 6) / 8);
  assert.equal(s.perTask.modality_classification, (100 * 2) / 3);
  assert.equal(s.perTask.anatomy_identification, 50);
  assert.equal(s.perTask.anomaly_detection, 100);
  assert.equal(s.perTask.lesion_localization, undefined);
  // consistent: judge == parsed answer, for 1, 3, 5? (null ≠ A), 6, 7 → 4 of 8 (2 is C≠B, 4 has no answer, 8 A≠D)
  assert.equal(s.consistency, 50);
  assert.equal(s.formatRate, 87.5);
  assert.equal(s.invalidRate, 12.5);
  assert.equal(s.thinkCorrectness, 62.5);
});

test('a bad line in the middle is reported with file and line', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'medad-eval-')), 'predictions.jsonl');
  writeFileSync(file, `${JSON.stringify(HAND[0])}\nnot json\n${JSON.stringify(HAND[1])}\n`);
  assert.throws(() => readPredictions(file), /predictions\.jsonl:2: not a prediction/);
});

test('mean ± sample std over seeds', () => {
  const m = meanStd([80, 82, 84]);
  assert.equal(m.mean, 82);
  assert.equal(m.std, 2);
  assert.deepEqual(meanStd([70]), { mean: 70, std: 0, n: 1 });
  const base = summarize(HAND as never);
  const agg = aggregateSeeds([
    { seed: 1, summary: { ...base, overall: 70 } },
    { seed: 2, summary: { ...base, overall: 80 } },
  ]);
  assert.equal(agg.overall.mean, 75);
  assert.ok(Math.abs(agg.overall.std - Math.sqrt(50)) < 1e-12);
  const table = resultsTable([{ method: 'SFT', result: agg }]);
  assert.match(table, /\| SFT \| 50\.00 ± 0\.00 \| 66\.67 ± 0\.00 \| 100\.00 ± 0\.00 \| — \| — \| 75\.00 ± 7\.07 \|/);
});

test('the concluded option is the last option text named; longer names win ties', () => {
  const opts = ['MRI', 'CE-MRI', 'CT', 'X-ray'];
  assert.equal(concludedOption('Contrast-enhanced signal, so the answer is (B) CE-MRI.', opts), 'B');
  assert.equal(concludedOption('Not CT; bright fluid as in MRI.', opts), 'A');
  assert.equal(concludedOption('Looks like an x-ray film', opts), 'D');
  assert.equal(concludedOption('Uncertain', opts), null);
  assert.equal(concludedOption(null, opts), null);
  assert.equal(concludedOption('CTA vessels', opts), null);
});

test('consistency under both readings: the run judge (findings) and judgeKeep (whole think) each give their own rate', async () => {
  const options: [string, string, string, string] = ['MRI', 'CT', 'Ultrasound', 'X-ray'];
  const sample = { id: 's', image: 'i.png', modality: 'CT', anatomy: 'Brain', task: 'modality_classification', question: 'q', options, answer: 'B', cot: '', source: 'x', split: 'test' } as const;
  // Stand-ins for one judge plugin read two ways: the findings judge sees the stripped think.
  const findingsJudge: Judge = { name: 'findings', deduce: async (b) => b.map((x) => (/speckle/i.test(stripConclusion(x.think)) ? 'C' : /bone/i.test(stripConclusion(x.think)) ? 'B' : null)) };
  const keepJudge: Judge = { name: 'keep', deduce: async (b) => b.map((x) => lastNamedOption(x.think, x.options)) };
  const outputs = [
    '<think>Bright bone, so the answer is CT (B).</think><answer>B</answer>', // consistent both ways
    '<think>Granular speckle, so the answer is CT (B).</think><answer>B</answer>', // findings say C: inconsistent under strip only
    '<think>So the answer is CT (B).</think><answer>B</answer>', // no findings: inconsistent under strip only
  ];
  const rows = await scoreOutputs([sample, sample, sample], outputs, 0, findingsJudge, keepJudge);
  assert.deepEqual(rows.map((r) => [r.judgeDeduction, r.judgeDeductionKeep]), [['B', 'B'], ['C', 'B'], [null, 'B']]);
  const s = summarize(rows);
  assert.equal(s.consistency, 100 / 3);
  assert.equal(s.consistencyKeep, 100);
  const noKeep = summarize(await scoreOutputs([sample], [outputs[0]!], 0, findingsJudge));
  assert.ok(Number.isNaN(noKeep.consistencyKeep));
  assert.equal(aggregateSeeds([{ seed: 0, summary: s }]).consistencyKeep.mean, 100);
});
