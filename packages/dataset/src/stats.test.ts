import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_SAMPLE } from '@medad/core/testing';
import type { MedAdSample } from '@medad/core';
import { writeSamplesJsonl } from './jsonl.js';
import { datasetStats } from './stats.js';
import { JsonlDataset } from './store.js';

describe('dataset stats and directory store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'medad-stats-'));
  const samples: MedAdSample[] = [
    { ...FIXTURE_SAMPLE, id: '1', split: 'train', answer: 'A' },
    { ...FIXTURE_SAMPLE, id: '2', split: 'train', answer: 'B', modality: 'MRI' },
    { ...FIXTURE_SAMPLE, id: '3', split: 'test', answer: 'B', task: 'anatomy_identification', anatomy: 'Knee' },
  ];
  writeSamplesJsonl(join(dir, 'samples.jsonl'), samples);
  appendFileSync(join(dir, 'samples.jsonl'), '{"id":"broken"}\n');

  it('counts by split, task, modality, anatomy, source and answer letter', () => {
    const s = datasetStats(dir);
    assert.equal(s.total, 3);
    assert.deepEqual(s.bySplit, { train: 2, test: 1 });
    assert.deepEqual(s.byTask, { anatomy_identification: 1, modality_classification: 2 });
    assert.deepEqual(s.byModality, { CT: 2, MRI: 1 });
    assert.deepEqual(s.byAnatomy, { brain: 2, Knee: 1 });
    assert.deepEqual(s.byAnswer, { A: 1, B: 2 });
    assert.deepEqual(s.byTaskAnswer.modality_classification, { A: 1, B: 1 });
    assert.equal(s.invalidLines, 1);
  });

  it('serves the valid samples per split and reports the bad line', async () => {
    const ds = JsonlDataset.open(dir);
    assert.deepEqual(ds.splits(), ['train', 'test']);
    const info = ds.describe();
    assert.deepEqual(info.counts, { train: 2, test: 1 });
    assert.equal(info.id, dir.split('/').pop());
    const ids: string[] = [];
    for await (const s of ds.samples('train')) ids.push(s.id);
    assert.deepEqual(ids, ['1', '2']);
    assert.equal(ds.issues[0]!.line, 4);
  });

  it('fails clearly on a missing directory', () => {
    assert.throws(() => datasetStats(join(dir, 'nope')), /does not exist.*Fix: create one with `medad data synth/);
  });
});
