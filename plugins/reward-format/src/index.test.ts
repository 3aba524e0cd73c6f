import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PluginRegistry, createTestContainer, parseCompletion, type RewardInput } from '@medad/core';
import { describeRewardContract, fixtureRewardInputs, FIXTURE_COMPLETIONS, FIXTURE_SAMPLE } from '@medad/core/testing';
import { formatRewardPlugin } from './index.js';

const make = (config: unknown = {}) => new PluginRegistry().register(formatRewardPlugin).create('reward', 'format', config, createTestContainer());

describeRewardContract('format', () => make(), { range: [0, 1] });

function input(completion: string, withOptions = true): RewardInput {
  return { sample: FIXTURE_SAMPLE, completion, parsed: parseCompletion(completion, withOptions ? FIXTURE_SAMPLE.options : undefined) };
}

test('format scores the fixture completions: only the three well-formed ones earn 1', async () => {
  const reward = await make();
  const scores = await reward.score(fixtureRewardInputs());
  const names = Object.keys(FIXTURE_COMPLETIONS);
  assert.deepEqual(Object.fromEntries(names.map((n, i) => [n, scores[i]])), {
    correct: 1,
    wrong: 1,
    inconsistent: 1,
    noThink: 0,
    noAnswer: 0,
    garbage: 0,
    empty: 0,
  });
});

test('format rejects reordered, duplicated, trailing-text and empty-think completions', async () => {
  const reward = await make();
  const scores = await reward.score([
    input('<answer>B</answer><think>CT.</think>'),
    input('<think>a</think><think>b</think><answer>B</answer>'),
    input('<think>CT.</think><answer>B</answer> and more'),
    input('<think>   </think><answer>B</answer>'),
    input('  <think>CT.</think>\n<answer>(B) CT</answer>\n'),
  ]);
  assert.deepEqual(scores, [0, 0, 0, 0, 1]);
});

test('requireLetter and requireThink switch their checks', async () => {
  const strict = await make();
  const loose = await make({ requireLetter: false, requireThink: false });
  const batch = [
    input('<think>CT.</think><answer>maybe</answer>'),
    input('<think></think><answer>B</answer>'),
    // option text as the answer counts as a letter even when the trainer parsed without options
    input('<think>CT.</think><answer>CT</answer>', false),
  ];
  assert.deepEqual(await strict.score(batch), [0, 0, 1]);
  assert.deepEqual(await loose.score(batch), [1, 1, 1]);
});
