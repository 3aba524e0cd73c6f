import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, PluginRegistry, createTestContainer, isMedadError } from '@medad/core';
import { describeJudgeContract, FIXTURE_SAMPLE } from '@medad/core/testing';
import { ruleJudgePlugin } from './index.js';

const make = (config: unknown = {}) => new PluginRegistry().register(ruleJudgePlugin).create('judge', 'rule', config, createTestContainer());

describeJudgeContract('rule', () => make());

test('rule judge deduces a batch in order, from letters or texts, null when nothing is named', async () => {
  const judge = await make();
  const { question, options } = FIXTURE_SAMPLE;
  const out = await judge.deduce([
    { question, options, think: 'Bright bone and grey soft tissue: CT.' },
    { question, options, think: 'Fan-shaped view with speckle, so ultrasound rather than X-ray.' },
    { question, options, think: 'The answer is (D).' },
    { question, options, think: 'unclear' },
  ]);
  assert.deepEqual(out, ['B', 'C', 'D', null]);
});

test('rule judge config is validated and applied', async () => {
  const { question, options } = FIXTURE_SAMPLE;
  const letterFirst = await make({ onConflict: 'letter' });
  assert.deepEqual(await letterFirst.deduce([{ question, options, think: 'So the answer is (A) CT.' }]), ['A']);
  const withAlias = await make({ aliases: { ct: ['hounsfield'] } });
  assert.deepEqual(await withAlias.deduce([{ question, options, think: 'Values in Hounsfield units.' }]), ['B']);
  await assert.rejects(make({ onConflict: 'coin-flip' }), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /onConflict/.test(err.message));
});
