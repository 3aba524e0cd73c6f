import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAnswerLetter, parseCompletion } from '../completion.js';
import type { Judge } from '../contracts/judge.js';
import type { Reward } from '../contracts/reward.js';
import { describeJudgeContract } from './judge.contract.js';
import { FIXTURE_SAMPLE } from './fixtures.js';
import { describeRewardContract } from './reward.contract.js';

// The suites run against minimal honest implementations, so a broken suite fails here first.
const formatLike: Reward = { name: 'format-like', score: (batch) => batch.map((x) => (x.parsed.wellFormed ? 1 : 0)) };
const lastLetterJudge: Judge = {
  name: 'last-letter',
  deduce: async (batch) =>
    batch.map((x) => {
      const m = [...x.think.matchAll(/\(([A-D])\)/g)].pop();
      return m ? parseAnswerLetter(m[1]!) : null;
    }),
};

describeRewardContract('format-like', () => formatLike, { range: [0, 1] });
describeJudgeContract('last-letter', () => lastLetterJudge);

test('the reference implementations the suites run against behave as their names say', async () => {
  const good = '<think> round, so the answer is Cyst (B). </think> <answer> B </answer>';
  const inputs = [good, 'B'].map((completion) => ({ sample: FIXTURE_SAMPLE, completion, parsed: parseCompletion(completion) }));
  assert.deepEqual(await formatLike.score(inputs), [1, 0]);
  const think = (text: string) => ({ question: FIXTURE_SAMPLE.question, options: FIXTURE_SAMPLE.options, think: text });
  assert.deepEqual(await lastLetterJudge.deduce([think('first (A), then (C)'), think('no letter here')]), ['C', null]);
});
