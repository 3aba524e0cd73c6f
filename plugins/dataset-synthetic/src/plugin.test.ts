import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PluginRegistry, createTestContainer, isPluginDefinition } from '@medad/core';
import { describeDatasetContract } from '@medad/core/testing';
import { syntheticDatasetPlugin } from './plugin.js';

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
    assert.equal(info.id, 'synthetic-s2-n30');
    assert.equal((info.counts.train ?? 0) + (info.counts.test ?? 0), 30);
    const stamp = statSync(join(info.root, 'samples.jsonl')).mtimeMs;
    const again = await registry.create('dataset', 'synthetic', config, createTestContainer());
    assert.equal((await again.describe()).root, info.root);
    assert.equal(statSync(join(info.root, 'samples.jsonl')).mtimeMs, stamp);
  });

  it('rejects a bad config naming the field', async () => {
    await assert.rejects(
      async () => registry.create('dataset', 'synthetic', { samples: 'many' }, createTestContainer()),
      /Invalid config for dataset plugin "synthetic": field "samples"/,
    );
  });
});
