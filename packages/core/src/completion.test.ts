import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conclusionStart, findOptionTexts, lastNamedOption, parseAnswerLetter, parseCompletion, parseLenientAnswer, readingOf, spansOf, stripConclusion } from './completion.js';

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

test('stripConclusion keeps the findings: the concluding clause goes, earlier sentences stay', () => {
  const cases: Array<[string, string]> = [
    ['The image shows bright bone, so the answer is (B) CT.', 'The image shows bright bone.'],
    ['I see speckle; this fits Ultrasound, so the answer is Ultrasound (C).', 'I see speckle.'],
    ['Evidence: a fan-shaped view. Therefore the answer is (C) Ultrasound.', 'Evidence: a fan-shaped view.'],
    ['Speckle and a fan-shaped field of view, consistent with ultrasound.', 'Speckle and a fan-shaped field of view.'],
    // a "so" in an earlier sentence is findings; the last sentence with a cue is the conclusion
    ['The bone is bright, so the window is wide. Air is black. Final answer: CT', 'The bone is bright, so the window is wide. Air is black.'],
    ['This is a grayscale section with bright fluid. So MRI.', 'This is a grayscale section with bright fluid.'],
    ['Bright bone: CT.', 'Bright bone: CT.'],
    ['The answer is (D).', ''],
    ['  ', ''],
  ];
  for (const [think, findings] of cases) assert.equal(stripConclusion(think), findings, think);
  assert.equal(conclusionStart('Bright bone: CT.'), -1);
  assert.equal(conclusionStart('Bright bone, so CT.'), 'Bright bone'.length);
  assert.equal(readingOf('Bright bone, so CT.', 'keep'), 'Bright bone, so CT.');
  assert.equal(readingOf('Bright bone, so CT.', 'strip'), 'Bright bone.');
});

test('findOptionTexts names options by whole words, longest first, plurals, hyphen/space and reversed two-word texts', () => {
  const at = (text: string, options: string[], aliases?: Record<string, string[]>) => findOptionTexts(text, options, { aliases }).map((s) => options[s.index]);
  assert.deepEqual(at('Not MRI: the rim enhances, so CE-MRI.', ['MRI', 'CE-MRI', 'CT', 'X-ray']), ['MRI', 'CE-MRI']);
  assert.deepEqual(at('several cysts in the upper left, an x ray', ['Cyst', 'Left Upper', 'X-ray', 'Center']), ['Cyst', 'Left Upper', 'X-ray']);
  assert.deepEqual(at('CTA vessels', ['CT', 'MRI']), []);
  assert.deepEqual(at('a radiographic study', ['CT', 'X-ray'], { 'x-ray': ['radiographic'] }), ['X-ray']);
  assert.equal(lastNamedOption('Not CT; bright fluid as in MRI.', ['MRI', 'CT']), 'A');
  assert.equal(lastNamedOption('so the answer is (B) CE-MRI.', ['MRI', 'CE-MRI']), 'B');
  assert.equal(lastNamedOption(null, ['MRI']), null);
});

test('spansOf finds every match, case-insensitively, the same on every call, and skips empty matches', () => {
  const text = 'CT then ct, then MRI';
  const want = [
    { start: 0, end: 2 },
    { start: 8, end: 10 },
  ];
  assert.deepEqual(spansOf(String.raw`\bct\b`, text), want);
  // The compiled pattern is shared: a second call (and one on another text in between) starts afresh.
  assert.deepEqual(spansOf(String.raw`\bct\b`, 'no match here'), []);
  assert.deepEqual(spansOf(String.raw`\bct\b`, text), want);
  // A pattern that can match the empty string neither loops nor reports empty spans.
  assert.deepEqual(spansOf('x*', 'axxb'), [{ start: 1, end: 3 }]);
  // Unicode letters count as letters (flag u), as the judges' whole-word patterns need.
  assert.deepEqual(spansOf(String.raw`(?<![\p{L}])mri(?![\p{L}])`, 'éMRI MRI'), [{ start: 5, end: 8 }]);
});
