import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEMO_DEFAULTS, conGrpoHyperSchema, consoleLogger, parseRunSpec, sftHyperSchema } from '@medad/core';
import { aggregateSeeds, resultsTable } from '@medad/evaluator';
import { terminalProgress } from '../progress.js';
import { int } from './shared.js';
import { runSpecNow } from './train.js';

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
    .option('--sft-steps <n>', 'SFT steps (small preset)', int, sftHyperSchema.parse({}).steps)
    .option('--grpo-steps <n>', 'Con-GRPO steps', int, conGrpoHyperSchema.parse({}).steps)
    .option('--eval-limit <n>', 'test samples to evaluate (0 = all)', int, DEMO_DEFAULTS.evalLimit)
    .action(async (o) => {
      const log = consoleLogger('info');
      const dir = resolve(o.dir);
      const data = join(dir, 'data');
      const run = (raw: Record<string, unknown>) => runSpecNow(parseRunSpec(raw, 'demo'));
      if (!existsSync(join(data, 'samples.jsonl'))) {
        log.info(`building the embedded benchmark (${o.samples} samples, seed 42) in ${data}`);
        await runSpecNow(parseRunSpec({ kind: 'dataset', out: data, generator: { plugin: 'synthetic', config: { samples: o.samples, seed: 42 } } }, 'demo'), undefined, true, terminalProgress());
      }
      log.info('stage 1/3: SFT (cognitive injection), small preset');
      await run({ kind: 'sft', data, out: join(dir, 'runs', 'sft'), seed: o.seed, hyper: { steps: o.sftSteps } });
      log.info('stage 2/3: Con-GRPO from the SFT checkpoint (format + accuracy + consistency, rule judge)');
      await run({ kind: 'con-grpo', data, out: join(dir, 'runs', 'con-grpo'), from: join(dir, 'runs', 'sft'), seed: o.seed, hyper: { steps: o.grpoSteps } });
      log.info('stage 3/3: evaluation on the test split');
      const rows = [];
      for (const [method, id] of [['SFT', 'sft'], ['SFT + Con-GRPO', 'con-grpo']] as const) {
        const outcome = await run({ kind: 'eval', data, out: join(dir, 'eval', id), checkpoint: join(dir, 'runs', id), ...(o.evalLimit ? { limit: o.evalLimit } : {}) });
        if (outcome.kind === 'eval') rows.push({ method, result: aggregateSeeds(outcome.result.perSeed) });
      }
      process.stdout.write('\n' + resultsTable(rows));
      process.stdout.write(`\nruns, checkpoints and predictions are under ${dir}\n`);
    });
}
