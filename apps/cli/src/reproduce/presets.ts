/**
 * The presets of `medad reproduce`, as data: change a number here (or pass `--seeds`) to trade
 * time for fidelity. Timings are seconds measured on a 2-core machine (tfjs-wasm, one training
 * process per core) and only drive the time estimate and the progress line's ETA.
 */

/** Names of the presets. */
export const PRESET_NAMES = ['smoke', 'quick', 'full'] as const;
/** A preset name. */
export type PresetName = (typeof PRESET_NAMES)[number];

/** Per-unit costs (seconds) the plan's estimate is made of. */
export interface PresetTiming {
  /** Process start-up (module load, tfjs init, encoding the split) of a training or eval job. */
  startup: number;
  /** One SFT optimisation step. */
  sftStep: number;
  /** One Con-GRPO step (rollouts + judge + update) from an SFT checkpoint, at the preset's prompts × G. */
  grpoStep: number;
  /** One Con-GRPO step from a fresh policy (RL-only: completions run to the token budget). */
  rlOnlyStep: number;
  /** Extra time of a Con-GRPO run's first step (ONNX sessions, kernel warm-up). */
  grpoWarmup: number;
  /** One test question, greedy decoding + rule judge. */
  evalSample: number;
  /** One held-out question inside training (`--eval-samples`). */
  heldOutSample: number;
  /** Per benchmark sample: `data synth`. */
  synthSample: number;
  /** Per benchmark sample: `data baselines`. */
  baselinesSample: number;
}

/** One preset: benchmark size, model size, steps, seeds, what Table 3 covers. */
export interface Preset {
  /** What it is for (shown in `--help` and the README). */
  purpose: string;
  /** Benchmark size (`data synth --samples`). */
  samples: number;
  /** Settings of the synthetic generator beyond samples and seed (difficulty knobs; default: the generator's own). */
  data?: Record<string, unknown>;
  /** Model size (`--preset` of `train sft` and RL-only `train con-grpo`). */
  model: 'tiny' | 'small' | 'base';
  /** Steps of the base stage per seed (`medad train base`; RL-only starts from it); 0 = RL-only from a fresh policy. */
  baseSteps: number;
  sftSteps: number;
  /** SFT held-out evaluation: every N steps (0 = at the end only) on M test samples. */
  sftEvalEvery: number;
  sftEvalSamples: number;
  grpoSteps: number;
  promptsPerStep: number;
  groupSize: number;
  /** Con-GRPO held-out evaluation (0 samples = none; the eval jobs measure the checkpoints). */
  grpoEvalEvery: number;
  grpoEvalSamples: number;
  /** Test questions per eval job (0 = the whole test split). */
  evalLimit: number;
  /** Also evaluate each run with sampled decoding (temperature 1, one pass seeded by the training seed). */
  sampledEval: boolean;
  /** Training seeds (mean ± sample std is over these). */
  seeds: number[];
  /** Table 3 reward-weight runs: none, for the first seed only, or for every seed. */
  table3Seeds: 'none' | 'first' | 'all';
  timing: PresetTiming;
}

/**
 * Measured on the 2-core reference machine (see apps/cli/README.md, "reproduce"), two jobs side by
 * side on one thread each (docs/results/rl-defaults.md has the runs): an SFT step with ONNX Runtime
 * gradients 0.10 s; a Con-GRPO step (dynamic sampling: 24 × 8 rollouts through the rollout engine,
 * 8 groups trained) ~2.2 s; the base stage's 600 steps 120 s; a greedy evaluation 0.0125 s per
 * question (2,000 in 25 s with start-up).
 */
const SMALL_TIMING: PresetTiming = {
  startup: 5,
  sftStep: 0.1,
  grpoStep: 2.2,
  rlOnlyStep: 2.5,
  grpoWarmup: 2,
  evalSample: 0.0125,
  heldOutSample: 0.0125,
  synthSample: 0.005,
  baselinesSample: 0.016,
};

/** The presets. `smoke` is for tests; `quick` fits in an hour on 2 cores; `full` is the paper's protocol at our scale. */
export const PRESETS: Record<PresetName, Preset> = {
  smoke: {
    purpose: 'tests and plumbing checks: a tiny model on 80 samples, numbers are meaningless',
    samples: 80,
    model: 'tiny',
    baseSteps: 10,
    sftSteps: 20,
    sftEvalEvery: 0,
    sftEvalSamples: 10,
    grpoSteps: 2,
    promptsPerStep: 2,
    groupSize: 4,
    grpoEvalEvery: 0,
    grpoEvalSamples: 0,
    evalLimit: 20,
    sampledEval: true,
    seeds: [1, 2],
    table3Seeds: 'first',
    timing: { startup: 2.5, sftStep: 0.22, grpoStep: 0.7, rlOnlyStep: 0.7, grpoWarmup: 0.5, evalSample: 0.05, heldOutSample: 0.05, synthSample: 0.01, baselinesSample: 0.03 },
  },
  quick: {
    purpose: 'every Table 1/2 configuration on the default benchmark over 2 seeds in under an hour on 2 cores; 3,000 test questions per evaluation, greedy and sampled; Table 3 only in full',
    samples: 20000,
    model: 'small',
    baseSteps: 600,
    sftSteps: 8000,
    sftEvalEvery: 0,
    sftEvalSamples: 200,
    grpoSteps: 100,
    promptsPerStep: 8,
    groupSize: 8,
    grpoEvalEvery: 0,
    grpoEvalSamples: 0,
    evalLimit: 3000,
    sampledEval: true,
    seeds: [1, 2],
    table3Seeds: 'none',
    timing: SMALL_TIMING,
  },
  full: {
    purpose: 'the whole protocol at our scale: 5 seeds, the whole test split (6,000 questions) greedy and sampled, held-out curves, Table 3 over all seeds',
    samples: 20000,
    model: 'small',
    baseSteps: 600,
    sftSteps: 8000,
    sftEvalEvery: 1000,
    sftEvalSamples: 200,
    grpoSteps: 100,
    promptsPerStep: 8,
    groupSize: 8,
    grpoEvalEvery: 25,
    grpoEvalSamples: 150,
    evalLimit: 0,
    sampledEval: true,
    seeds: [1, 2, 3, 4, 5],
    table3Seeds: 'all',
    timing: SMALL_TIMING,
  },
};

/** The presets as table rows (header first), one column per preset; `mark` flags the preset in use. */
export function presetRows(presets: Record<string, Preset> = PRESETS, mark?: string): string[][] {
  const names = Object.keys(presets);
  const rows: Array<[string, (p: Preset) => string]> = [
    ['benchmark samples', (p) => String(p.samples)],
    ['model', (p) => p.model],
    ['base-stage steps (RL-only starts there)', (p) => (p.baseSteps ? String(p.baseSteps) : 'none')],
    ['SFT steps', (p) => String(p.sftSteps)],
    ['SFT held-out eval', (p) => `${p.sftEvalSamples} q, ${p.sftEvalEvery ? `every ${p.sftEvalEvery}` : 'at end'}`],
    ['Con-GRPO steps', (p) => String(p.grpoSteps)],
    ['prompts/step × G', (p) => `${p.promptsPerStep} × ${p.groupSize}`],
    ['Con-GRPO held-out eval', (p) => (p.grpoEvalSamples ? `${p.grpoEvalSamples} q every ${p.grpoEvalEvery}` : 'none')],
    ['eval questions', (p) => (p.evalLimit ? `first ${p.evalLimit} of test` : 'whole test split')],
    ['decoding', (p) => (p.sampledEval ? 'greedy and sampled (T = 1)' : 'greedy')],
    ['seeds', (p) => p.seeds.join(',')],
    ['Table 3 seeds', (p) => ({ none: 'none (Table 3 is in full)', first: 'first seed', all: 'all seeds' })[p.table3Seeds]],
  ];
  return [['', ...names.map((n) => (n === mark ? `${n} (this run)` : n))], ...rows.map(([label, f]) => [label, ...names.map((n) => f(presets[n]!))])];
}

/** Rows (header first) as a markdown table. */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const [head, ...body] = rows;
  if (!head) return '';
  const cell = (c: string): string => c.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n') + '\n';
}
