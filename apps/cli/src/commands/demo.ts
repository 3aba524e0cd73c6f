import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { consoleLogger, createRootContainer } from '@medad/core';
import { JsonlDataset } from '@medad/dataset';
import { aggregateSeeds, evaluate, resultsTable } from '@medad/evaluator';
import { synthesizeAtomically } from '@medad/plugin-dataset-synthetic';
import { CON_GRPO_DEFAULTS, DEMO_DEFAULTS, SFT_DEFAULTS, trainConGrpo, trainSft } from '@medad/trainer';
import { terminalProgress } from '../progress.js';
import { discoverAll, int, rewardsAndJudge, DEFAULT_REWARDS } from './shared.js';

/**
 * `medad demo`: the whole pipeline on embedded defaults — build the benchmark, SFT, Con-GRPO,
 * evaluate SFT and SFT + Con-GRPO side by side. Each stage resumes if interrupted.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the pipeline on the embedded benchmark: synth data → SFT → Con-GRPO → evaluation (resumable)')
    .option('--dir <dir>', 'working directory for data and runs', 'demo')
    .option('--samples <n>', 'benchmark size (20,000: the 10-minute SFT memorises 2,000 and levels at ~55%)', int, DEMO_DEFAULTS.samples)
    .option('--seed <n>', 'seed', int, 0)
    .option('--sft-steps <n>', 'SFT steps (small preset)', int, SFT_DEFAULTS.steps)
    .option('--grpo-steps <n>', 'Con-GRPO steps', int, CON_GRPO_DEFAULTS.steps)
    .option('--eval-limit <n>', 'test samples to evaluate (0 = all)', int, DEMO_DEFAULTS.evalLimit)
    .action(async (o) => {
      const log = consoleLogger('info');
      const dir = resolve(o.dir);
      const data = join(dir, 'data');
      if (!existsSync(join(data, 'samples.jsonl'))) {
        log.info(`building the embedded benchmark (${o.samples} samples, seed 42) in ${data}`);
        synthesizeAtomically(data, { samples: o.samples, seed: 42, progress: terminalProgress() });
      }
      log.info('stage 1/3: SFT (cognitive injection), small preset');
      const sft = await trainSft({ dataDir: data, outDir: join(dir, 'runs', 'sft'), preset: 'small', seed: o.seed, steps: o.sftSteps, progress: terminalProgress(), logger: log });
      sft.policy.dispose();
      log.info('stage 2/3: Con-GRPO from the SFT checkpoint (format + accuracy + consistency, rule judge)');
      const { rewards, judge } = await rewardsAndJudge(DEFAULT_REWARDS, 'rule');
      const rl = await trainConGrpo({ dataDir: data, outDir: join(dir, 'runs', 'con-grpo'), from: join(dir, 'runs', 'sft'), rewards, judge, seed: o.seed, steps: o.grpoSteps, progress: terminalProgress(), logger: log });
      rl.policy.dispose();
      log.info('stage 3/3: evaluation on the test split');
      const { registry } = await discoverAll();
      const dataset = JsonlDataset.open(data);
      const rows = [];
      for (const [method, run] of [['SFT', 'sft'], ['SFT + Con-GRPO', 'con-grpo']] as const) {
        const backbone = await registry.create('backbone', 'tfjs-vlm', { checkpoint: join(dir, 'runs', run, 'checkpoint') }, createRootContainer());
        const result = await evaluate({ backbone, dataset, judge, limit: o.evalLimit || undefined, outDir: join(dir, 'eval', run), progress: terminalProgress() });
        await backbone.dispose?.();
        rows.push({ method, result: aggregateSeeds(result.perSeed) });
      }
      process.stdout.write('\n' + resultsTable(rows));
      process.stdout.write(`\nruns, checkpoints and predictions are under ${dir}\n`);
    });
}
