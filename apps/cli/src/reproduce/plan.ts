import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { parseRunSpec, type RunSpec } from '@medad/core';
import type { Preset, PresetName } from './presets.js';

/** Reward weights (λfmt, λacc, λcon). */
export interface RewardWeights {
  format: number;
  accuracy: number;
  consistency: number;
}

/** A trained configuration that gets evaluated (a row of Table 1, 2 or 3). */
export interface MethodSpec {
  /** Run/eval directory prefix and job-id prefix, e.g. `grpo-acc`. */
  id: string;
  /** Row label, e.g. `SFT+GRPO (acc)`. */
  label: string;
  kind: 'sft' | 'rl';
  /** RL: starts from the same seed's SFT checkpoint (false = RL-only, from the seed's base-stage checkpoint, or from scratch when the preset has no base stage). */
  fromSft?: boolean;
  weights?: RewardWeights;
  /**
   * The reward instead of `weights`: GRPO-CARE (Chen et al., 2025) — accuracy + format + 0.5 × the
   * `care` consistency bonus (answer likelihood under an EMA reference, relative to the group), no
   * judge and no KL penalty (the authors' settings; plugins/reward-care).
   */
  care?: boolean;
  /** `table1` rows appear in Tables 1-2; `table3` ones only in Table 3 (plus curves). */
  table: 'table1' | 'table3';
}

const THIRD: RewardWeights = { format: 1 / 3, accuracy: 1 / 3, consistency: 1 / 3 };

/** Table 1 / Table 2 configurations (Text-only and Image-only baselines come from `data baselines`). */
export const TABLE1_METHODS: MethodSpec[] = [
  { id: 'sft', label: 'SFT-only', kind: 'sft', table: 'table1' },
  { id: 'rl-only', label: 'RL-only', kind: 'rl', fromSft: false, weights: THIRD, table: 'table1' },
  { id: 'grpo-acc', label: 'SFT+GRPO (acc)', kind: 'rl', fromSft: true, weights: { format: 0.5, accuracy: 0.5, consistency: 0 }, table: 'table1' },
  { id: 'grpo-con', label: 'SFT+GRPO (con)', kind: 'rl', fromSft: true, weights: { format: 0.5, accuracy: 0, consistency: 0.5 }, table: 'table1' },
  { id: 'con-grpo', label: 'SFT+Con-GRPO', kind: 'rl', fromSft: true, weights: THIRD, table: 'table1' },
  // The likelihood-based consistency reward, on the same testbed as the judge-based one (issue 19).
  { id: 'grpo-care', label: 'SFT+GRPO-CARE', kind: 'rl', fromSft: true, care: true, table: 'table1' },
];

/** GRPO-CARE's reward (the authors' weights: accuracy + format + 0.5 × bonus; margin 0.01). */
const CARE_REWARDS = [
  { plugin: 'format', weight: 1, config: {} },
  { plugin: 'accuracy', weight: 1, config: {} },
  { plugin: 'care', weight: 0.5, config: { margin: 0.01 } },
];

/**
 * Table 3 reward-weight settings besides the default 1/3 each (which is `con-grpo`). These are
 * our choices, labelled by their weights (format, accuracy, consistency).
 */
export const TABLE3_WEIGHTS: RewardWeights[] = [
  { format: 0.2, accuracy: 0.6, consistency: 0.2 },
  { format: 0.2, accuracy: 0.2, consistency: 0.6 },
  { format: 0.1, accuracy: 0.45, consistency: 0.45 },
];

/** `(0.2, 0.6, 0.2)`; 1/3 prints as `1/3`. */
export function weightsLabel(w: RewardWeights): string {
  const f = (x: number): string => (Math.abs(x - 1 / 3) < 1e-3 ? '1/3' : String(Number(x.toFixed(4))));
  return `(${f(w.format)}, ${f(w.accuracy)}, ${f(w.consistency)})`;
}

/** The Table 3 method of a weight setting. */
export function table3Method(w: RewardWeights): MethodSpec {
  return { id: `w-${w.format}-${w.accuracy}-${w.consistency}`, label: `λ = ${weightsLabel(w)}`, kind: 'rl', fromSft: true, weights: w, table: 'table3' };
}

/** The spec's `rewards`: zero weights are left out (the trainer skips them anyway). */
export function rewardChoices(w: RewardWeights): Array<{ plugin: string; weight: number; config: Record<string, unknown> }> {
  return (['format', 'accuracy', 'consistency'] as const).filter((id) => w[id] > 0).map((id) => ({ plugin: id, weight: Number(w[id].toFixed(4)), config: {} }));
}

/** One step of the plan: a `medad` invocation (`run <spec>` for every job that has a run spec). */
export interface Job {
  /** Unique id, also the log directory and done-file name (`logs/<id>/`, `jobs/<id>.done`). */
  id: string;
  kind: 'data' | 'baselines' | 'train' | 'eval' | 'other';
  /** Ids of jobs that must finish first. */
  deps: string[];
  /** Arguments after `medad` (for display and for the done-file check). */
  cli: string[];
  /** The run spec the job runs (`medad run <outDir>/specs/<id>.json`, written by the executor); the done-file key. */
  spec?: RunSpec;
  /** Full command line: executable then arguments. */
  argv: string[];
  /** Directory the job writes (run, eval or data directory), if any. */
  outDir?: string;
  /** Standard output goes to this file (written atomically on success) instead of the log. */
  stdoutFile?: string;
  /** Estimated seconds on the reference machine. */
  estimate: number;
  method?: string;
  seed?: number;
}

/** A reproduction plan: the DAG of jobs and what the report needs to read their outputs. */
export interface Plan {
  outDir: string;
  dataDir: string;
  presetName: PresetName;
  preset: Preset;
  seeds: number[];
  /** Every evaluated configuration with the seeds it runs for. */
  methods: Array<MethodSpec & { seeds: number[] }>;
  jobs: Job[];
}

/** The `medad` launcher of this installation (apps/cli/bin/medad.js). */
export const MEDAD_BIN = fileURLToPath(new URL('../../bin/medad.js', import.meta.url));

/** The run directory of a method and seed. */
export function runDir(outDir: string, method: string, seed: number): string {
  return join(outDir, 'runs', `${method}-${seed}`);
}

/** Where the executor writes a job's spec. */
export function specFile(outDir: string, id: string): string {
  return join(outDir, 'specs', `${id}.json`);
}

/** Suffix of a method's sampled-decoding eval directories (`evals/<method>.sampled-<seed>`). */
export const SAMPLED = '.sampled';

/** The eval directory of a method and seed. */
export function evalDir(outDir: string, method: string, seed: number): string {
  return join(outDir, 'evals', `${method}-${seed}`);
}

/** Options of {@link buildPlan}. */
export interface PlanOptions {
  outDir: string;
  presetName: PresetName;
  preset: Preset;
  /** Overrides the preset's seeds. */
  seeds?: number[];
  /** Executable and launcher (default: this Node and {@link MEDAD_BIN}). */
  command?: string[];
  /**
   * Gradient threads of each training job (`train sft|con-grpo --threads`; default 1). Jobs already
   * run side by side (`--concurrency`), so `medad reproduce` gives each one cores ÷ concurrency threads.
   */
  trainThreads?: number;
  /**
   * Coarse-to-fine (MedReason-R1) for every configuration: `predicted` trains SFT to answer on
   * images zoomed into the lesion box too (`hyper.zoom: oracle`, besides the grounding loss),
   * rolls Con-GRPO out on the regions the starting policy predicts, and evaluates with predicted
   * zoom (the region always from the model). Default `none`.
   */
  zoom?: 'none' | 'predicted';
}

/** Measured speed-up of an SFT step on 2 threads over 1 (ORT gradients: 101 ms on 1 thread beside another job, ~75 ms on 2 alone). */
const TWO_THREAD_SPEEDUP = 1.35;

/**
 * Builds the plan: data → baselines; per seed SFT → its evaluation and the RL configurations
 * started from it (RL-only starts from scratch), each followed by its evaluation.
 */
export function buildPlan(o: PlanOptions): Plan {
  const p = o.preset;
  const t = p.timing;
  const outDir = resolve(o.outDir);
  const dataDir = join(outDir, 'data');
  const seeds = o.seeds?.length ? [...new Set(o.seeds)] : p.seeds;
  const command = o.command ?? [process.execPath, MEDAD_BIN];
  const trainThreads = Math.max(1, Math.floor(o.trainThreads ?? 1));
  const jobs: Job[] = [];
  const add = (j: Omit<Job, 'argv'>): void => {
    jobs.push({ ...j, argv: [...command, ...j.cli] });
  };
  /** A job that runs a spec (validated here, so a preset that breaks a schema fails at planning). */
  const addSpec = (j: Omit<Job, 'argv' | 'cli' | 'spec'>, raw: Record<string, unknown>): void => {
    const spec = parseRunSpec(raw, `reproduce job ${j.id}`);
    add({ ...j, spec, cli: ['run', specFile(outDir, j.id)] });
  };
  const testQuestions = Math.round(p.samples * 0.3);
  const evalQuestions = p.evalLimit ? Math.min(p.evalLimit, testQuestions) : testQuestions;
  const compute = { threads: trainThreads };
  const backbone = { plugin: 'tfjs-vlm', config: { preset: p.model } };

  addSpec(
    { id: 'data', kind: 'data', deps: [], outDir: dataDir, estimate: 1 + p.samples * t.synthSample },
    { kind: 'dataset', out: dataDir, generator: { plugin: 'synthetic', config: { samples: p.samples, seed: 0, ...p.data, build: 'changed' } } },
  );
  add({
    id: 'baselines',
    kind: 'baselines',
    deps: ['data'],
    cli: ['data', 'baselines', dataDir, '--json'],
    stdoutFile: join(outDir, 'baselines.json'),
    estimate: 1 + p.samples * t.baselinesSample,
  });

  const table3 = TABLE3_WEIGHTS.map(table3Method);
  const methods: Plan['methods'] = [
    ...TABLE1_METHODS.map((m) => ({ ...m, seeds })),
    ...table3.map((m) => ({ ...m, seeds: p.table3Seeds === 'all' ? seeds : p.table3Seeds === 'first' ? seeds.slice(0, 1) : [] })),
  ];
  const sftHeldOut = (p.sftEvalEvery ? Math.floor(p.sftSteps / p.sftEvalEvery) : 1) * p.sftEvalSamples * t.heldOutSample;
  const grpoHeldOut = p.grpoEvalSamples ? (p.grpoEvalEvery ? Math.ceil(p.grpoSteps / p.grpoEvalEvery) : 1) * p.grpoEvalSamples * t.heldOutSample : 0;
  const zoomed = o.zoom === 'predicted';
  const sftHyper = { steps: p.sftSteps, evalEvery: p.sftEvalEvery, evalSamples: p.sftEvalSamples, ...(zoomed ? { zoom: 'oracle' } : {}) };
  const sftEstimate = (steps: number): number => t.startup + (steps * t.sftStep) / (trainThreads > 1 ? TWO_THREAD_SPEEDUP : 1) + sftHeldOut;

  for (const seed of seeds) {
    // The base stage (what a pre-trained VLM brings): RL-only starts from it.
    if (p.baseSteps > 0) {
      addSpec(
        { id: `base-${seed}`, kind: 'train', deps: ['data'], outDir: runDir(outDir, 'base', seed), estimate: sftEstimate(p.baseSteps), method: 'base', seed },
        { kind: 'sft', data: dataDir, out: runDir(outDir, 'base', seed), seed, backbone, hyper: { ...sftHyper, steps: p.baseSteps, target: 'base', zoom: 'none' }, compute },
      );
    }
    for (const m of methods) {
      if (!m.seeds.includes(seed)) continue;
      const run = runDir(outDir, m.id, seed);
      const trainId = `${m.id}-${seed}`;
      if (m.kind === 'sft') {
        addSpec(
          { id: trainId, kind: 'train', deps: ['data'], outDir: run, estimate: sftEstimate(p.sftSteps), method: m.id, seed },
          { kind: 'sft', data: dataDir, out: run, seed, backbone, hyper: sftHyper, compute },
        );
      } else {
        const start = m.fromSft ? 'sft' : p.baseSteps > 0 ? 'base' : null;
        const judged = !m.care && m.weights!.consistency > 0;
        addSpec(
          {
            id: trainId,
            kind: 'train',
            deps: start ? [`${start}-${seed}`] : ['data'],
            outDir: run,
            estimate: t.startup + t.grpoWarmup + p.grpoSteps * (m.fromSft ? t.grpoStep : t.rlOnlyStep) + grpoHeldOut,
            method: m.id,
            seed,
          },
          {
            kind: 'con-grpo',
            data: dataDir,
            out: run,
            ...(start ? { from: runDir(outDir, start, seed) } : {}),
            seed,
            backbone,
            rewards: m.care ? CARE_REWARDS : rewardChoices(m.weights!),
            judge: judged ? { plugin: 'rule', config: {} } : null,
            hyper: { steps: p.grpoSteps, promptsPerStep: p.promptsPerStep, groupSize: p.groupSize, evalEvery: p.grpoEvalEvery, evalSamples: p.grpoEvalSamples, ...(m.care ? { beta: 0 } : {}), ...(zoomed ? { zoom: 'predicted' } : {}) },
            compute,
          },
        );
      }
      const ev = evalDir(outDir, m.id, seed);
      const evalSpec = { kind: 'eval', data: dataDir, checkpoint: run, judge: { plugin: 'rule', config: {} }, seeds: [seed], ...(p.evalLimit ? { limit: p.evalLimit } : {}), ...(zoomed ? { zoom: 'predicted' } : {}) };
      addSpec({ id: `eval-${trainId}`, kind: 'eval', deps: [trainId], outDir: ev, estimate: t.startup + evalQuestions * t.evalSample, method: m.id, seed }, { ...evalSpec, out: ev });
      if (p.sampledEval) {
        // Sampled accuracy next to greedy: one pass at temperature 1, seeded by the training seed.
        const sampled = evalDir(outDir, `${m.id}${SAMPLED}`, seed);
        addSpec(
          { id: `eval-sampled-${trainId}`, kind: 'eval', deps: [trainId], outDir: sampled, estimate: t.startup + evalQuestions * t.evalSample * 1.3, method: m.id, seed },
          { ...evalSpec, out: sampled, decoding: 'sample', temperature: 1 },
        );
      }
    }
  }
  return { outDir, dataDir, presetName: o.presetName, preset: p, seeds, methods, jobs };
}

/**
 * Wall-clock estimate (seconds) of running `jobs` with `concurrency` workers: a list schedule
 * that starts ready jobs in plan order. Jobs in `finished` count as done; `running` maps a job
 * id to the seconds it still needs.
 */
export function estimateWall(jobs: readonly Job[], concurrency: number, finished: ReadonlySet<string> = new Set(), running: ReadonlyMap<string, number> = new Map(), scale = 1): number {
  const done = new Set(finished);
  const slots: Array<{ id: string; end: number }> = [...running].map(([id, left]) => ({ id, end: Math.max(0, left) }));
  const pending = jobs.filter((j) => !done.has(j.id) && !running.has(j.id));
  let now = 0;
  const cap = Math.max(1, concurrency);
  for (;;) {
    let started = true;
    while (started && slots.length < cap) {
      started = false;
      const i = pending.findIndex((j) => j.deps.every((d) => done.has(d)));
      if (i >= 0) {
        const [j] = pending.splice(i, 1);
        slots.push({ id: j!.id, end: now + j!.estimate * scale });
        started = true;
      }
    }
    if (!slots.length) break;
    slots.sort((a, b) => a.end - b.end);
    const next = slots.shift()!;
    now = next.end;
    done.add(next.id);
  }
  return now;
}

/** Ids of every job that (transitively) depends on `id`. */
export function dependentsOf(jobs: readonly Job[], id: string): string[] {
  const out = new Set<string>();
  const frontier = [id];
  while (frontier.length) {
    const cur = frontier.pop()!;
    for (const j of jobs) {
      if (j.deps.includes(cur) && !out.has(j.id)) {
        out.add(j.id);
        frontier.push(j.id);
      }
    }
  }
  return [...out];
}

/** Checks the plan is a DAG over known ids (throws naming the problem). */
export function validatePlan(jobs: readonly Job[]): void {
  const ids = new Set<string>();
  for (const j of jobs) {
    if (ids.has(j.id)) throw new Error(`duplicate job id ${j.id}`);
    for (const d of j.deps) if (!ids.has(d)) throw new Error(`job ${j.id} depends on ${d}, which is not an earlier job`);
    ids.add(j.id);
  }
}
