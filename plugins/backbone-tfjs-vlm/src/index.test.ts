import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createTestContainer, parsePluginConfig } from '@medad/core';
import { FIXTURE_SAMPLE, describeBackboneContract, fixtureImage } from '@medad/core/testing';
import { tfjsVlmBackbonePlugin, type TfjsVlmBackbone } from './index.js';

const deps = createTestContainer();
const make = async (raw: unknown = {}): Promise<TfjsVlmBackbone> =>
  (await tfjsVlmBackbonePlugin.create(deps, parsePluginConfig(tfjsVlmBackbonePlugin, { preset: 'tiny', backend: 'wasm', seed: 1, ...(raw as object) }))) as TfjsVlmBackbone;

describeBackboneContract('tfjs-vlm (tiny, random init)', () => make(), { maxTokens: 12 });

test('describe reports the preset, backend, size and trainability', async () => {
  const b = await make();
  const info = b.describe();
  assert.equal(info.id, 'tfjs-vlm');
  assert.equal(info.preset, 'tiny');
  assert.equal(info.backend, 'wasm');
  assert.equal(info.parameters, b.policy.model.parameterCount());
  assert.deepEqual(info.capabilities, { logProbs: true, trainable: true });
  await b.dispose?.();
});

test('logProbs gives one entry ≤ 0 per completion token, matching the sampled log-probs', async () => {
  const b = await make();
  const prompts = [{ sample: FIXTURE_SAMPLE, image: fixtureImage() }];
  const [group] = await b.generate(prompts, { groupSize: 2, temperature: 1, maxTokens: 10, seed: 3 });
  for (const c of group!) {
    const [lp] = await b.logProbs(prompts, [c.text]);
    const ids = b.policy.encodeCompletion(c.text);
    assert.equal(lp!.length, ids.length);
    assert.ok(lp!.every((x) => x <= 0));
    // When the text re-encodes to the sampled tokens, the scores are the sampling log-probs.
    if (ids.join() === c.tokens.join()) assert.ok(Math.abs(lp!.reduce((s, x) => s + x, 0) - c.logProb) < 1e-3);
  }
  await b.dispose?.();
});

test('save → load through the plugin config gives the same greedy completion', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'medad-tfjs-vlm-'));
  const a = await make({ seed: 5 });
  const prompts = [{ sample: FIXTURE_SAMPLE, image: fixtureImage() }];
  const x = await a.generate(prompts, { greedy: true, maxTokens: 8 });
  await a.save!(dir);
  const b = await make({ checkpoint: dir });
  const y = await b.generate(prompts, { greedy: true, maxTokens: 8 });
  assert.deepEqual(y[0]![0]!.tokens, x[0]![0]!.tokens);
  assert.equal(b.describe().checkpoint, dir);
  await a.dispose?.();
  await b.dispose?.();
  await rm(dir, { recursive: true, force: true });
  assert.ok(tf.memory().numTensors >= 0);
});

test('bad config fails with the field and a fix', async () => {
  assert.throws(() => parsePluginConfig(tfjsVlmBackbonePlugin, { preset: 'huge' }), /tfjs-vlm.*field "preset"/);
  await assert.rejects(make({ tokenizer: '/nonexistent/tokenizer.json' }), /Cannot read tokenizer file \/nonexistent\/tokenizer\.json.*Fix:/);
});
