import { Command } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_FIT, DEFAULT_MIN_CONFIDENCE, EVAL_VARIANTS, trainLearnedJudge, type HeldOutReport, type VariantAccuracy } from '@medad/plugin-judge-learned';
import { terminalProgress } from '../progress.js';
import { printTable } from '../table.js';
import { int, num } from './shared.js';

const COLUMNS: Record<(typeof EVAL_VARIANTS)[number], string> = {
  raw: 'RAW',
  lettersMasked: 'LETTERS MASKED',
  wrongLetter: 'WRONG LETTER',
  conclusionRemoved: 'CONCLUSION REMOVED',
  swappedConclusion: 'SWAPPED CONCLUSION',
};

function percentages(a: VariantAccuracy): string[] {
  return EVAL_VARIANTS.map((v) => `${(100 * a[v]).toFixed(1)}%`);
}

/** Prints the held-out report as a table: one row per task and one for all tasks. */
function printReport(report: HeldOutReport): void {
  const rows = Object.entries(report.perTask).map(([task, t]) => [task, t.samples, ...percentages(t.accuracy)]);
  rows.push(['all', report.samples, ...percentages(report.accuracy)]);
  printTable(['TASK', 'N', ...EVAL_VARIANTS.map((v) => COLUMNS[v])], rows);
}

/** `medad train judge`: trains the learned judge on a dataset's ground-truth CoTs and prints its held-out report. */
export function registerTrainJudgeCommand(train: Command): void {
  train
    .command('judge')
    .description('train the learned judge (plugin "learned") on ground-truth CoTs; prints held-out accuracy (raw, letters masked, wrong letter, conclusion removed, swapped conclusion)')
    .requiredOption('--data <dir>', 'dataset directory (samples.jsonl with train and test splits), e.g. from `medad data synth`')
    .requiredOption('--out <dir>', 'checkpoint directory: judge.json (config, weights, report) and report.json')
    .option('--seed <n>', 'random seed (validation slice, augmentation, example order)', int, 0)
    .option('--epochs <n>', 'maximum epochs (early stopping on a validation slice of train)', int, DEFAULT_FIT.epochs)
    .option('--min-confidence <x>', 'threshold of the report: a lower top probability is a null deduction', num, DEFAULT_MIN_CONFIDENCE)
    .option('--json', 'print the report as JSON')
    .action(async (o: { data: string; out: string; seed: number; epochs: number; minConfidence: number; json?: boolean }) => {
      const result = await trainLearnedJudge({
        dataDir: resolve(o.data),
        outDir: resolve(o.out),
        seed: o.seed,
        epochs: o.epochs,
        minConfidence: o.minConfidence,
        progress: o.json ? undefined : terminalProgress(),
      });
      if (o.json) {
        process.stdout.write(JSON.stringify({ file: result.file, training: result.checkpoint.training, report: result.report }, null, 2) + '\n');
        return;
      }
      process.stdout.write(`held-out accuracy on the ${result.report.split} split's ground-truth CoTs (null counts as wrong; minConfidence ${result.report.minConfidence}):\n`);
      printReport(result.report);
      process.stdout.write(`trained ${result.history.length} epochs (best ${result.bestEpoch}) in ${result.seconds} s; saved ${result.file}\n`);
      process.stdout.write(`use it: --judge learned:${resolve(o.out)}\n`);
    });
}
