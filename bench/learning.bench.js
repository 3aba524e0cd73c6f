// `npm run bench -- learning`: how fast the default `small` SFT *learns* on this machine. Trains with
// SFT_DEFAULTS on a fixed-seed embedded benchmark for a fixed wall-time budget and records, per task,
// held-out answer-letter accuracy and think-correctness against elapsed seconds (time-to-accuracy
// curves), plus the training step's GFLOP/s against the ORT matmul roofline measured in the same run
// (the better of a probe before and one after the training run).
// Also the SFT step time of each gradient engine (tfjs on 1 and 2 threads, ONNX Runtime on 2).
// Env: MEDAD_LEARNING_BUDGET_S (default 600), MEDAD_LEARNING_DATA (dataset dir; built if missing),
// MEDAD_LEARNING_BASELINE=1 (the pre-issue-8 path: letter-first CoTs, no exact-match option
// features; the default is text-first CoTs + optionMatch, which make the letter a one-step copy).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TASKS } from '@medad/core';
import { benchOrt, forwardFlops, renderPrompt } from '@medad/policy';
import { JsonlDataset } from '@medad/dataset';
import { synthesizeAtomically } from '@medad/plugin-dataset-synthetic';
import { SFT_DEFAULTS, trainSft } from '@medad/trainer';

const DATA_SEED = 0;
// 20,000 samples: at the ~7,000 steps of 16 that now fit in 10 minutes, 4,000 samples are memorised
// (training loss 0.02, held-out accuracy flat from step 3,000; packages/trainer README).
const DATA_SAMPLES = 20000;
const EVAL_SAMPLES = 200;

/** First elapsed second at which `key` reached `threshold` (null if never). */
function timeTo(curve, key, threshold) {
  const hit = curve.find((p) => (p[key] ?? -1) >= threshold);
  return hit ? hit.elapsed_s : null;
}

export default async function learning({ log }) {
  const budget = Number(process.env.MEDAD_LEARNING_BUDGET_S ?? 600);
  const optionMatch = process.env.MEDAD_LEARNING_BASELINE !== '1';
  const cotFormat = optionMatch ? 'text-first' : 'letter-first';
  const data = process.env.MEDAD_LEARNING_DATA ?? join(tmpdir(), `medad-learning-s${DATA_SEED}-n${DATA_SAMPLES}-${cotFormat}`);
  if (!existsSync(join(data, 'samples.jsonl'))) {
    log(`building the benchmark (seed ${DATA_SEED}, ${DATA_SAMPLES} samples, ${cotFormat} CoTs) in ${data}...`);
    synthesizeAtomically(data, { samples: DATA_SAMPLES, seed: DATA_SEED, cotFormat });
  }

  log('ORT matmul roofline (1 thread: the core one tfjs training uses; and 2 threads)...');
  const ort1 = await benchOrt({ threads: 1, genRuns: 1 });
  const ort2 = await benchOrt({ threads: 2, genRuns: 1 });

  // Gradient engines: median SFT step time of tfjs on 1 and 2 gradient threads and of the ONNX
  // Runtime gradient graph on 2 threads (same batches).
  const scaling = {};
  for (const [key, opts] of [['tfjs_1_thread', { gradEngine: 'tfjs', threads: 1 }], ['tfjs_2_threads', { gradEngine: 'tfjs', threads: 2 }], ['ort_2_threads', { gradEngine: 'ort', threads: 2 }]]) {
    const dir = mkdtempSync(join(tmpdir(), `medad-learning-${key}-`));
    try {
      log(`SFT step time, ${key.replace(/_/g, ' ')}, 30 steps...`);
      const r = await trainSft({ dataDir: data, outDir: dir, steps: 30, evalEvery: 0, evalSamples: 1, saveEvery: 1e9, optionMatch, ...opts });
      r.policy.dispose();
      const ms = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step_ms).slice(5).sort((a, b) => a - b);
      scaling[`step_ms_${key}`] = ms[Math.floor(ms.length / 2)];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  scaling.speedup_tfjs_2_threads = scaling.step_ms_tfjs_1_thread / scaling.step_ms_tfjs_2_threads;
  scaling.speedup_ort_over_tfjs_2_threads = scaling.step_ms_tfjs_2_threads / scaling.step_ms_ort_2_threads;
  scaling.speedup_ort_over_tfjs_1_thread = scaling.step_ms_tfjs_1_thread / scaling.step_ms_ort_2_threads;

  const out = mkdtempSync(join(tmpdir(), 'medad-learning-run-'));
  const evalEvery = 500;
  log(`SFT with SFT_DEFAULTS (${SFT_DEFAULTS.steps} steps max) for ${budget} s, held-out eval of ${EVAL_SAMPLES} every ${evalEvery} steps...`);
  let result;
  try {
    result = await trainSft({ dataDir: data, outDir: out, evalEvery, evalSamples: EVAL_SAMPLES, saveEvery: 1e9, timeBudget: budget, optionMatch,
      logger: { info: (m) => log(m), warn: (m) => log(m), error: (m) => log(m), debug: () => {}, child() { return this; } } });
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const policy = result.policy;
    const cfg = policy.model.config;
    const P = policy.model.imageTokens;
    // Useful FLOPs per sample (3× forward matmul FLOPs over its real, unpadded positions), averaged over the train split.
    const train = JsonlDataset.open(data).list('train');
    const flopsPerSample =
      train.reduce((a, s) => {
        const Lp = policy.tokenizer.encode(renderPrompt(s)).length;
        const Lc = policy.targetIds(s).length;
        return a + 3 * forwardFlops(cfg, P, Lp + Lc, Lc);
      }, 0) / train.length;
    policy.dispose();
    // The machine's speed drifts over minutes (packages/policy README): probe the roofline again
    // after the run and divide by the best probe, so a slow first probe cannot inflate the fraction.
    log('ORT matmul roofline again, after the run...');
    const roof1 = Math.max(ort1.ort_matmul_gflops, (await benchOrt({ threads: 1, genRuns: 1 })).ort_matmul_gflops);
    const roof2 = Math.max(ort2.ort_matmul_gflops, (await benchOrt({ threads: 2, genRuns: 1 })).ort_matmul_gflops);

    const curve = rows
      .filter((r) => r.eval_overall !== undefined)
      .map((r) => {
        const point = { step: r.step, elapsed_s: r.elapsed_s, train_s: r.train_s, loss: r.loss, acc_overall: r.eval_overall, think_overall: r.eval_think };
        for (const t of TASKS) {
          point[`acc_${t}`] = r[`eval_acc_${t}`];
          point[`think_${t}`] = r[`eval_think_${t}`];
        }
        return point;
      });
    const last = curve[curve.length - 1];
    const at = (s) => [...curve].reverse().find((p) => p.elapsed_s <= s) ?? null;

    const stepMs = rows.map((r) => r.step_ms).sort((a, b) => a - b);
    const medianStepMs = stepMs[Math.floor(stepMs.length / 2)];
    const gflops = (SFT_DEFAULTS.batchSize * flopsPerSample) / (medianStepMs / 1000) / 1e9;

    const thresholds = [50, 80];
    const timeToAccuracy = {};
    for (const th of thresholds) {
      timeToAccuracy[`acc_overall_${th}`] = timeTo(curve, 'acc_overall', th);
      for (const t of TASKS) {
        timeToAccuracy[`acc_${t}_${th}`] = timeTo(curve, `acc_${t}`, th);
        timeToAccuracy[`think_${t}_${th}`] = timeTo(curve, `think_${t}`, th);
      }
    }
    return {
      dataset: { seed: DATA_SEED, samples: DATA_SAMPLES, eval_samples: EVAL_SAMPLES, cot_format: cotFormat },
      option_match: optionMatch,
      sft_defaults: SFT_DEFAULTS,
      model_config: cfg,
      budget_s: budget,
      steps_done: result.steps,
      final: last,
      at_300_s: at(300),
      at_600_s: at(600),
      time_to_accuracy_s: timeToAccuracy,
      curve,
      train_step_ms_median: medianStepMs,
      train_gflop_per_sample: flopsPerSample / 1e9,
      train_gflops_effective: gflops,
      ort_matmul_gflops_1_thread_before_run: ort1.ort_matmul_gflops,
      ort_matmul_gflops_2_threads_before_run: ort2.ort_matmul_gflops,
      ort_matmul_gflops_1_thread: roof1,
      ort_matmul_gflops_2_threads: roof2,
      train_fraction_of_ort_roofline_1_thread: gflops / roof1,
      train_fraction_of_ort_roofline_2_threads: gflops / roof2,
      backend: result.backend,
      threads: result.threads,
      grad_engine: result.gradEngine,
      engine_step_ms: scaling,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
