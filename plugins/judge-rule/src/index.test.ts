import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, PluginRegistry, createTestContainer, isMedadError } from '@medad/core';
import { describeJudgeContract, FIXTURE_SAMPLE } from '@medad/core/testing';
import { ruleJudgePlugin } from './index.js';

const make = (config: unknown = {}) => new PluginRegistry().register(ruleJudgePlugin).create('judge', 'rule', config, createTestContainer());

// The contract's explicit reasonings ("The appearance of the image is characteristic, so the answer
// is (B) CT.") carry no findings, so only the conclusion-reading judge can deduce them.
describeJudgeContract('rule (conclusion: keep)', () => make({ conclusion: 'keep' }));

test('rule judge (keep) deduces a batch in order, from letters or texts, null when nothing is named', async () => {
  const judge = await make({ conclusion: 'keep' });
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
  const letterFirst = await make({ onConflict: 'letter', conclusion: 'keep' });
  assert.deepEqual(await letterFirst.deduce([{ question, options, think: 'So the answer is (A) CT.' }]), ['A']);
  const withAlias = await make({ aliases: { ct: ['hounsfield'] } });
  assert.deepEqual(await withAlias.deduce([{ question, options, think: 'Values in Hounsfield units.' }]), ['B']);
  await assert.rejects(make({ onConflict: 'coin-flip' }), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /onConflict/.test(err.message));
  await assert.rejects(make({ conclusion: 'ignore' }), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /conclusion/.test(err.message));
  const withFindings = await make({ findings: { 'x-ray': ['ribs in a frontal projection'] } });
  assert.deepEqual(await withFindings.deduce([{ question, options, think: 'Ribs in a frontal projection, so the answer is (A) MRI.' }]), ['D']);
});

test('rule judge reads the findings by default: a think whose findings fit one option and whose last sentence names another is judged by the findings', async () => {
  const { question, options } = FIXTURE_SAMPLE; // MRI, CT, Ultrasound, X-ray
  const thinks = [
    'A fan-shaped field of view filled with granular speckle, so the answer is CT (B).',
    'Bright bone and grey soft tissue: CT.',
    'Fan-shaped view with speckle, so ultrasound rather than X-ray.',
    'The answer is (D).',
    'The appearance is characteristic, so the answer is (A) MRI.',
    'unclear',
  ];
  const strip = await make();
  assert.deepEqual(await strip.deduce(thinks.map((think) => ({ question, options, think }))), ['C', 'B', 'C', null, null, null]);
  const keep = await make({ conclusion: 'keep' });
  assert.deepEqual(await keep.deduce(thinks.map((think) => ({ question, options, think }))), ['B', 'B', 'C', 'D', 'A', null]);
});
