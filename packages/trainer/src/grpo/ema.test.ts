import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OrtPolicy, SPECIAL_IDS, VlmPolicy, buildOnnxModels } from '@medad/policy';
import { COMPLETIONS_FILE, type CompletionRecord, type RewardInput } from '@medad/core';
import { writeToyDataset } from '../testing/toy-dataset.js';
import { metricRows } from '../testing/compare.js';
import { trainSft } from '../sft.js';
import { trainConGrpo } from '../con-grpo.js';
import type { WeightedReward } from './rewards.js';
import { EMA_REFERENCE_FILE, checkpointDir, readEmaReference } from '../run/checkpoint.js';
import { encodeSamples, loadSplit } from '../run/data.js';
import { EmaReference, answerSpan, emaUpdate, meanTokenLikelihood } from './ema.js';

const { thinkOpen, thinkClose, answerOpen, answerClose, eos } = SPECIAL_IDS;
const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('the answer span is the tokens inside the last <answer>, without tags or a trailing <eos>', () => {
  assert.deepEqual(answerSpan([thinkOpen, 20, 21, thinkClose, answerOpen, 30, answerClose]), [5, 6]);
  assert.deepEqual(answerSpan([thinkOpen, 20, thinkClose, answerOpen, 30, 31, answerClose, 40]), [4, 6]);
  assert.deepEqual(answerSpan([thinkOpen, 20, thinkClose, answerOpen, 30, 31]), [4, 6], 'cut off before </answer>: up to the end');
  assert.deepEqual(answerSpan([thinkOpen, 20, thinkClose, answerOpen, 30, eos]), [4, 5]);
  assert.deepEqual(answerSpan([answerOpen, 30, answerClose, answerOpen, 31, 32, answerClose]), [4, 6], 'the last answer');
  assert.deepEqual(answerSpan([answerOpen, 30, answerClose]), [1, 2], 'no think: the answer given the prompt');
  assert.equal(answerSpan([thinkOpen, 20, thinkClose]), null);
  assert.equal(answerSpan([thinkOpen, 20, thinkClose, answerOpen, answerClose]), null);
  assert.equal(answerSpan([]), null);
});

test('the likelihood is exp of the mean log-prob over the span', () => {
  close(meanTokenLikelihood([-5, Math.log(0.5), Math.log(0.125), -7], [1, 3]), 0.25); // geometric mean of 0.5 and 0.125
  close(meanTokenLikelihood([Math.log(0.8)], [0, 1]), 0.8);
});

test('an EMA step moves each weight (1 − decay) of the way to the policy and reports the RMS change', () => {
  const ref = new Map([['a', Float32Array.from([0, 1])], ['b', Float32Array.from([2])]]);
  const policy = new Map([['a', Float32Array.from([1, 1])], ['b', Float32Array.from([0])]]);
  const shift = emaUpdate(ref, policy, 0.75);
  assert.deepEqual([...ref.get('a')!], [0.25, 1]);
  assert.deepEqual([...ref.get('b')!], [1.5]);
  close(shift, Math.sqrt((0.25 ** 2 + 0 + 0.5 ** 2) / 3));
  assert.deepEqual([...policy.get('a')!], [1, 1], 'the policy is not touched');
  assert.throws(() => emaUpdate(ref, new Map([['a', new Float32Array(2)]]), 0.5), /"b"/);
});

let work = '';
let data = '';
let from = '';

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'medad-ema-'));
  data = join(work, 'data');
  writeToyDataset(data, 40, 3, 30);
  from = join(work, 'sft');
  (await trainSft({ dataDir: data, outDir: from, preset: 'tiny', seed: 4, steps: 40, batchSize: 6, lr: 3e-3, evalEvery: 0, evalSamples: 0, backend: 'wasm' })).policy.dispose();
});
after(() => rmSync(work, { recursive: true, force: true }));

test('EmaReference: likelihoods through ORT equal the answer tokens’ log-probs of the full completion; updates only every N steps', async () => {
  const policy = await VlmPolicy.load(checkpointDir(from), { backend: 'wasm' });
  const { dataset, samples } = loadSplit(data, 'train');
  const enc = encodeSamples(policy, dataset.root, samples.slice(0, 3));
  const W = (s: string): number[] => policy.tokenizer.encode(s);
  const completions = [
    [...W('<think>a finding</think><answer>B</answer>')],
    [...W('<think>x</think><answer>C D</answer>'), eos],
    [...W('<think>no answer</think>')],
  ];
  const start = new Map([...policy.model.weights()].map(([k, v]) => [k, Float32Array.from(v)]));
  const ema = new EmaReference(policy.model.config, start, 0.5, 3);
  const rows = enc.map((e, i) => ({ promptIds: e.prompt.promptIds, completion: completions[i]!, nchw: e.nchw }));
  const got = await ema.answerLikelihoods(rows);
  const ort = await OrtPolicy.fromModels(policy.model.config, buildOnnxModels(policy.model.config, policy.model.weights()));
  for (let i = 0; i < 2; i++) {
    const [lp] = await ort.logProbs({ prompts: [enc[i]!.prompt.promptIds], completions: [completions[i]!], pixels: enc[i]!.nchw });
    close(got[i]!, meanTokenLikelihood(lp!, answerSpan(completions[i]!)!), 1e-5);
    assert.ok(got[i]! > 0 && got[i]! < 1);
  }
  assert.equal(got[2], null);
  await ort.dispose();

  // Policy weights 1 everywhere: steps 1 and 2 leave the reference alone, step 3 moves it half way.
  const ones = new Map([...start].map(([k, v]) => [k, new Float32Array(v.length).fill(1)]));
  const before0 = Float32Array.from(start.values().next().value!);
  assert.equal(await ema.afterStep(1, ones), 0);
  assert.equal(await ema.afterStep(2, ones), 0);
  assert.ok((await ema.afterStep(3, ones)) > 0);
  const after0 = ema.weights.values().next().value!;
  before0.forEach((v, j) => close(after0[j]!, Math.fround(0.5 * v + 0.5), 1e-7));
  const moved = await ema.answerLikelihoods(rows);
  assert.notEqual(moved[0], got[0], 'the scores follow the moved reference');
  await ema.dispose();
  policy.dispose();
});

/** A reward that needs the answer likelihood and records it; it pays the likelihood plus a length term (so every step has a signal). */
function likelihoodReward(seen: Array<Array<number | null | undefined>>): WeightedReward {
  return {
    weight: 1,
    reward: {
      name: 'lik',
      needsAnswerLikelihood: true,
      score: (batch: readonly RewardInput[]) => {
        seen.push(batch.map((x) => x.answerLikelihood));
        assert.deepEqual(batch.map((x) => x.group), batch.map((_, i) => Math.floor(i / 4)), 'group = the prompt group of G = 4');
        return batch.map((x) => (x.answerLikelihood ?? 0) + (x.completion.length % 3) / 2);
      },
    },
  };
}

test('Con-GRPO keeps the EMA reference in its checkpoint: a run stopped and resumed equals an uninterrupted one', async () => {
  const common = { dataDir: data, from, seed: 5, steps: 4, promptsPerStep: 2, groupSize: 4, maxNewTokens: 40, lr: 3e-3, beta: 0, oversample: 1, emaDecay: 0.5, emaEvery: 1, evalEvery: 0, evalSamples: 0, saveEvery: 2, backend: 'wasm' as const, threads: 1 };
  const seenA: Array<Array<number | null | undefined>> = [];
  (await trainConGrpo({ ...common, outDir: join(work, 'care-a'), rewards: [likelihoodReward(seenA)] })).policy.dispose();
  const seenB: Array<Array<number | null | undefined>> = [];
  (await trainConGrpo({ ...common, outDir: join(work, 'care-b'), rewards: [likelihoodReward(seenB)], stopAfter: 2 })).policy.dispose();
  assert.equal(metricRows(join(work, 'care-b')).length, 2, 'stopped after 2 steps');
  (await trainConGrpo({ ...common, outDir: join(work, 'care-b'), rewards: [likelihoodReward(seenB)] })).policy.dispose();

  const a = metricRows(join(work, 'care-a'));
  const b = metricRows(join(work, 'care-b'));
  assert.deepEqual(b.map((r) => r.step), [1, 2, 3, 4]);
  // (A step where no completion has an answer has no answer_likelihood in either run.)
  for (const key of ['reward_mean', 'loss', 'answer_likelihood', 'ema_shift']) a.forEach((r, i) => assert.ok(b[i]![key] === r[key] || Math.abs(b[i]![key]! - r[key]!) <= 1e-6, `step ${i + 1} ${key}: ${b[i]![key]} != ${r[key]}`));
  assert.deepEqual(seenB, seenA, 'the same likelihoods at every step');
  // completions.jsonl (logCompletions = 1 group per step by default): each step's G rows exactly once across the resume, equal to the uninterrupted run's.
  const completions = (dir: string): CompletionRecord[] => readFileSync(join(dir, COMPLETIONS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CompletionRecord);
  const ca = completions(join(work, 'care-a'));
  assert.deepEqual(ca.map((c) => c.step), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]);
  assert.deepEqual(completions(join(work, 'care-b')), ca, 'the resumed run logged the same completions, none twice');
  for (const c of ca) {
    assert.equal(c.group, 0);
    assert.ok(Math.abs(c.reward - c.rewards.lik!) < 1e-9, 'one reward of weight 1: the total is its score');
    assert.equal(typeof c.completion, 'string');
  }
  assert.ok(ca.some((c) => c.advantage !== null && c.advantage !== 0), 'trained groups carry their advantages');
  assert.ok(seenA.flat().some((x) => typeof x === 'number' && x > 0), 'likelihoods were computed');
  assert.ok(a.every((r) => r.ema_shift! > 0), `the reference moved every step (${a.map((r) => r.ema_shift).join(', ')})`);
  assert.notDeepEqual(seenA[1], seenA[0]);

  const emaA = readEmaReference(join(work, 'care-a'))!;
  const emaB = readEmaReference(join(work, 'care-b'))!;
  for (const [name, w] of emaA) assert.deepEqual(emaB.get(name), w, `EMA weight ${name} equal bit for bit`);
  // The reference lies between the start and the policy: it moved, and lags the policy.
  const start = await VlmPolicy.load(checkpointDir(from), { backend: 'wasm' });
  const end = await VlmPolicy.load(checkpointDir(join(work, 'care-a')), { backend: 'wasm' });
  const dist = (x: Map<string, Float32Array>, y: Map<string, Float32Array>): number => [...x].reduce((s, [k, v]) => s + v.reduce((t, e, j) => t + (e - y.get(k)![j]!) ** 2, 0), 0);
  assert.ok(dist(emaA, start.model.weights()) > 0 && dist(emaA, end.model.weights()) > 0);
  assert.ok(dist(emaA, end.model.weights()) < dist(start.model.weights(), end.model.weights()));
  start.dispose();
  end.dispose();
});

test('without a reward that needs it there is no EMA reference, no likelihood and no extra metric', async () => {
  const seen: RewardInput[][] = [];
  const rewards: WeightedReward[] = [{ weight: 1, reward: { name: 'len', score: (batch) => (seen.push([...batch]), batch.map((x) => (x.completion.length % 3) / 2)) } }];
  const out = join(work, 'plain');
  (await trainConGrpo({ dataDir: data, from, outDir: out, rewards, seed: 5, steps: 2, promptsPerStep: 2, groupSize: 4, maxNewTokens: 12, evalEvery: 0, evalSamples: 0, backend: 'wasm', threads: 1 })).policy.dispose();
  assert.ok(seen.flat().every((x) => !('answerLikelihood' in x)));
  assert.ok(!existsSync(join(checkpointDir(out), EMA_REFERENCE_FILE)));
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
  assert.ok(!/answer_likelihood|ema_shift/.test(rows));
});
