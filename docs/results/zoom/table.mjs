// The zoom ablation's table from an ablation.sh output folder: accuracy per task (mean ± std over
// seeds) and the paired difference against no zoom (95% hierarchical bootstrap over seeds, then
// questions — @medad/evaluator's pairedDifference, the one `medad reproduce` and `medad compare`
// use); an interval that contains 0 is a tie.
// usage: node docs/results/zoom/table.mjs OUT > docs/results/zoom/README.md
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bySeed, formatPaired, pairedDifference, readPredictions } from '@medad/evaluator';

const out = process.argv[2];
if (!out || !existsSync(join(out, 'evals'))) {
  console.error(`usage: node docs/results/zoom/table.mjs OUT (an ablation.sh output folder with evals/); got ${out}`);
  process.exit(2);
}
const TASKS = ['anatomy_identification', 'modality_classification', 'anomaly_detection', 'pathology_characterization', 'lesion_localization'];
const ROWS = [
  { id: 'sft-none-none', label: 'SFT, no zoom', base: null },
  { id: 'sft-none-predicted', label: 'SFT, predicted zoom at test only', base: 'sft-none-none' },
  { id: 'sft-none-oracle', label: 'SFT, oracle zoom at test only', base: 'sft-none-none' },
  { id: 'sft-zoom-none', label: 'SFT + zoom training, no zoom', base: 'sft-none-none' },
  { id: 'sft-zoom-predicted', label: 'SFT + zoom training, **predicted zoom**', base: 'sft-none-none' },
  { id: 'sft-zoom-oracle', label: 'SFT + zoom training, oracle zoom (upper bound)', base: 'sft-none-none' },
  { id: 'grpo-none-none', label: 'SFT + Con-GRPO, no zoom', base: null },
  { id: 'grpo-zoom-predicted', label: 'SFT + Con-GRPO with zoom, **predicted zoom**', base: 'grpo-none-none' },
  { id: 'grpo-zoom-oracle', label: 'SFT + Con-GRPO with zoom, oracle zoom (upper bound)', base: 'grpo-none-none' },
];

/** Every seed's predictions of a configuration (evals/<id>-<seed>/predictions.jsonl), finished evaluations only. */
function predictionsOf(id) {
  const dirs = readdirSync(join(out, 'evals')).filter((d) => d.startsWith(`${id}-`) && /^\d+$/.test(d.slice(id.length + 1)));
  // eval.json is written last: without it the predictions may be a running evaluation's first part.
  return dirs.flatMap((d) => (existsSync(join(out, 'evals', d, 'eval.json')) ? readPredictions(join(out, 'evals', d, 'predictions.jsonl')) : []));
}
const pct = (rows) => (rows.length ? (100 * rows.filter((p) => p.correct).length) / rows.length : NaN);
function meanStd(rows) {
  const per = [...bySeed(rows).values()].map(pct);
  if (!per.length) return '—';
  const m = per.reduce((a, b) => a + b, 0) / per.length;
  const sd = per.length > 1 ? Math.sqrt(per.reduce((a, b) => a + (b - m) ** 2, 0) / (per.length - 1)) : NaN;
  return `${m.toFixed(2)}${Number.isFinite(sd) ? ` ± ${sd.toFixed(2)}` : ''}`;
}
const only = (rows, task) => (task ? rows.filter((p) => p.task === task) : rows);

const data = new Map(ROWS.map((r) => [r.id, predictionsOf(r.id)]));
const log = existsSync(join(out, 'ablation.log')) ? readFileSync(join(out, 'ablation.log'), 'utf8').trim() : '';
const times = existsSync(join(out, 'logs')) ? readdirSync(join(out, 'logs')).filter((f) => f.endsWith('.time')).map((f) => Number(readFileSync(join(out, 'logs', f), 'utf8'))) : [];
const lines = [];
lines.push('# Zoom ablation (issue 22): no zoom, predicted zoom, oracle zoom', '');
lines.push('Made by `bash docs/results/zoom/ablation.sh OUT` and `node docs/results/zoom/table.mjs OUT` (the scripts beside this file).', '');
lines.push('```', log, '```', '');
lines.push(`Job time: ${(times.reduce((a, b) => a + b, 0) / 3600).toFixed(2)} h over ${times.length} steps (two at a time on 2 cores).`, '');
lines.push('Accuracy (%) per task, mean ± std over seeds; below each row with a baseline, Δ = row − baseline paired by seed and question with its 95% interval ("tie": the interval contains 0).', '');
lines.push(`| configuration | seeds | ${TASKS.map((t) => t.replace(/_/g, ' ')).join(' | ')} | overall |`);
lines.push(`|---|---|${TASKS.map(() => '---').join('|')}|---|`);
for (const r of ROWS) {
  const rows = data.get(r.id);
  if (!rows.length) continue;
  const seeds = [...bySeed(rows).keys()].sort((a, b) => a - b).join(',');
  lines.push(`| ${r.label} | ${seeds} | ${[...TASKS, null].map((t) => meanStd(only(rows, t))).join(' | ')} |`);
  if (r.base && data.get(r.base).length) {
    const base = data.get(r.base);
    const cells = [...TASKS, null].map((t) => formatPaired(pairedDifference(bySeed(only(rows, t)), bySeed(only(base, t)))));
    lines.push(`| Δ vs ${ROWS.find((x) => x.id === r.base).label} | | ${cells.join(' | ')} |`);
  }
}
process.stdout.write(lines.join('\n') + '\n');
