import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, PluginRegistry, createTestContainer, isMedadError, type MedAdSample } from '@medad/core';
import { describeJudgeContract } from '@medad/core/testing';
import { writeSamplesJsonl } from '@medad/dataset';
import {
  EVAL_VARIANTS,
  evaluateJudgeModel,
  evaluationCases,
  learnedJudgePlugin,
  loadLearnedJudgeModel,
  readCheckpoint,
  synthesizeJudgeCorpus,
  trainLearnedJudge,
  type TrainLearnedJudgeResult,
} from './index.js';

const PATHOLOGY = ['Cyst', 'Calcification', 'Abscess', 'Infarct'];
const Q = 'Which pathology best describes the abnormal finding?';

describe('learned judge trained on a 1500-sample benchmark corpus (seed 0)', () => {
  let dir: string;
  let ckpt: string;
  let result: TrainLearnedJudgeResult;
  let test: MedAdSample[];
  const make = (config: unknown) => new PluginRegistry().register(learnedJudgePlugin).create('judge', 'learned', config, createTestContainer());

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'judge-learned-'));
    const samples = synthesizeJudgeCorpus({ samples: 1500, seed: 7 });
    test = samples.filter((s) => s.split === 'test');
    writeSamplesJsonl(join(dir, 'data', 'samples.jsonl'), samples);
    ckpt = join(dir, 'ckpt');
    result = await trainLearnedJudge({ dataDir: join(dir, 'data'), outDir: ckpt, seed: 0 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // The contract's explicit reasonings carry no findings, so only the conclusion-reading judge deduces them.
  describeJudgeContract('learned (conclusion: keep)', () => make({ checkpoint: ckpt, conclusion: 'keep' }));

  it('deduces ≥ 95% of held-out ground-truth CoTs with their letters masked (and raw, and with a wrong letter), per task', () => {
    const { report } = result;
    assert.equal(report.samples, test.length);
    assert.ok(report.accuracy.lettersMasked >= 0.95, `letters masked ${report.accuracy.lettersMasked}`);
    assert.ok(report.accuracy.raw >= 0.95, `raw ${report.accuracy.raw}`);
    assert.ok(report.accuracy.wrongLetter >= 0.95, `wrong letter ${report.accuracy.wrongLetter}`);
    assert.equal(Object.keys(report.perTask).length, 5);
    for (const [task, t] of Object.entries(report.perTask)) assert.ok(t.accuracy.lettersMasked >= 0.95, `${task}: ${t.accuracy.lettersMasked}`);
    // Informative, not a requirement of the judge; measured 100% on this corpus, guarded loosely.
    assert.ok(report.accuracy.conclusionRemoved >= 0.8, `conclusion removed ${report.accuracy.conclusionRemoved}`);
    assert.ok(report.accuracy.swappedConclusion >= 0.9, `swapped conclusion ${report.accuracy.swappedConclusion}`);
  });

  it('saves the report in judge.json, and a loaded checkpoint gives identical probabilities, deductions and report', () => {
    const saved = readCheckpoint(ckpt);
    assert.deepEqual(saved.report, result.report);
    const loaded = loadLearnedJudgeModel(join(ckpt, 'judge.json'));
    assert.equal(loaded.vocabulary.size, result.model.vocabulary.size);
    for (const s of test.slice(0, 100)) {
      const cases = evaluationCases(s);
      for (const v of EVAL_VARIANTS) {
        const input = { question: s.question, options: s.options, think: cases[v].think };
        assert.deepEqual(loaded.probabilities(input), result.model.probabilities(input));
      }
    }
    assert.deepEqual(evaluateJudgeModel(loaded, test), result.report);
  });

  it('follows the option text when a wrong letter stands beside it, and never reads a letter alone', async () => {
    const judge = await make({ checkpoint: ckpt, conclusion: 'keep' });
    const dots = 'I see a cluster of tiny very bright dots';
    const out = await judge.deduce([
      { question: Q, options: PATHOLOGY, think: `${dots}; this fits Calcification, so the answer is (A) Calcification.` },
      { question: Q, options: PATHOLOGY, think: `${dots}; this fits Calcification, so the answer is (B) Calcification.` },
      { question: Q, options: PATHOLOGY, think: 'So the answer is (C).' },
    ]);
    assert.deepEqual(out, ['B', 'B', null]);
    const wrongLetter = test.map((s) => ({ s, think: evaluationCases(s).wrongLetter.think }));
    const deduced = await judge.deduce(wrongLetter.map(({ s, think }) => ({ question: s.question, options: s.options, think })));
    const right = deduced.filter((d, i) => d === wrongLetter[i]!.s.answer).length;
    assert.ok(right / test.length >= 0.95, `${right}/${test.length}`);
  });

  it('deduces from the findings when there is no conclusion, and follows a conclusion that contradicts them', () => {
    const dots = 'I see a cluster of tiny very bright dots';
    assert.equal(result.model.deduce({ question: Q, options: PATHOLOGY, think: `${dots}.` }), 'B');
    assert.equal(result.model.deduce({ question: Q, options: PATHOLOGY, think: `${dots}; this fits Infarct, so the answer is Infarct.` }), 'D');
  });

  it('reads policy-style reasoning it was not trained on: negations, synonyms of the conclusion cue, contradicting letters', () => {
    const options = ['MRI', 'CE-MRI', 'CT', 'Ultrasound'];
    const cases: Array<[string, string | null]> = [
      ['Cortical bone is bright, so the answer is (C) CT.', 'C'],
      ['Speckle and a fan-shaped field of view, consistent with ultrasound.', 'D'],
      ['The rim enhances after contrast: this is CE-MRI.', 'B'],
      ['The image is not MRI; bright cortical bone indicates CT.', 'C'],
      ['This looks like CT rather than MRI.', 'C'],
      ['It is definitely not CE-MRI. The answer is MRI.', 'A'],
      ['MRI is ruled out because bone is bright; so CT.', 'C'],
      ['Neither MRI nor CT fits; the rim enhances, so CE-MRI.', 'B'],
      ['The answer is (A) CT.', 'C'],
      ['The answer is not (A) MRI but (C) CT.', 'C'],
      ['no idea at all', null],
      ['It is certainly not MRI.', null],
    ];
    const wrong = cases.filter(([think, expected]) => result.model.deduce({ question: Q, options, think }) !== expected);
    assert.ok(wrong.length <= 2, `missed: ${wrong.map(([t]) => t).join(' | ')}`);
  });

  it('judges the findings by default (conclusion: strip): findings of one option and a last sentence naming another give the findings; keep gives the last sentence', async () => {
    const dots = 'I see a cluster of tiny very bright dots';
    const inputs = [
      { question: Q, options: PATHOLOGY, think: `${dots}; this fits Infarct, so the answer is (D) Infarct.` },
      { question: Q, options: PATHOLOGY, think: 'Evidence: a thick bright ring around a dark centre. Therefore the answer is Cyst (A).' },
      { question: Q, options: PATHOLOGY, think: 'So the answer is (D) Infarct.' },
    ];
    assert.deepEqual(await (await make({ checkpoint: ckpt })).deduce(inputs), ['B', 'C', null]);
    assert.deepEqual(await (await make({ checkpoint: ckpt, conclusion: 'keep' })).deduce(inputs), ['D', 'A', 'D']);
    await assert.rejects(make({ checkpoint: ckpt, conclusion: 'both' }), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /conclusion/.test(err.message));
  });

  it('strip deduces the key from the findings of ≥ 95% of held-out ground-truth CoTs per task, also when their conclusion names another option', async () => {
    const judge = await make({ checkpoint: ckpt });
    const cots = await judge.deduce(test.map((s) => ({ question: s.question, options: s.options, think: s.cot })));
    const swapped = await judge.deduce(test.map((s) => ({ question: s.question, options: s.options, think: evaluationCases(s).swappedConclusion.think })));
    const tasks = [...new Set(test.map((s) => s.task))];
    assert.equal(tasks.length, 5);
    for (const task of tasks) {
      const idx = test.flatMap((s, i) => (s.task === task ? [i] : []));
      const rate = (out: Array<string | null>) => idx.filter((i) => out[i] === test[i]!.answer).length / idx.length;
      // measured 100% / 100% on every task (seed 0)
      assert.ok(rate(cots) >= 0.95 && rate(swapped) >= 0.95, `${task}: ${rate(cots)} / ${rate(swapped)}`);
    }
  });

  it('returns null for an empty think and below minConfidence', async () => {
    const judge = await make({ checkpoint: ckpt });
    assert.deepEqual(await judge.deduce(['', '   ', '(B)'].map((think) => ({ question: Q, options: PATHOLOGY, think }))), [null, null, null]);
    // Ruling one option out concludes none of the others: spread over three, below 0.5.
    const ruledOut = { question: Q, options: PATHOLOGY, think: 'It is not Cyst.' };
    const p = result.model.probabilities(ruledOut)!;
    assert.ok(Math.max(...p) < 0.5 && p[0]! < 0.2, `probabilities ${p.map((x) => x.toFixed(2))}`);
    assert.deepEqual(await judge.deduce([ruledOut]), [null]);
    const guessing = await make({ checkpoint: ckpt, minConfidence: 0 });
    const [guess] = await guessing.deduce([ruledOut]);
    assert.ok(guess !== null && guess !== 'A', `guess ${guess}`);
  });

  it('rejects a missing config, a missing checkpoint and a corrupt one with errors that name the file and the fix', async () => {
    await assert.rejects(make({}), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /checkpoint/.test(err.message) && /medad train judge/.test(err.message));
    const missing = join(dir, 'no-such-ckpt');
    await assert.rejects(
      make({ checkpoint: missing }),
      (err: unknown) => isMedadError(err, ErrorCode.NotFound) && err.message.includes(join(missing)) && /medad train judge --data DIR --out CKPT/.test(err.message),
    );
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{"format": "medad-learned-judge", "vers');
    await assert.rejects(make({ checkpoint: corrupt }), (err: unknown) => isMedadError(err, ErrorCode.InvalidData) && err.message.includes(corrupt) && /not valid JSON/.test(err.message));
    const wrongShape = join(dir, 'wrong.json');
    writeFileSync(wrongShape, JSON.stringify({ format: 'something-else' }));
    await assert.rejects(make({ checkpoint: wrongShape }), (err: unknown) => isMedadError(err, ErrorCode.InvalidData) && err.message.includes(wrongShape) && /not a learned judge checkpoint/.test(err.message));
  });
});
