import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WordTokenizer, renderCompletion, renderPrompt } from '@medad/policy';
import { answerLetterPositions, targetWeights } from './answer-weights.js';

const sample = {
  question: 'What type of lesion is shown?',
  options: ['Cyst', 'Abscess', 'Calcification', 'Infarct'] as [string, string, string, string],
  cot: 'Evidence: a cluster of tiny bright dots, unlike (A) Cyst. Therefore the answer is (C) Calcification.',
  answer: 'C',
};

test('answer-letter positions: the think’s last (X) and the <answer> letter, nothing else', () => {
  const tok = WordTokenizer.train([renderPrompt(sample), renderCompletion(sample), renderCompletion(sample)]);
  const ids = tok.encode(renderCompletion(sample));
  const pos = answerLetterPositions(tok, ids);
  assert.equal(pos.length, 2);
  assert.deepEqual(pos.map((i) => tok.idToToken(ids[i]!).trim()), ['C', 'C']);
  assert.equal(tok.idToToken(ids[pos[0]! - 1]!).trim(), '(');
  assert.equal(tok.idToToken(ids[pos[1]! - 1]!).trim(), '<answer>');
  // The letter inside "(A) Cyst" is not an answer letter; a capital word is not a letter.
  const w = targetWeights(tok, ids, 4);
  assert.equal(w.filter((x) => x === 4).length, 2);
  assert.equal(w.filter((x) => x === 1).length, ids.length - 2);
  assert.ok(targetWeights(tok, ids, 1).every((x) => x === 1));
});
