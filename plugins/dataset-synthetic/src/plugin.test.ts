import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PluginRegistry, createTestContainer, isPluginDefinition } from '@medad/core';
import { describeDatasetContract } from '@medad/core/testing';
import { readDescriptor } from '@medad/dataset';
import { DEFAULT_KNOBS, KNOBS_OFF, KNOB_NAMES } from './difficulty.js';
import { syntheticDatasetPlugin } from './plugin.js';
import { syntheticId } from './synthesize.js';

const tmp = mkdtempSync(join(tmpdir(), 'medad-synth-plugin-'));
const registry = new PluginRegistry().register(syntheticDatasetPlugin);

describeDatasetContract('synthetic', () => registry.create('dataset', 'synthetic', { dir: join(tmp, 'contract'), samples: 40, seed: 1 }, createTestContainer()), { maxSamples: 40 });

describe('synthetic dataset plugin', () => {
  it('is a dataset plugin with id "synthetic"', () => {
    assert.ok(isPluginDefinition(syntheticDatasetPlugin));
    assert.equal(syntheticDatasetPlugin.kind, 'dataset');
    assert.equal(syntheticDatasetPlugin.id, 'synthetic');
  });

  it('generates into the cache once and reuses it for the same settings', async () => {
    const config = { cacheDir: join(tmp, 'cache'), samples: 30, seed: 2 };
    const ds = await registry.create('dataset', 'synthetic', config, createTestContainer());
    const info = await ds.describe();
    // the config's defaults are the measured regime DEFAULT_KNOBS, all in the id
    assert.equal(info.id, 'synthetic-s2-n30-lc0.4-ls0.5-la1-ml0.25-co1-cn0.4');
    assert.equal(info.id, syntheticId(2, 30, 64, false, 'text-first', DEFAULT_KNOBS));
    assert.deepEqual(KNOB_NAMES.map((k) => readDescriptor(info.root).provenance?.[k]), KNOB_NAMES.map((k) => DEFAULT_KNOBS[k]));
    assert.equal((info.counts.train ?? 0) + (info.counts.test ?? 0), 30);
    const stamp = statSync(join(info.root, 'samples.jsonl')).mtimeMs;
    const again = await registry.create('dataset', 'synthetic', config, createTestContainer());
    assert.equal((await again.describe()).root, info.root);
    assert.equal(statSync(join(info.root, 'samples.jsonl')).mtimeMs, stamp);
  });

  it('takes the difficulty knobs as config: in the cache id, and `build: changed` regenerates a directory when a knob changes', async () => {
    const cached = await registry.create('dataset', 'synthetic', { cacheDir: join(tmp, 'cache'), samples: 20, seed: 2, ...KNOBS_OFF, lesionContrast: 0.5, cotNoise: 0.2 }, createTestContainer());
    assert.equal((await cached.describe()).id, 'synthetic-s2-n20-lc0.5-cn0.2');
    const dir = join(tmp, 'knobbed');
    const first = await registry.create('dataset', 'synthetic', { dir, samples: 20, seed: 2, ...KNOBS_OFF, lookAlike: 0.4, build: 'changed' }, createTestContainer());
    assert.equal((await first.describe()).id, 'synthetic-s2-n20-la0.4');
    const stamp = statSync(join(dir, 'samples.jsonl')).mtimeMs;
    await registry.create('dataset', 'synthetic', { dir, samples: 20, seed: 2, ...KNOBS_OFF, lookAlike: 0.4, build: 'changed' }, createTestContainer());
    assert.equal(statSync(join(dir, 'samples.jsonl')).mtimeMs, stamp);
    const changed = await registry.create('dataset', 'synthetic', { dir, samples: 20, seed: 2, ...KNOBS_OFF, lookAlike: 0.8, build: 'changed' }, createTestContainer());
    assert.equal((await changed.describe()).id, 'synthetic-s2-n20-la0.8');
    assert.equal(readDescriptor(dir).provenance?.lookAlike, 0.8);
    await assert.rejects(async () => registry.create('dataset', 'synthetic', { lesionSize: 0.1 }, createTestContainer()), /field "lesionSize"/);
  });

  it('rejects a bad config naming the field', async () => {
    await assert.rejects(
      async () => registry.create('dataset', 'synthetic', { samples: 'many' }, createTestContainer()),
      /Invalid config for dataset plugin "synthetic": field "samples"/,
    );
  });
});
