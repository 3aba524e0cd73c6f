import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPTION_LETTERS, SeededRng, TASKS, conclusionStart, letterIndex, stripConclusion, type MedAdSample } from '@medad/core';
import { planBenchmark, synthesizeItem } from '@medad/plugin-dataset-synthetic';
import { createRuleJudge } from '@medad/plugin-judge-rule';

// The embedded generator in-process (as `medad data synth` writes items), a fixed seed, both CoT
// formats: the rule judge under `conclusion: 'strip'` (the default) must deduce the key from the
// findings of the ground-truth CoTs. Measured 100% on every task (`npm run bench -- judges`:
// 480 test CoTs per task, seeds 0 and 1); the floor here is 95% per task.
const FLOOR = 0.95;

function generated(seed: number, samples: number, format: 'text-first' | 'letter-first'): MedAdSample[] {
  return planBenchmark(samples, new SeededRng(`synthetic/${seed}/plan`))
    .filter((item) => item.split === 'test')
    .map((item) => synthesizeItem(item, seed, 24, false, format).sample);
}

describe('rule judge on the generator\'s ground-truth chains of thought (seed 3, 600 samples)', () => {
  for (const format of ['text-first', 'letter-first'] as const) {
    it(`${format}: strip deduces the key per task ≥ 95% from the findings, also when the conclusion names another option; keep follows that conclusion`, async () => {
      const samples = generated(3, 600, format);
      const strip = createRuleJudge();
      const keep = createRuleJudge({ conclusion: 'keep' });
      const other = (s: MedAdSample) => (letterIndex(s.answer) + 1) % s.options.length;
      // The findings of the key, the concluding clause rewritten to name the next option (text and letter).
      const swapped = samples.map((s) => {
        const findings = stripConclusion(s.cot);
        assert.ok(findings.length > 0 && !findings.includes(' answer '), `no findings in "${s.cot}"`);
        const at = conclusionStart(s.cot);
        const conclusion = s.cot.slice(at).replaceAll(s.options[letterIndex(s.answer)]!, s.options[other(s)]!).replaceAll(`(${s.answer})`, `(${OPTION_LETTERS[other(s)]})`);
        return s.cot.slice(0, at) + conclusion;
      });
      const ask = (thinks: string[]) => thinks.map((think, i) => ({ question: samples[i]!.question, options: samples[i]!.options, think }));
      const [onCot, onSwapped, keptSwapped] = [
        await strip.deduce(ask(samples.map((s) => s.cot))),
        await strip.deduce(ask(swapped)),
        await keep.deduce(ask(swapped)),
      ];
      for (const task of TASKS) {
        const idx = samples.flatMap((s, i) => (s.task === task ? [i] : []));
        assert.ok(idx.length >= 30, `${task}: only ${idx.length} test items`);
        const rate = (out: Array<string | null>, want: (s: MedAdSample) => string) => idx.filter((i) => out[i] === want(samples[i]!)).length / idx.length;
        assert.ok(rate(onCot, (s) => s.answer) >= FLOOR, `${task}: strip on the CoT ${rate(onCot, (s) => s.answer)}`);
        assert.ok(rate(onSwapped, (s) => s.answer) >= FLOOR, `${task}: strip on the swapped CoT ${rate(onSwapped, (s) => s.answer)}`);
        assert.equal(rate(keptSwapped, (s) => OPTION_LETTERS[other(s)]!), 1, `${task}: keep follows the swapped conclusion`);
      }
    });
  }
});
