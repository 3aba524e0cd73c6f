import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPTION_LETTERS, REGIONS, SeededRng } from '@medad/core';
import { OPTION_SETS, balancedLetters, balancedValues, buildOptions } from './options.js';
import { MODALITIES } from './vocab.js';

describe('options', () => {
  it('puts the correct option at the requested letter with three distinct distractors from the pool', () => {
    const rng = new SeededRng(1);
    for (const letter of OPTION_LETTERS) {
      const { options, answer } = buildOptions('CT', MODALITIES, letter, rng);
      assert.equal(answer, letter);
      assert.equal(options[OPTION_LETTERS.indexOf(letter)], 'CT');
      assert.equal(new Set(options).size, 4);
      for (const o of options) assert.ok((MODALITIES as readonly string[]).includes(o));
    }
  });

  it('rejects a pool with fewer than three distractors', () => {
    assert.throws(() => buildOptions('a', ['a', 'b', 'c'], 'A', new SeededRng(0)), /2 distractors/);
  });

  it('balances letters and values exactly', () => {
    const letters = balancedLetters(103, new SeededRng(2));
    const counts = OPTION_LETTERS.map((l) => letters.filter((x) => x === l).length);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, String(counts));
    const regions = balancedValues(REGIONS, 50, new SeededRng(2));
    for (const r of REGIONS) assert.equal(regions.filter((x) => x === r).length, 10);
  });

  it('uses the five regions as the localization options', () => {
    assert.deepEqual([...OPTION_SETS.lesion_localization], [...REGIONS]);
    assert.equal(OPTION_SETS.anomaly_detection.length, 4);
  });
});
