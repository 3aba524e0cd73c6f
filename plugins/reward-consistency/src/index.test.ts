import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ErrorCode,
  JudgeToken,
  PluginRegistry,
  createTestContainer,
  isMedadError,
  parseCompletion,
  type Judge,
  type JudgeInput,
  type RewardInput,
} from '@medad/core';
import { describeRewardContract, fixtureRewardInputs, FIXTURE_COMPLETIONS, FIXTURE_SAMPLE } from '@medad/core/testing';
import { consistencyRewardPlugin } from './index.js';

const make = (container = createTestContainer(), config: unknown = {}) =>
  new PluginRegistry().register(consistencyRewardPlugin).create('reward', 'consistency', config, container);

/** A judge for tests: the option whose text the think names last; records what it was asked. */
function recordingJudge(): Judge & { calls: JudgeInput[][] } {
  const calls: JudgeInput[][] = [];
  return {
    name: 'last-text',
    calls,
    async deduce(batch) {
      calls.push([...batch]);
      return batch.map((x) => {
        const at = x.options.map((o) => x.think.toLowerCase().lastIndexOf(o.toLowerCase()));
        const last = Math.max(...at);
        return last < 0 ? null : (['A', 'B', 'C', 'D'] as const)[at.indexOf(last)]!;
      });
    },
  };
}

const withoutDeduction = (): RewardInput[] => fixtureRewardInputs().map(({ judgeDeduction: _omit, ...rest }) => rest);

describeRewardContract('consistency', () => make(), { range: [0, 1] });

test('consistency uses the trainer-provided judgeDeduction and never calls a registered judge', async () => {
  const judge = recordingJudge();
  const reward = await make(createTestContainer([[JudgeToken, judge]]));
  assert.equal(reward.needsJudge, true);
  const scores = await reward.score(fixtureRewardInputs());
  const names = Object.keys(FIXTURE_COMPLETIONS);
  assert.deepEqual(Object.fromEntries(names.map((n, i) => [n, scores[i]])), {
    correct: 1,
    wrong: 1, // wrong but consistent: the think concludes A and the answer is A
    inconsistent: 0,
    noThink: 0,
    noAnswer: 0,
    garbage: 0,
    empty: 0,
  });
  assert.equal(judge.calls.length, 0);
});

test("when: 'correct' pays the term only for consistent correct answers (a consistent wrong answer earns 0)", async () => {
  const reward = await make(createTestContainer(), { when: 'correct' });
  const scores = await reward.score(fixtureRewardInputs());
  const names = Object.keys(FIXTURE_COMPLETIONS);
  assert.deepEqual(Object.fromEntries(names.map((n, i) => [n, scores[i]])), {
    correct: 1,
    wrong: 0,
    inconsistent: 0,
    noThink: 0,
    noAnswer: 0,
    garbage: 0,
    empty: 0,
  });
  await assert.rejects(make(createTestContainer(), { when: 'sometimes' }), /when/);
});

test('standalone: without judgeDeduction it asks the registered judge once, batched, with question and think only', async () => {
  const judge = recordingJudge();
  const reward = await make(createTestContainer([[JudgeToken, judge]]));
  const scores = await reward.score(withoutDeduction());
  assert.deepEqual(scores, [1, 1, 0, 0, 0, 0, 0]);
  assert.equal(judge.calls.length, 1);
  // only completions with a think and an answer need a deduction: correct, wrong, inconsistent
  assert.deepEqual(
    judge.calls[0]!.map((x) => x.think),
    ['Bright bone and grey soft tissue: CT, so the answer is (B) CT.', 'Dark fluid and bright fat suggest MRI, so the answer is (A) MRI.', 'Dark fluid and bright fat suggest MRI, so the answer is (A) MRI.'],
  );
  assert.equal(judge.calls[0]![0]!.question, FIXTURE_SAMPLE.question);
  assert.ok(!judge.calls[0]!.some((x) => x.think.includes('<answer>')), 'the judge must not see the answer');
});

test('mixed batch: provided deductions are kept, missing ones are judged', async () => {
  const judge = recordingJudge();
  const reward = await make(createTestContainer([[JudgeToken, judge]]));
  const completion = '<think>Fan-shaped speckle: Ultrasound.</think><answer>C</answer>';
  const parsed = parseCompletion(completion, FIXTURE_SAMPLE.options);
  const batch: RewardInput[] = [
    { sample: FIXTURE_SAMPLE, completion, parsed, judgeDeduction: 'A' },
    { sample: FIXTURE_SAMPLE, completion, parsed },
    { sample: FIXTURE_SAMPLE, completion, parsed, judgeDeduction: null },
  ];
  assert.deepEqual(await reward.score(batch), [0, 1, 0]);
  assert.equal(judge.calls.length, 1);
  assert.equal(judge.calls[0]!.length, 1);
});

test('without judgeDeduction and without a judge it fails with a fix', async () => {
  const reward = await make();
  await assert.rejects(
    Promise.resolve(reward.score(withoutDeduction())),
    (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /JudgeToken/.test(err.message) && /3 completion/.test(err.message),
  );
});

test('an unknown config field is rejected', async () => {
  await assert.rejects(make(createTestContainer(), { judge: 'rule' }), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig));
});
