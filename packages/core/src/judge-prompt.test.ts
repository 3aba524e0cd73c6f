import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildJudgeMessages, parseJudgePrompt, parseJudgeReply } from './judge-prompt.js';

test('a judge prompt built for an input is read back as that input, under both readings', () => {
  const input = { question: 'Which imaging modality was used?', options: ['MRI', 'CT', 'X-ray', 'Ultrasound'], think: 'Cross-sectional slices with bright bone, typical of CT.' };
  for (const reading of ['keep', 'strip'] as const) {
    const parsed = parseJudgePrompt(buildJudgeMessages(input, reading));
    assert.deepEqual(parsed, { ok: true, input }, reading);
  }
  assert.deepEqual(parseJudgeReply('The answer is (B).'), { kind: 'letter', letter: 'B' });
});
