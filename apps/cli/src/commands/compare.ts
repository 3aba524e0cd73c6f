import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { ErrorCode, MedadError } from '@medad/core';
import { formatPaired, isConsistent, isConsistentKeep, pairedDifference, readPredictions, type PairedDifference, type Prediction } from '@medad/evaluator';
import { printTable } from '../table.js';

/** What `medad compare` measures: A − B per outcome, paired on the questions (and decoding seeds) both answered. */
const OUTCOMES: Array<{ key: string; label: string; outcome: (p: Prediction) => boolean; needs?: (p: Prediction) => boolean }> = [
  { key: 'accuracy', label: 'accuracy', outcome: (p) => p.correct },
  { key: 'consistency', label: 'consistency (strip: findings only)', outcome: isConsistent, needs: (p) => p.judgeDeduction !== undefined },
  { key: 'consistencyKeep', label: 'consistency (keep: whole think)', outcome: isConsistentKeep, needs: (p) => p.judgeDeductionKeep !== undefined },
  { key: 'thinkCorrect', label: 'think-correct', outcome: (p) => p.thinkCorrect },
  { key: 'format', label: 'format', outcome: (p) => p.formatOk },
];

/** The predictions of an evaluation directory (or a predictions.jsonl), grouped by decoding seed. */
function load(path: string): Map<number, Prediction[]> {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'predictions.jsonl') : path;
  const rows = readPredictions(file);
  if (rows.length === 0) {
    throw new MedadError(ErrorCode.NotFound, `No predictions in ${file}`, { fix: 'pass a directory written by `medad eval --out DIR` (it holds predictions.jsonl), or the file itself' });
  }
  const bySeed = new Map<number, Prediction[]>();
  for (const p of rows) bySeed.set(p.seed, [...(bySeed.get(p.seed) ?? []), p]);
  return bySeed;
}

/** `medad compare A B`: paired differences (A − B) with 95% bootstrap intervals between two evaluations. */
export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('paired difference A − B between two evaluations (`medad eval --out` directories) on the questions both answered: accuracy, consistency under both judge readings, think-correctness and format, each with a 95% bootstrap interval')
    .argument('<a>', 'evaluation directory (or predictions.jsonl) A')
    .argument('<b>', 'evaluation directory (or predictions.jsonl) B')
    .option('--resamples <n>', 'bootstrap resamples', (v) => Number.parseInt(v, 10), 2000)
    .option('--json', 'print JSON')
    .action((a: string, b: string, opts: { resamples: number; json?: boolean }) => {
      const A = load(a);
      const B = load(b);
      const out: Record<string, PairedDifference & { a: number; b: number }> = {};
      for (const o of OUTCOMES) {
        const all = [...A.values(), ...B.values()].flat();
        if (o.needs && !all.every(o.needs)) continue; // not judged (or not under both readings) on one side
        const d = pairedDifference(A, B, { outcome: o.outcome, resamples: opts.resamples });
        const rate = (m: Map<number, Prediction[]>): number => {
          const rows = [...m.values()].flat();
          return (100 * rows.filter(o.outcome).length) / rows.length;
        };
        out[o.key] = { ...d, a: rate(A), b: rate(B) };
      }
      if (out.accuracy!.seeds.length === 0) {
        throw new MedadError(ErrorCode.BadUserInput, `${a} and ${b} share no decoding seed and question`, { fix: 'compare two evaluations of the same dataset split with the same --seeds' });
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        return;
      }
      printTable(
        ['OUTCOME', 'A %', 'B %', 'A − B [95% CI]', 'PAIRED QUESTIONS'],
        OUTCOMES.filter((o) => out[o.key]).map((o) => {
          const d = out[o.key]!;
          return [o.label, d.a.toFixed(2), d.b.toFixed(2), formatPaired(d), `${d.questions} × ${d.seeds.length} seed(s)`];
        }),
      );
    });
}
