// `npm run bench -- judges`: how often each judge deduces the answer key from the benchmark's own
// ground-truth chains of thought, per task, under `conclusion: 'strip'` (findings only, the
// default) and `keep` (the whole think), on the test split of the embedded generator's items
// (planBenchmark + synthesizeItem in-process, as `medad data synth` writes them; 2,000 samples per
// seed, generator seeds 0 and 1, both CoT formats). `swapped` rewrites each CoT's conclusion to the
// next option (its findings unchanged): strip should still deduce the key, keep the swapped option.
// The learned judge is trained (seed 0) on the train split of the same generated items.
//
// Knobs (environment): MEDAD_BENCH_SAMPLES (2000), MEDAD_BENCH_SEEDS (0,1).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPTION_LETTERS, SeededRng, letterIndex } from '@medad/core';
import { writeSamplesJsonl } from '@medad/dataset';
import { planBenchmark, synthesizeItem } from '@medad/plugin-dataset-synthetic';
import { createLearnedJudge, swapConclusion, trainLearnedJudge } from '@medad/plugin-judge-learned';
import { createRuleJudge } from '@medad/plugin-judge-rule';

const samplesPerSeed = Number(process.env.MEDAD_BENCH_SAMPLES ?? 2000);
const seeds = (process.env.MEDAD_BENCH_SEEDS ?? '0,1').split(',').map(Number);
const FORMATS = ['text-first', 'letter-first'];

function generate(seed, format) {
  const plan = planBenchmark(samplesPerSeed, new SeededRng(`synthetic/${seed}/plan`));
  return plan.map((item) => synthesizeItem(item, seed, 24, false, format).sample);
}

async function measure(judges, samples) {
  const rows = {};
  const inputs = (think) => samples.map((s, i) => ({ question: s.question, options: s.options, think: think(s, i) }));
  const next = (s) => (letterIndex(s.answer) + 1) % s.options.length;
  const plain = inputs((s) => s.cot);
  const swapped = inputs((s) => swapConclusion(s.cot, s.options, letterIndex(s.answer), next(s)));
  for (const s of samples) (rows[s.task] ??= { n: 0 }).n++;
  for (const [name, judge] of Object.entries(judges)) {
    const [a, b] = [await judge.deduce(plain), await judge.deduce(swapped)];
    samples.forEach((s, i) => {
      const r = rows[s.task];
      r[name] = (r[name] ?? 0) + (a[i] === s.answer ? 1 : 0);
      const want = name.endsWith('Strip') ? s.answer : OPTION_LETTERS[next(s)];
      r[`${name}Swapped`] = (r[`${name}Swapped`] ?? 0) + (b[i] === want ? 1 : 0);
    });
  }
  return rows;
}

export default async function judges({ log }) {
  const totals = {};
  const dir = mkdtempSync(join(tmpdir(), 'bench-judges-'));
  try {
    for (const seed of seeds) {
      for (const format of FORMATS) {
        const all = generate(seed, format);
        writeSamplesJsonl(join(dir, `${seed}-${format}`, 'samples.jsonl'), all);
        const { model } = await trainLearnedJudge({ dataDir: join(dir, `${seed}-${format}`), outDir: join(dir, `${seed}-${format}-judge`), seed: 0 });
        const judges = {
          ruleStrip: createRuleJudge({ conclusion: 'strip' }),
          ruleKeep: createRuleJudge({ conclusion: 'keep' }),
          learnedStrip: createLearnedJudge(model, 0.5, 'strip'),
          learnedKeep: createLearnedJudge(model, 0.5, 'keep'),
        };
        const rows = await measure(judges, all.filter((s) => s.split === 'test'));
        for (const [task, r] of Object.entries(rows)) {
          const t = (totals[task] ??= {});
          for (const [k, v] of Object.entries(r)) t[k] = (t[k] ?? 0) + v;
        }
        log(`seed ${seed} ${format}: ${Object.entries(rows).map(([t, r]) => `${t} strip ${r.ruleStrip}/${r.n}`).join(', ')}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const perTask = {};
  for (const [task, t] of Object.entries(totals).sort()) {
    perTask[task] = { testCots: t.n };
    for (const [k, v] of Object.entries(t)) if (k !== 'n') perTask[task][`${k}Pct`] = Math.round((10000 * v) / t.n) / 100;
  }
  return { samplesPerSeed, seeds, formats: FORMATS, split: 'test', perTask };
}
