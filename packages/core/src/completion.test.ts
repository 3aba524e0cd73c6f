import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAnswerLetter, parseCompletion, parseLenientAnswer } from './completion.js';

const OPTIONS = ['MRI', 'CT', 'Ultrasound', 'X-ray'];

test('a well-formed completion parses into think and answer', () => {
  const p = parseCompletion('<think>bright bone, so (B) CT</think> <answer>B</answer>', OPTIONS);
  assert.deepEqual(p, { think: 'bright bone, so (B) CT', answerText: 'B', answer: 'B', wellFormed: true });
});

test('format violations are not well-formed (eq. 4)', () => {
  for (const text of [
    '<answer>B</answer>',
    '<think>x</think>',
    'B',
    '<answer>B</answer><think>x</think>',
    '<think>x</think><answer>B</answer><answer>C</answer>',
    'preamble <think>x</think><answer>B</answer>',
  ]) {
    assert.equal(parseCompletion(text, OPTIONS).wellFormed, false, text);
  }
});

test('answer letters are read from letters, bracketed letters and option texts', () => {
  assert.equal(parseAnswerLetter('(C) Ultrasound'), 'C');
  assert.equal(parseAnswerLetter('D.'), 'D');
  assert.equal(parseAnswerLetter('x-ray', OPTIONS), 'D');
  assert.equal(parseAnswerLetter('Doppler'), null);
  assert.equal(parseAnswerLetter('E'), null);
});

test('lenient parsing accepts a lone letter from outside models', () => {
  assert.equal(parseLenientAnswer(' (A) '), 'A');
  assert.equal(parseLenientAnswer('The answer is A'), null);
  assert.equal(parseLenientAnswer('<answer>C</answer>'), 'C');
});
