import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode, isMedadError } from '@medad/core';
import { FIXTURE_SAMPLE } from '@medad/core/testing';
import { JudgeCache, judgeCacheKey } from './cache.js';
import { FINDINGS_SYSTEM_PROMPT, buildJudgeMessages, parseJudgeReply } from '@medad/core';

describe('parseJudgeReply', () => {
  const table: Array<[string, ReturnType<typeof parseJudgeReply>]> = [
    ['B', { kind: 'letter', letter: 'B' }],
    [' c \n', { kind: 'letter', letter: 'C' }],
    ['(B)', { kind: 'letter', letter: 'B' }],
    ['<answer>D</answer>', { kind: 'letter', letter: 'D' }],
    ['Answer: B', { kind: 'letter', letter: 'B' }],
    ['The answer is (A).', { kind: 'letter', letter: 'A' }],
    ['**C**', { kind: 'letter', letter: 'C' }],
    ['(B) CT', { kind: 'letter', letter: 'B' }],
    ['<think>A or B? The text says CT.</think>\nB', { kind: 'letter', letter: 'B' }],
    ['NONE', { kind: 'none' }],
    ['<answer>none</answer>', { kind: 'none' }],
    ['Answer: NONE', { kind: 'none' }],
    ['The reasoning points to the third option.', { kind: 'unparseable' }],
    ['A lesion is present.', { kind: 'unparseable' }],
    ['The answer is a lesion.', { kind: 'unparseable' }],
    ['', { kind: 'unparseable' }],
  ];
  for (const [reply, expected] of table) {
    it(`${JSON.stringify(reply)} → ${JSON.stringify(expected)}`, () => assert.deepEqual(parseJudgeReply(reply), expected));
  }

  it('a letter beyond the options is unparseable', () => {
    assert.deepEqual(parseJudgeReply('D', 2), { kind: 'unparseable' });
  });
});

describe('buildJudgeMessages', () => {
  it('gives the question, lettered options and the reasoning, and nothing of the answer', () => {
    const [system, user] = buildJudgeMessages({ question: FIXTURE_SAMPLE.question, options: FIXTURE_SAMPLE.options, think: 'Bright bone: CT.' });
    assert.equal(system!.role, 'system');
    assert.match(system!.content, /single letter/);
    assert.equal(
      user!.content,
      [
        'Question: Which imaging modality was used to acquire this image?',
        'Options:',
        '(A) MRI',
        '(B) CT',
        '(C) Ultrasound',
        '(D) X-ray',
        'Reasoning:',
        '<reasoning>',
        'Bright bone: CT.',
        '</reasoning>',
        'Which option does the reasoning conclude? Reply with one letter (A, B, C, D) or NONE.',
      ].join('\n'),
    );
  });
});

describe('buildJudgeMessages under strip', () => {
  it('asks which option the findings support and to ignore any concluding statement', () => {
    const [system, user] = buildJudgeMessages({ question: FIXTURE_SAMPLE.question, options: FIXTURE_SAMPLE.options, think: 'Bright bone.' }, 'strip');
    assert.equal(system!.content, FINDINGS_SYSTEM_PROMPT);
    assert.match(system!.content, /findings only: ignore any concluding statement/);
    const lines = user!.content.split('\n');
    assert.deepEqual(lines.slice(-4), ['<reasoning>', 'Bright bone.', '</reasoning>', 'Which option do the findings of the reasoning support? Ignore any concluding statement. Reply with one letter (A, B, C, D) or NONE.']);
  });

  it('keys the cache by the reading: keep keeps the version-1 keys, strip has its own', () => {
    const input = { question: 'q', options: ['MRI', 'CT'], think: 'CT.' };
    assert.equal(judgeCacheKey('m', input), judgeCacheKey('m', input, 'keep'));
    assert.notEqual(judgeCacheKey('m', input, 'strip'), judgeCacheKey('m', input, 'keep'));
  });
});

describe('JudgeCache', () => {
  const input = { question: 'q', options: ['MRI', 'CT'], think: 'CT.' };

  it('keys by model, question, options and think', () => {
    const k = judgeCacheKey('m', input);
    assert.match(k, /^[0-9a-f]{64}$/);
    assert.equal(judgeCacheKey('m', { ...input }), k);
    assert.notEqual(judgeCacheKey('m2', input), k);
    assert.notEqual(judgeCacheKey('m', { ...input, think: 'MRI.' }), k);
    assert.notEqual(judgeCacheKey('m', { ...input, options: ['CT', 'MRI'] }), k);
    assert.notEqual(judgeCacheKey('m', { ...input, question: 'q2' }), k);
  });

  it('persists letters and nulls to its file and reads them back', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'judge-cache-')), 'cache.json');
    const a = new JudgeCache(file);
    a.set('k1', 'B');
    a.set('k2', null);
    a.save();
    const b = new JudgeCache(file);
    assert.equal(b.size, 2);
    assert.equal(b.get('k1'), 'B');
    assert.equal(b.has('k2'), true);
    assert.equal(b.get('k2'), null);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { version: 1, entries: { k1: 'B', k2: null } });
  });

  it('names a corrupt cache file and the fix', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'judge-cache-')), 'cache.json');
    writeFileSync(file, '{ not json');
    assert.throws(() => new JudgeCache(file), (err: unknown) => isMedadError(err, ErrorCode.InvalidData) && err.message.includes(file) && /delete the file/.test(err.message));
  });
});
