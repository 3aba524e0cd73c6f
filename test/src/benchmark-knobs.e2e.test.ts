import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRng, TASKS, type MedAdSample } from '@medad/core';
import { planBenchmark, resolveKnobs, synthesizeItem } from '@medad/plugin-dataset-synthetic';
import { createRuleJudge } from '@medad/plugin-judge-rule';

// Every difficulty knob on and 40% CoT noise (train items only): the rule judge (strip, the default) must read a clean CoT as its key (also the multi-lesion
// findings "several lesions; the cyst is …"), an incomplete one as null and a wrong one as the
// option its findings point to — so cotNoise is exactly the inconsistency it claims to add.
describe('rule judge on the CoTs of a benchmark with every knob on (seed 9, 800 samples)', () => {
  it('clean CoTs → the key on every task, incomplete → null, wrong → the option the findings describe', async () => {
    const knobs = resolveKnobs({ lesionContrast: 0.3, lesionSize: 0.5, lookAlike: 1, multiLesion: 1, closeOptions: 1, cotNoise: 0.4 });
    const samples: MedAdSample[] = planBenchmark(800, new SeededRng('synthetic/9/plan'), knobs, new SeededRng('synthetic/9/knobs')).map(
      (item) => synthesizeItem(item, 9, 24, false, 'text-first', knobs.cotNoise).sample,
    );
    const judge = createRuleJudge();
    const deduced = await judge.deduce(samples.map((s) => ({ question: s.question, options: s.options, think: s.cot })));
    const count = { clean: 0, incomplete: 0, wrong: 0, multi: 0 };
    samples.forEach((s, i) => {
      const noise = s.meta!.cotNoise as string | undefined;
      const d = deduced[i];
      if (noise === 'incomplete') assert.equal(d, null, s.cot);
      else if (noise === 'wrong') assert.equal(s.options['ABCD'.indexOf(d ?? '?')], s.meta!.cotNoiseOption, s.cot);
      else assert.equal(d, s.answer, `${s.task}: ${s.cot}`);
      count[(noise ?? 'clean') as keyof typeof count]++;
      if (s.meta!.target !== undefined) count.multi++;
    });
    assert.ok(count.incomplete > 40 && count.wrong > 40, JSON.stringify(count));
    assert.equal(count.multi, 320);
    for (const task of TASKS) assert.ok(samples.some((s, i) => s.task === task && !s.meta!.cotNoise && deduced[i] === s.answer), task);
  });
});
