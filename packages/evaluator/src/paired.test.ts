import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Task } from '@medad/core';
import { formatPaired, pairedDifference } from './paired.js';
import type { Prediction } from './predictions.js';

const pred = (id: string, seed: number, correct: boolean): Prediction => ({
  id, task: 'anatomy_identification' as Task, answer: 'A', raw: '', parsed: correct ? 'A' : 'B', judgeDeduction: null, correct, formatOk: true, thinkCorrect: correct, seed,
});
/** A seed's predictions from a string of 1/0 (question i correct or not). */
const arm = (seed: number, bits: string): Prediction[] => [...bits].map((b, i) => pred(`q${i}`, seed, b === '1'));
const seeds = (...xs: Prediction[][]): Map<number, Prediction[]> => new Map(xs.map((x) => [x[0]!.seed, x]));

test('the paired mean is the mean over seeds of each seed’s mean difference on shared questions (hand-computed)', () => {
  // seed 1: A 3/4, B 1/4 → +50; seed 2: A 2/4, B 2/4 → 0; seed 3: A 1/4, B 2/4 → −25. Mean = 25/3.
  const a = seeds(arm(1, '1110'), arm(2, '1100'), arm(3, '1000'));
  const b = seeds(arm(1, '1000'), arm(2, '0011'), arm(3, '1100'));
  const d = pairedDifference(a, b, { resamples: 4000 });
  assert.ok(Math.abs(d.mean - 25 / 3) < 1e-9, String(d.mean));
  assert.deepEqual(d.seeds, [1, 2, 3]);
  assert.equal(d.questions, 4);
  // Every bootstrap draw is a mean of three seed means, each a multiple of 25 in [−100, 100].
  assert.ok(d.ci95[0] < d.mean && d.mean < d.ci95[1]);
  assert.ok(d.ci95[0] >= -100 && d.ci95[1] <= 100);
  assert.equal(d.significant, d.ci95[0] > 0 || d.ci95[1] < 0);
  assert.equal(d.significant, false, 'three seeds of four questions that disagree in sign are a tie');
});

test('identical arms give 0 [0, 0]; an arm right wherever the other is wrong gives +100 [+100, +100]; unpaired questions are left out', () => {
  const a = seeds(arm(1, '1010'), arm(2, '0110'));
  const same = pairedDifference(a, a);
  assert.deepEqual([same.mean, ...same.ci95, same.significant], [0, 0, 0, false]);
  const all = seeds(arm(1, '1111'), arm(2, '1111'));
  const none = seeds(arm(1, '0000'), arm(2, '0000'));
  const d = pairedDifference(all, none);
  assert.deepEqual([d.mean, ...d.ci95, d.significant], [100, 100, 100, true]);
  assert.equal(formatPaired(d), '+100.00 [+100.00, +100.00]');
  const partial = seeds([pred('q0', 1, true), pred('extra', 1, true)]);
  assert.equal(pairedDifference(partial, seeds(arm(1, '0')), {}).questions, 1, 'only the question both answered is paired');
  assert.equal(pairedDifference(partial, seeds(arm(7, '0'))).seeds.length, 0, 'no shared seed: nothing to pair');
});

test('the interval is reproducible for a bootstrap seed and narrows with more questions', () => {
  const rnd = (seed: number, n: number, p: number, salt: number): Prediction[] => Array.from({ length: n }, (_, i) => pred(`q${i}`, seed, ((i * 7919 + salt * 104729) % 1000) / 1000 < p));
  const small = pairedDifference(seeds(rnd(1, 100, 0.8, 1), rnd(2, 100, 0.8, 2)), seeds(rnd(1, 100, 0.7, 3), rnd(2, 100, 0.7, 4)), { seed: 5 });
  const again = pairedDifference(seeds(rnd(1, 100, 0.8, 1), rnd(2, 100, 0.8, 2)), seeds(rnd(1, 100, 0.7, 3), rnd(2, 100, 0.7, 4)), { seed: 5 });
  assert.deepEqual(small.ci95, again.ci95);
  const large = pairedDifference(seeds(rnd(1, 3000, 0.8, 1), rnd(2, 3000, 0.8, 2)), seeds(rnd(1, 3000, 0.7, 3), rnd(2, 3000, 0.7, 4)), { seed: 5 });
  assert.ok(large.ci95[1] - large.ci95[0] < small.ci95[1] - small.ci95[0]);
});
