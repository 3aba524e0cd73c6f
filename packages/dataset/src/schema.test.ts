import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIXTURE_SAMPLE } from '@medad/core/testing';
import { validateSample } from './schema.js';

describe('MedAdSample schema', () => {
  it('accepts a valid sample and keeps its fields', () => {
    const r = validateSample({ ...FIXTURE_SAMPLE, region: 'Center', bbox: { x: 1, y: 2, width: 3, height: 4 } });
    assert.equal(r.ok, true);
    if (r.ok) {
      assert.equal(r.sample.answer, 'B');
      assert.deepEqual(r.sample.bbox, { x: 1, y: 2, width: 3, height: 4 });
    }
  });

  it('names every bad field and says what is wrong', () => {
    const r = validateSample({ ...FIXTURE_SAMPLE, answer: 'E', options: ['MRI', 'CT', 'CT', 'X-ray'], task: 'segmentation', image: '/abs.png' });
    assert.equal(r.ok, false);
    if (r.ok) return;
    const fields = r.issues.map((i) => i.field).sort();
    assert.deepEqual(fields, ['answer', 'image', 'options', 'task']);
    assert.match(r.issues.find((i) => i.field === 'answer')!.problem, /A, B, C, D/);
    assert.match(r.issues.find((i) => i.field === 'options')!.problem, /differ/);
    assert.match(r.issues.find((i) => i.field === 'image')!.problem, /relative/);
  });

  it('reports missing fields, three options and paths escaping the root', () => {
    const { cot: _cot, ...noCot } = FIXTURE_SAMPLE;
    const r = validateSample({ ...noCot, options: ['a', 'b', 'c'], mask: '../x.png' });
    assert.equal(r.ok, false);
    if (r.ok) return;
    const byField = Object.fromEntries(r.issues.map((i) => [i.field, i.problem]));
    assert.equal(byField.cot, 'is missing');
    assert.ok('options' in byField || 'options.3' in byField);
    assert.match(byField.mask!, /leave the dataset root/);
  });
});
