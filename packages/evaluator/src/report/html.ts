import { OPTION_LETTERS, TASKS, type Task } from '@medad/core';
import type { Prediction } from '../predictions.js';
import { TASK_LABELS } from '../tables.js';
import { barChart, confusionMatrix, lineChart, type Series } from './svg.js';

/** One training run's curves for the report. */
export interface ReportRun {
  name: string;
  /** Rows of its metrics.jsonl. */
  metrics: Array<Record<string, number | string>>;
}

/** A sample completion to show with its image. */
export interface ReportSample {
  id: string;
  task: Task;
  question: string;
  options: readonly string[];
  answer: string;
  output: string;
  correct: boolean;
  /** PNG bytes of the image (embedded as a data URL). */
  png?: Uint8Array;
}

/** Everything {@link renderReport} needs. */
export interface ReportInput {
  title: string;
  /** Markdown-free HTML fragments (e.g. the results tables rendered to HTML) placed first. */
  intro?: string;
  tablesHtml?: string;
  runs: ReportRun[];
  /** Training-curve keys to plot (each gets a chart with one line per run). */
  curveKeys: string[];
  /** Per-task accuracy bars: one series per method. */
  perTask: Array<{ method: string; perTask: Partial<Record<Task, number>> }>;
  /** Predictions of the configuration whose confusion matrices are shown. */
  confusion?: { method: string; predictions: Prediction[] };
  samples?: ReportSample[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Confusion counts per task: rows = key A–D, columns = predicted A–D and "no answer". */
export function confusionCounts(predictions: readonly Prediction[], task: Task): number[][] {
  const m = OPTION_LETTERS.map(() => [0, 0, 0, 0, 0]);
  for (const p of predictions) {
    if (p.task !== task) continue;
    const i = OPTION_LETTERS.indexOf(p.answer);
    const j = p.parsed ? OPTION_LETTERS.indexOf(p.parsed) : 4;
    if (i >= 0) m[i]![j]!++;
  }
  return m;
}

/** A self-contained HTML report: tables, training curves, per-task bars, confusion matrices, samples. */
export function renderReport(r: ReportInput): string {
  const curves = r.curveKeys
    .map((key) => {
      const series: Series[] = r.runs.map((run) => ({
        name: run.name,
        points: run.metrics
          .filter((row) => typeof row[key] === 'number')
          .map((row) => [Number(row['step']), Number(row[key])] as [number, number]),
      }));
      return series.some((s) => s.points.length) ? lineChart(series, { title: key, xLabel: 'step' }) : '';
    })
    .join('\n');
  const bars = barChart(
    TASKS.map((t) => TASK_LABELS[t]),
    r.perTask.map((m) => ({ name: m.method, values: TASKS.map((t) => m.perTask[t] ?? NaN) })),
    { title: 'Accuracy per task (%)' },
  );
  const confusion = r.confusion
    ? TASKS.map((t) => confusionMatrix([...OPTION_LETTERS], confusionCounts(r.confusion!.predictions, t), `${TASK_LABELS[t]} — ${r.confusion!.method}`)).join('\n')
    : '';
  const samples = (r.samples ?? [])
    .map((s) => {
      const img = s.png ? `<img alt="${esc(s.id)}" width="128" height="128" style="image-rendering:pixelated" src="data:image/png;base64,${Buffer.from(s.png).toString('base64')}">` : '';
      const opts = s.options.map((o, i) => `(${OPTION_LETTERS[i]}) ${esc(o)}`).join(' ');
      return `<div class="sample">${img}<div><b>${esc(TASK_LABELS[s.task])}</b> — ${esc(s.question)}<br><small>${opts}</small><br>key <b>${esc(s.answer)}</b> · ${s.correct ? '✔ correct' : '✘ wrong'}<pre>${esc(s.output)}</pre></div></div>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th:first-child,td:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:8px}.sample{display:flex;gap:12px;border-top:1px solid #eee;padding:8px 0}pre{white-space:pre-wrap;margin:4px 0;font-size:12px}</style>
</head><body>
<h1>${esc(r.title)}</h1>
${r.intro ?? ''}
${r.tablesHtml ?? ''}
<h2>Training curves</h2><div class="grid">${curves}</div>
<h2>Per-task accuracy</h2>${bars}
${confusion ? `<h2>Confusion matrices</h2><div class="grid">${confusion}</div>` : ''}
${samples ? `<h2>Sample completions</h2>${samples}` : ''}
</body></html>
`;
}

/** Renders a GitHub-style markdown table (as produced by `resultsTable`) to an HTML table. */
export function markdownTableToHtml(md: string): string {
  const rows = md.trim().split('\n').filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l) && !/^\|-/.test(l));
  const cells = rows.map((l) => l.slice(1, -1).split('|').map((c) => esc(c.trim())));
  if (!cells.length) return '';
  const [head, ...body] = cells;
  return `<table><thead><tr>${head!.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}
