import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRootContainer, DatasetToken, JudgeToken, PluginRegistry, RewardsToken, RngToken, RunSpecToken, SeededRng, definePlugin, parseRunSpec, silentLogger, z, type Backbone, type Dataset, type Judge, type Reward, type TrainableBackbone } from '@medad/core';
import { assertResolved, composeRun, trainableBackbone } from './compose.js';

/** A registry whose plugins record the config they were created with. */
function recordingRegistry(created: Array<{ id: string; config: unknown }>): PluginRegistry {
  const r = new PluginRegistry();
  const record = <T>(id: string, value: T) => (_deps: unknown, config: unknown): T => {
    created.push({ id, config });
    return value;
  };
  const dataset: Dataset = { describe: () => ({ id: 'x', name: 'x', root: '/x', counts: {}, tasks: {} }), splits: () => [], samples: async function* () {}, loadImage: () => Promise.reject(new Error('none')) };
  r.register(definePlugin({ kind: 'dataset', id: 'medad', version: '0.1.0', configSchema: z.object({ dir: z.string() }), create: record('medad', dataset) }));
  r.register(definePlugin({ kind: 'reward', id: 'length', version: '0.1.0', configSchema: z.object({ maxChars: z.number().int().default(100) }).strict(), create: record('length', { name: 'length', score: () => [] } as Reward) }));
  r.register(definePlugin({ kind: 'reward', id: 'format', version: '0.1.0', configSchema: z.object({}), create: record('format', { name: 'format', score: () => [] } as Reward) }));
  r.register(definePlugin({ kind: 'judge', id: 'rule', version: '0.1.0', configSchema: z.object({ conclusion: z.enum(['strip', 'keep']).default('strip') }), create: record('rule', { id: 'rule', deduce: async () => [] } as unknown as Judge) }));
  const plain = { describe: () => ({ id: 'plain', backend: 'none' }), generate: async () => [], logProbs: async () => [] } as Backbone;
  r.register(definePlugin({ kind: 'backbone', id: 'plain', version: '0.1.0', configSchema: z.object({}), create: () => plain }));
  r.register(definePlugin({ kind: 'backbone', id: 'trainable', version: '0.1.0', configSchema: z.object({ width: z.number() }), create: (_d, config) => ({ ...plain, createTrainable: async () => config }) as TrainableBackbone }));
  return r;
}

test('a run is composed from its spec: dataset, judge and each reward are created through the registry with their configs', async () => {
  const created: Array<{ id: string; config: unknown }> = [];
  const spec = parseRunSpec({
    kind: 'con-grpo',
    data: '/data/bench',
    out: '/runs/r1',
    seed: 7,
    rewards: [{ plugin: 'length', weight: 0.5, config: { maxChars: 42 } }, { plugin: 'format', weight: 0.5 }],
    judge: { plugin: 'rule', config: { conclusion: 'keep' } },
  });
  const c = await composeRun(spec, recordingRegistry(created), { logger: silentLogger });
  assert.deepEqual(created, [
    { id: 'medad', config: { dir: '/data/bench' } },
    { id: 'rule', config: { conclusion: 'keep' } },
    { id: 'length', config: { maxChars: 42 } },
    { id: 'format', config: {} },
  ]);
  assert.deepEqual(c.resolve(RewardsToken).map((r) => [r.reward.name, r.weight]), [['length', 0.5], ['format', 0.5]]);
  assert.equal(c.resolve(RunSpecToken), spec);
  assert.ok(c.resolve(DatasetToken));
  assert.ok(c.resolve(JudgeToken));
  assert.equal(c.resolve(RngToken).next(), new SeededRng(7).next(), 'the RNG is seeded with the spec seed');
});

test('a bad reward config fails composition naming the plugin and the field', async () => {
  const spec = parseRunSpec({ kind: 'con-grpo', data: '/d', out: '/o', rewards: [{ plugin: 'length', weight: 1, config: { maxChars: 'many' } }] });
  await assert.rejects(composeRun(spec, recordingRegistry([]), { logger: silentLogger }), /reward plugin "length": field "maxChars"/);
});

test('only trainable backbones train (any plugin implementing createTrainable); run references are refused outside the control plane', async () => {
  const registry = recordingRegistry([]);
  await assert.rejects(trainableBackbone(registry, { plugin: 'plain', config: {} }, 'backbone', createRootContainer()), /backbone\.plugin: backbone "plain" cannot be trained: it does not implement TrainableBackbone \(createTrainable\)/);
  const b = await trainableBackbone(registry, { plugin: 'trainable', config: { width: 48 } }, 'backbone', createRootContainer());
  assert.deepEqual(await b.createTrainable({ corpus: [], seed: 0, groundingHead: false }), { width: 48 }, 'created with its config');
  assert.throws(() => assertResolved(parseRunSpec({ kind: 'sft', data: 'run:ds-1', out: '/o' }), 'spec.json'), /spec\.json: field "data" is the run reference "run:ds-1".*give a directory/);
});
