import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, PluginRegistry, createTestContainer, isMedadError, parseCompletion, type RewardInput } from '@medad/core';
import { describeRewardContract, fixtureRewardInputs, FIXTURE_COMPLETIONS, FIXTURE_SAMPLE } from '@medad/core/testing';
import { careBonus, careRewardPlugin } from './index.js';

const make = (config: unknown = {}) => new PluginRegistry().register(careRewardPlugin).create('reward', 'care', config, createTestContainer());

/** The fixtures with the likelihood a trainer would set: a distinct value per completion with an answer, null otherwise. */
const withLikelihood = (): RewardInput[] => fixtureRewardInputs().map((x, i) => ({ ...x, answerLikelihood: x.parsed.answerText === null ? null : 0.5 + 0.1 * i }));

describeRewardContract('care', () => make(), { range: [0, 1], inputs: withLikelihood, groupRelative: true });

const input = (completion: string, answerLikelihood: number | null, group?: number): RewardInput => ({
  sample: FIXTURE_SAMPLE,
  completion,
  parsed: parseCompletion(completion, FIXTURE_SAMPLE.options),
  answerLikelihood,
  ...(group === undefined ? {} : { group }),
});
const { correct, wrong } = FIXTURE_COMPLETIONS as { correct: string; wrong: string };
const rule = { margin: 0.01, confidenceUpperBound: 0.95 };

test('the bonus goes to accurate completions at least as likely as their accurate peers’ mean − margin', () => {
  // accurate: 0, 1, 2 (accuracy 1 ≥ mean 0.75); mean likelihood (0.9 + 0.5 + 0.65) / 3 = 0.6833
  const acc = [1, 1, 1, 0];
  const lik = [0.9, 0.5, 0.65, 0.99];
  assert.deepEqual(careBonus(acc, lik, rule), [1, 0, 0, 0]); // threshold 0.6733
  assert.deepEqual(careBonus(acc, lik, { ...rule, margin: 0.05 }), [1, 0, 1, 0]); // threshold 0.6333
  assert.deepEqual(careBonus(acc, lik, { ...rule, margin: 0 }), [1, 0, 0, 0]);
});

test('likelihoods are clamped to the upper bound before the comparison', () => {
  // clamped: both 0.95, mean 0.95 → both get it; unclamped: mean 0.975, threshold 0.965 → 0.96 misses
  assert.deepEqual(careBonus([1, 1], [0.99, 0.96], rule), [1, 1]);
  assert.deepEqual(careBonus([1, 1], [0.99, 0.96], { ...rule, confidenceUpperBound: 1 }), [1, 0]);
});

test('no bonus in a group without an accurate completion; the wrong ones never get one', () => {
  assert.deepEqual(careBonus([0, 0, 0], [0.9, 0.2, 0.5], rule), [0, 0, 0]);
  assert.deepEqual(careBonus([1, 0, 1, 0], [0.3, 0.99, 0.3, 0.99], rule), [1, 0, 1, 0]);
});

test('a graded accuracy: only completions above 0.1 and at least the group mean are accurate, and the bonus is their accuracy', () => {
  // mean accuracy 0.375: accurate are 0 (0.8) and 1 (0.5), not 2 (0.2); mean likelihood 0.6 → 0 gets 0.8, 1 (0.4) nothing
  assert.deepEqual(careBonus([0.8, 0.5, 0.2, 0], [0.8, 0.4, 0.99, 0.9], rule), [0.8, 0, 0, 0]);
  // 0.05 is at least the mean (0.0125) but not above 0.1
  assert.deepEqual(careBonus([0.05, 0, 0, 0], [0.9, 0.1, 0.1, 0.1], rule), [0, 0, 0, 0]);
});

test('a completion without a likelihood is not accurate and does not count in the mean', () => {
  assert.deepEqual(careBonus([1, 1, 0], [null, 0.5, 0.8], rule), [0, 1, 0]);
});

test('group-relative: the same completion gets the bonus in one group and not in another', async () => {
  const reward = await make();
  assert.equal(reward.needsAnswerLikelihood, true);
  // group 0: accurate 0.9 and 0.4 (mean 0.65) → only 0.9; group 1: the only accurate one (0.4) → it gets it
  const batch = [input(correct, 0.9, 0), input(correct, 0.4, 1), input(correct, 0.4, 0), input(wrong, 0.2, 1), input(wrong, 0.99, 0)];
  assert.deepEqual(await reward.score(batch), [1, 1, 0, 0, 0]);
  assert.deepEqual(await reward.score(batch), [1, 1, 0, 0, 0], 'deterministic');
});

test('without the trainer’s group index, the completions of one sample form a group', async () => {
  const reward = await make();
  assert.deepEqual(await reward.score([input(correct, 0.9), input(correct, 0.4), input(wrong, 0.99)]), [1, 0, 0]);
  const other = { ...input(correct, 0.4), sample: { ...FIXTURE_SAMPLE, id: 'fixture-0002' } };
  assert.deepEqual(await reward.score([input(correct, 0.9), other, input(wrong, 0.99)]), [1, 1, 0]);
});

test('the config knobs reach the rule: margin and upper bound', async () => {
  const batch = [input(correct, 0.9, 0), input(correct, 0.5, 0), input(correct, 0.65, 0), input(wrong, 0.99, 0)];
  assert.deepEqual(await (await make()).score(batch), [1, 0, 0, 0]);
  assert.deepEqual(await (await make({ margin: 0.05 })).score(batch), [1, 0, 1, 0]);
  const high = [input(correct, 0.99, 0), input(correct, 0.96, 0)];
  assert.deepEqual(await (await make({ confidenceUpperBound: 1 })).score(high), [1, 0]);
});

test('an answer given as the option text counts as correct unless acceptOptionText is off', async () => {
  const asText = '<think>Bright bone: CT.</think><answer>CT</answer>';
  const batch = [input(asText, 0.9, 0), input(correct, 0.3, 0)];
  assert.deepEqual(await (await make()).score(batch), [1, 0]);
  assert.deepEqual(await (await make({ acceptOptionText: false })).score(batch), [0, 1]);
});

test('without answerLikelihood it fails with a fix', async () => {
  const reward = await make();
  await assert.rejects(
    Promise.resolve(reward.score(fixtureRewardInputs())),
    (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /7 completion/.test(err.message) && /Con-GRPO trainer/.test(err.message),
  );
});

test('an unknown or out-of-range config field is rejected', async () => {
  await assert.rejects(make({ bonus: 0.5 }), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig));
  await assert.rejects(make({ margin: -0.1 }), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig));
});
