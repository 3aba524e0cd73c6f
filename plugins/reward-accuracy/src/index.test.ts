import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PluginRegistry, createTestContainer, parseCompletion, type RewardInput } from '@medad/core';
import { describeRewardContract, fixtureRewardInputs, FIXTURE_COMPLETIONS, FIXTURE_SAMPLE } from '@medad/core/testing';
import { accuracyRewardPlugin } from './index.js';

const make = (config: unknown = {}) => new PluginRegistry().register(accuracyRewardPlugin).create('reward', 'accuracy', config, createTestContainer());

describeRewardContract('accuracy', () => make(), { range: [0, 1] });

function input(completion: string, answer: RewardInput['sample']['answer'] = 'B', withOptions = true): RewardInput {
  const sample = { ...FIXTURE_SAMPLE, answer };
  return { sample, completion, parsed: parseCompletion(completion, withOptions ? sample.options : undefined) };
}

test('accuracy scores the fixture completions by the answer letter alone', async () => {
  const reward = await make();
  const scores = await reward.score(fixtureRewardInputs());
  const names = Object.keys(FIXTURE_COMPLETIONS);
  // "inconsistent" answers B (the key) after reasoning towards A: accuracy does not read the think.
  assert.deepEqual(Object.fromEntries(names.map((n, i) => [n, scores[i]])), {
    correct: 1,
    wrong: 0,
    inconsistent: 1,
    noThink: 1,
    noAnswer: 0,
    garbage: 0,
    empty: 0,
  });
});

test('accuracy compares against each sample key and reads letters in their usual forms', async () => {
  const reward = await make();
  const scores = await reward.score([
    input('<think>x</think><answer>(D) X-ray</answer>', 'D'),
    input('<think>x</think><answer>C.</answer>', 'C'),
    input('<think>x</think><answer>C</answer>', 'A'),
    input('<think>x</think><answer>Ultrasound</answer>', 'C', false),
    input('<think>x</think><answer>the second one</answer>', 'B'),
  ]);
  assert.deepEqual(scores, [1, 1, 0, 1, 0]);
});

test('acceptOptionText=false scores an option-text answer 0', async () => {
  const reward = await make({ acceptOptionText: false });
  // same result whether the trainer parsed with or without options
  assert.deepEqual(await reward.score([input('<think>x</think><answer>CT</answer>', 'B', false), input('<think>x</think><answer>CT</answer>', 'B', true)]), [0, 0]);
});
