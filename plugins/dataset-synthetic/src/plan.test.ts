import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPTION_LETTERS, SPLITS, SeededRng, TASKS } from '@medad/core';
import { OPTION_SETS } from '@medad/dataset';
import { MODALITY_ANATOMIES } from './catalog.js';
import { planBenchmark } from './plan.js';

const plan = planBenchmark(2000, new SeededRng('synthetic/0/plan'));

function wordIn(text: string, phrase: string): boolean {
  const esc = phrase.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![a-z0-9-])${esc}(?![a-z0-9-])`).test(text.toLowerCase());
}

describe('benchmark plan (default size)', () => {
  it('balances tasks and answer letters (each letter 25% within every task and split)', () => {
    for (const task of TASKS) {
      const items = plan.filter((p) => p.task === task);
      assert.equal(items.length, 400);
      for (const split of SPLITS) {
        const part = items.filter((p) => p.split === split);
        const counts = OPTION_LETTERS.map((l) => part.filter((p) => p.letter === l).length);
        assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${task}/${split}: ${counts}`);
      }
    }
  });

  it('gives four distinct options from the task vocabulary, exactly one correct, never named in the question', () => {
    for (const p of plan) {
      assert.equal(new Set(p.options).size, 4);
      for (const o of p.options) assert.ok(OPTION_SETS[p.task].includes(o), `${o} not a ${p.task} option`);
      assert.equal(p.options.filter((o) => o === p.answerText).length, 1);
      assert.equal(p.options[OPTION_LETTERS.indexOf(p.letter)], p.answerText);
      for (const o of p.options) assert.equal(wordIn(p.question, o), false, `${p.question} / ${o}`);
    }
  });

  it('counterbalances blocks: same question and options, every option the answer once', () => {
    const blocks = new Map<string, typeof plan>();
    for (const p of plan) blocks.set(p.block, [...(blocks.get(p.block) ?? []), p]);
    for (const [id, items] of blocks) {
      assert.ok(items.every((p) => p.question === items[0]!.question && p.options.join('|') === items[0]!.options.join('|')), id);
      assert.equal(new Set(items.map((p) => p.answerText)).size, items.length, id);
      assert.equal(new Set(items.map((p) => p.split)).size, 1, `${id} is split across train and test`);
    }
  });

  it('splits 70/30 within every task and keeps each (task, source) near 70%', () => {
    for (const task of TASKS) {
      const items = plan.filter((p) => p.task === task);
      assert.equal(items.filter((p) => p.split === 'train').length, 280);
      const sources = new Set(items.map((p) => p.source));
      assert.equal(sources.size, 10);
      for (const s of sources) {
        const st = items.filter((p) => p.source === s);
        const frac = st.filter((p) => p.split === 'train').length / st.length;
        assert.ok(frac > 0.55 && frac < 0.85, `${task}/${s}: ${frac.toFixed(2)} of ${st.length}`);
      }
    }
  });

  it('draws answers uniformly and only plausible modality-anatomy pairs', () => {
    for (const task of TASKS) {
      const items = plan.filter((p) => p.task === task);
      for (const v of OPTION_SETS[task]) {
        const n = items.filter((p) => p.answerText === v).length;
        const expected = 400 / OPTION_SETS[task].length;
        assert.ok(Math.abs(n - expected) <= 2, `${task}/${v}: ${n}`);
      }
    }
    for (const p of plan) assert.ok(MODALITY_ANATOMIES[p.modality].includes(p.anatomy), `${p.modality} of ${p.anatomy}`);
  });

  it('is a pure function of the seed', () => {
    const again = planBenchmark(2000, new SeededRng('synthetic/0/plan'));
    assert.deepEqual(again, plan);
    const other = planBenchmark(2000, new SeededRng('synthetic/1/plan'));
    assert.notDeepEqual(other.map((p) => p.answerText), plan.map((p) => p.answerText));
  });
});
