// `npm run bench -- grpo`: the default Con-GRPO step, end to end through `medad train con-grpo`
// (the CLI a user runs: rule judge, the paper's three rewards, every default), from a short SFT on a
// fixed-seed benchmark. Reports the median step time and its rollout / judge / update split, over
// the steps after the warm-up ones.
// Env: MEDAD_GRPO_BENCH_STEPS (Con-GRPO steps, default 14; the first 2 are warm-up),
// MEDAD_GRPO_BENCH_SFT_STEPS (default 800: enough for well-formed ~35-token completions).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// MEDAD_GRPO_BENCH_CLI: another build's apps/cli/bin/medad.js (e.g. a clone of an older commit), for before/after figures.
const medad = process.env.MEDAD_GRPO_BENCH_CLI ?? join(here, '..', 'apps', 'cli', 'bin', 'medad.js');
const WARMUP = 2;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export default async function grpo({ log }) {
  const steps = Number(process.env.MEDAD_GRPO_BENCH_STEPS ?? 14);
  const sftSteps = Number(process.env.MEDAD_GRPO_BENCH_SFT_STEPS ?? 800);
  if (!(steps > WARMUP)) throw new Error(`MEDAD_GRPO_BENCH_STEPS must be more than ${WARMUP} (the warm-up steps), got ${steps}`);
  // From the CLI's own checkout: plugins are discovered from the working directory's workspace.
  const run = (args) => execFileSync(process.execPath, [medad, ...args], { cwd: join(dirname(medad), '..', '..', '..'), stdio: ['ignore', 'ignore', 'inherit'] });
  const data = join(tmpdir(), 'medad-grpo-bench-data-s0-n4000');
  if (!existsSync(join(data, 'samples.jsonl'))) {
    log(`building the benchmark (seed 0, 4,000 samples) in ${data}...`);
    run(['data', 'synth', '--out', data, '--samples', '4000', '--seed', '0']);
  }
  const dir = mkdtempSync(join(tmpdir(), 'medad-grpo-bench-'));
  try {
    log(`SFT, small, ${sftSteps} steps (the starting policy)...`);
    run(['train', 'sft', '--data', data, '--out', join(dir, 'sft'), '--steps', String(sftSteps), '--eval-every', '0', '--eval-samples', '0', '--seed', '0']);
    log(`Con-GRPO with every default, ${steps} steps...`);
    run(['train', 'con-grpo', '--data', data, '--from', join(dir, 'sft'), '--out', join(dir, 'grpo'), '--steps', String(steps), '--eval-every', '0', '--eval-samples', '0', '--seed', '0']);
    const rows = readFileSync(join(dir, 'grpo', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).slice(WARMUP);
    const spec = JSON.parse(readFileSync(join(dir, 'grpo', 'spec.json'), 'utf8'));
    const of = (key) => median(rows.map((r) => r[key]));
    const stepS = rows.map((r) => r.time_rollout_s + r.time_judge_s + r.time_update_s);
    // Dynamic sampling rolls out oversample × the prompts; the update trains on promptsPerStep groups.
    const completions = Math.ceil(spec.hyper.promptsPerStep * spec.hyper.oversample) * spec.hyper.groupSize;
    const tokens = rows.map((r) => r.completion_length * completions);
    return {
      cli: medad,
      step_shape: { prompts_per_step: spec.hyper.promptsPerStep, oversample: spec.hyper.oversample, group_size: spec.hyper.groupSize, completions, max_new_tokens: spec.hyper.maxNewTokens, mu: spec.hyper.mu, preset: 'small', sft_steps: sftSteps },
      measured_steps: rows.length,
      step_s: median(stepS),
      step_s_min: Math.min(...stepS),
      step_s_max: Math.max(...stepS),
      rollout_s: of('time_rollout_s'),
      judge_s: of('time_judge_s'),
      update_s: of('time_update_s'),
      rollout_share: of('time_rollout_s') / median(stepS),
      completion_length: of('completion_length'),
      rollout_tokens_per_s: median(rows.map((r, i) => tokens[i] / r.time_rollout_s)),
      format_rate: of('format_rate'),
      accuracy: of('accuracy'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
