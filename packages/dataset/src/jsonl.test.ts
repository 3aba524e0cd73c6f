import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_SAMPLE } from '@medad/core/testing';
import { formatIssue, parseSamplesJsonl, readSamplesJsonl, writeSamplesJsonl } from './jsonl.js';

const good = (id: string) => JSON.stringify({ ...FIXTURE_SAMPLE, id });

describe('JSONL store', () => {
  it('keeps every good line and reports each bad one as file:line field: problem', () => {
    const text = [
      good('a'),
      '{not json',
      JSON.stringify({ ...FIXTURE_SAMPLE, id: 'b', answer: 'Z' }),
      '',
      good('c'),
      '[1,2]',
      good('a'),
      JSON.stringify({ ...FIXTURE_SAMPLE, id: 'd', split: 'val' }),
    ].join('\n');
    const r = parseSamplesJsonl(text, 'set/samples.jsonl');
    assert.deepEqual(r.samples.map((s) => s.id), ['a', 'c']);
    assert.equal(r.lines, 7);
    assert.equal(r.skipped, 5);
    const lines = r.issues.map(formatIssue);
    assert.match(lines[0]!, /^set\/samples\.jsonl:2 \(line\): not valid JSON/);
    assert.match(lines[1]!, /^set\/samples\.jsonl:3 answer: must be one of A, B, C, D$/);
    assert.match(lines[2]!, /^set\/samples\.jsonl:6 \(line\): must be a JSON object/);
    assert.equal(lines[3], 'set/samples.jsonl:7 id: duplicate id "a" (first on line 1)');
    assert.match(lines[4]!, /^set\/samples\.jsonl:8 split: must be one of train, test$/);
  });

  it('round-trips samples through a file byte for byte', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medad-jsonl-'));
    const file = join(dir, 'sub', 'samples.jsonl');
    const samples = [{ ...FIXTURE_SAMPLE, id: 'x1' }, { ...FIXTURE_SAMPLE, id: 'x2', region: 'Center' as const }];
    writeSamplesJsonl(file, samples);
    const first = readFileSync(file, 'utf8');
    const back = readSamplesJsonl(file);
    assert.deepEqual(back.samples, samples);
    assert.equal(back.issues.length, 0);
    writeSamplesJsonl(file, back.samples);
    assert.equal(readFileSync(file, 'utf8'), first);
  });

  it('refuses to write an invalid sample and says which one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medad-jsonl-'));
    assert.throws(
      () => writeSamplesJsonl(join(dir, 's.jsonl'), [{ ...FIXTURE_SAMPLE, answer: 'Q' as never }]),
      /Sample 0 \(fixture-0001\) is invalid: answer/,
    );
  });

  it('fails with NOT_FOUND and a fix for a missing file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medad-jsonl-'));
    writeFileSync(join(dir, 'x'), '');
    assert.throws(() => readSamplesJsonl(join(dir, 'missing.jsonl')), (e: Error & { code?: string }) => e.code === 'NOT_FOUND' && /Fix:/.test(e.message));
  });
});
