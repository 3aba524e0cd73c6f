import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LoggerToken, PluginRegistry, createTestContainer, type Logger, type MedAdSample } from '@medad/core';
import { FIXTURE_SAMPLE, describeDatasetContract, fixtureImage } from '@medad/core/testing';
import { writePngFile, writeSamplesJsonl } from '@medad/dataset';
import { medadDatasetPlugin } from './plugin.js';

function makeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'medad-38k-'));
  writePngFile(join(dir, FIXTURE_SAMPLE.image), fixtureImage(16));
  const samples: MedAdSample[] = ['train', 'test'].flatMap((split, k) =>
    [0, 1, 2].map((i) => ({ ...FIXTURE_SAMPLE, id: `s${k}-${i}`, split: split as MedAdSample['split'] })),
  );
  writeSamplesJsonl(join(dir, 'samples.jsonl'), samples);
  appendFileSync(join(dir, 'samples.jsonl'), JSON.stringify({ ...FIXTURE_SAMPLE, id: 'bad', answer: 'E' }) + '\n');
  return dir;
}

const registry = new PluginRegistry().register(medadDatasetPlugin);
const dir = makeDir();

describeDatasetContract('medad', () => registry.create('dataset', 'medad', { dir }, createTestContainer()));

describe('medad dataset plugin', () => {
  it('skips bad lines and logs them as file:line field: problem', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) };
    const ds = await registry.create('dataset', 'medad', { dir }, createTestContainer([[LoggerToken, logger]]));
    assert.deepEqual((await ds.describe()).counts, { train: 3, test: 3 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /skipped 1 bad line\(s\): .*samples\.jsonl:7 answer: must be one of A, B, C, D/);
  });

  it('fails in strict mode, naming the line', async () => {
    await assert.rejects(async () => registry.create('dataset', 'medad', { dir, strict: true }, createTestContainer()), /samples\.jsonl:7 answer/);
  });

  it('fails clearly for a missing directory or file', async () => {
    await assert.rejects(async () => registry.create('dataset', 'medad', { dir: join(dir, 'nope') }, createTestContainer()), /does not exist/);
    await assert.rejects(async () => registry.create('dataset', 'medad', { dir, file: 'x.jsonl' }, createTestContainer()), /x\.jsonl does not exist/);
  });
});
