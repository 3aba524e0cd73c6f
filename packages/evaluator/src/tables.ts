import { TASKS, type Task } from '@medad/core';
import type { MeanStd, SeedAggregate } from './metrics.js';

/** Column headers the paper uses for the five tasks. */
export const TASK_LABELS: Record<Task, string> = {
  anatomy_identification: 'Anatomy',
  modality_classification: 'Modality',
  anomaly_detection: 'Anomaly',
  pathology_characterization: 'Pathology',
  lesion_localization: 'Localization',
};

/** `85.15 ± 1.02`, or `—` when missing. */
export function formatMeanStd(m: MeanStd | undefined, digits = 2): string {
  if (!m || !Number.isFinite(m.mean)) return '—';
  return m.n > 1 ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits);
}

/** One row of a results table. */
export interface ResultRow {
  method: string;
  result: SeedAggregate;
  /** Extra leading columns (e.g. reward weights for Table 3). */
  extra?: string[];
}

/**
 * A markdown table in the paper's layout: method, the five task accuracies, overall, and
 * consistency / think-correctness (the gap Con-GRPO closes).
 */
export function resultsTable(rows: readonly ResultRow[], extraHeaders: readonly string[] = []): string {
  const header = ['Method', ...extraHeaders, ...TASKS.map((t) => TASK_LABELS[t]), 'Overall', 'Consistency', 'Think-correct'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const cells = [
      r.method,
      ...(r.extra ?? []),
      ...TASKS.map((t) => formatMeanStd(r.result.perTask[t])),
      formatMeanStd(r.result.overall),
      formatMeanStd(r.result.consistency),
      formatMeanStd(r.result.thinkCorrectness),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
