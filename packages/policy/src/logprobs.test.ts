import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutBatch, packBatch } from './logprobs.js';
import { SPECIAL_IDS } from './vlm/tokenizer.js';

test('packBatch: each row is prompt, completion, padding; the grid is as wide as the longest row', () => {
  const prompts = [[4, 10, 11], [4, 12]];
  const completions = [[20], [21, 22, 23]];
  const packed = packBatch(prompts, completions, 16);
  const pad = SPECIAL_IDS.pad;
  assert.equal(packed.T, 5); // layoutBatch's grid is 3 + 3 = 6 wide
  assert.equal(layoutBatch(prompts, completions, 16).ids.length / 2, 6);
  assert.deepEqual(Array.from(packed.ids), [4, 10, 11, 20, pad, 4, 12, 21, 22, 23]);
  assert.deepEqual(packed.mask, [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]);
  assert.deepEqual(packed.promptLens, [3, 2]);
  assert.throws(() => packBatch([[4, 5]], [[6, 7, 8]], 4), /Row 0 has 2 prompt \+ 3 completion tokens, more than maxTextLen 4.*Fix:/);
  assert.throws(() => packBatch([[]], [[6]], 4), /Prompt 0 has no tokens/);
});
