/**
 * The reproduction report: `results.json`, `results.md` and a self-contained `report.html`,
 * computed from the files the jobs wrote (eval predictions, training metrics, baselines, the
 * dataset). Everything here is a function of those files, so it can be tested on hand-made ones.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTION_LETTERS, TASKS, type MedAdSample, type Task } from '@medad/core';
import { loadDatasetDir, type BaselineReport } from '@medad/dataset';
import { aggregateSeeds, barChart, confusionCounts, confusionMatrix, formatPaired, lineChart, meanStd, pairedDifference, readPredictions, summarize, TASK_LABELS, type MeanStd, type PairedDifference, type Prediction } from '@medad/evaluator';
import { evalDir, runDir, SAMPLED, TABLE1_METHODS, weightsLabel, type MethodSpec, type RewardWeights } from './plan.js';
import { markdownTable } from './presets.js';

/** Where the report reads from: the output directory and the configurations with their seeds. */
export interface ReportLayout {
  outDir: string;
  dataDir: string;
  methods: Array<MethodSpec & { seeds: number[] }>;
}

/** Facts about the run printed with the tables. */
export interface ReportMeta {
  /** The command that produced the results. */
  command: string;
  preset: string;
  /** Preset table rows (header first). */
  presetRows: string[][];
  /** The settings this run used (the preset with the seeds actually run). */
  settings?: Record<string, unknown>;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  /** Wall time over every invocation that worked on this directory. */
  wallSeconds: number;
  invocations: number;
  /** Sum of the finished jobs' own seconds. */
  jobSeconds: number;
  generatedAt: string;
}

/** Metrics of one evaluation (one method, one seed), percent. */
export interface SeedMetrics {
  seed: number;
  n: number;
  correct: number;
  /** Total correct / total questions. */
  overall: number;
  perTask: Partial<Record<Task, number>>;
  consistency: number;
  /** Consistency with the judge reading the whole think (`conclusion: 'keep'`); NaN when not measured. */
  consistencyKeep: number;
  formatRate: number;
  thinkCorrectness: number;
  invalidRate: number;
}

/** A configuration's results over its seeds. */
export interface MethodResult {
  id: string;
  label: string;
  table: 'table1' | 'table3';
  weights?: RewardWeights;
  /** Seeds in the plan. */
  seedsPlanned: number[];
  /** Seeds with a finished evaluation. */
  seeds: number[];
  perSeed: SeedMetrics[];
  overall: MeanStd;
  perTask: Partial<Record<Task, MeanStd>>;
  consistency: MeanStd;
  consistencyKeep: MeanStd;
  formatRate: MeanStd;
  thinkCorrectness: MeanStd;
  invalidRate: MeanStd;
  /** Overall accuracy with sampled decoding (T = 1) over the seeds, when the preset evaluates it. */
  sampledOverall?: MeanStd;
  /**
   * Paired difference to SFT-only in accuracy points (same seeds, same questions), with its 95%
   * interval from the hierarchical bootstrap over seeds and questions; absent for SFT-only itself.
   */
  pairedVsSftOnly?: PairedDifference;
}

/** One baseline on the evaluated questions. */
export interface BaselineResult {
  label: string;
  n: number;
  overall: number;
  perTask: Partial<Record<Task, number>>;
}

/** A Table 3 row. */
export interface Table3Row {
  label: string;
  weights: RewardWeights;
  method: string;
  seeds: number[];
  overall: MeanStd;
  consistency: MeanStd;
}

/** What `results.json` holds. */
export interface Results {
  meta: ReportMeta;
  tasks: Task[];
  /** Questions per evaluation (the test split or its first N). */
  evalQuestions: number | null;
  baselines: { textOnly: BaselineResult; imageOnly: BaselineResult } | null;
  methods: MethodResult[];
  table3: Table3Row[];
  ordering: string;
}

/** The paper's Table 1 overall accuracy (MedAD-R1), in its ascending order. */
export const PAPER_OVERALL: Array<{ method: string; overall: number }> = [
  { method: 'rl-only', overall: 73.22 },
  { method: 'sft', overall: 75.41 },
  { method: 'grpo-acc', overall: 78.85 },
  { method: 'grpo-con', overall: 81.73 },
  { method: 'con-grpo', overall: 85.15 },
];

/** Reads a JSONL file of objects; a torn or bad line is skipped. */
export function readJsonl(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === 'object') out.push(v as Record<string, unknown>);
    } catch {
      // a run killed mid-write leaves a torn last line
    }
  }
  return out;
}

/** Metrics of one seed's predictions (overall = correct / questions over all tasks). */
export function seedMetrics(predictions: readonly Prediction[], seed: number): SeedMetrics {
  const mine = predictions.filter((p) => p.seed === seed);
  const s = summarize(mine);
  return {
    seed,
    n: mine.length,
    correct: mine.filter((p) => p.correct).length,
    overall: s.overall,
    perTask: s.perTask,
    consistency: s.consistency,
    consistencyKeep: s.consistencyKeep,
    formatRate: s.formatRate,
    thinkCorrectness: s.thinkCorrectness,
    invalidRate: s.invalidRate,
  };
}

/** The predictions of a finished evaluation (`eval.json` present), else null. */
export function readEvalPredictions(outDir: string, method: string, seed: number): Prediction[] | null {
  const dir = evalDir(outDir, method, seed);
  if (!existsSync(join(dir, 'eval.json'))) return null;
  return readPredictions(join(dir, 'predictions.jsonl')).filter((p) => p.seed === seed);
}

/** Aggregates per-seed metrics into mean ± sample std (the evaluator's seed aggregation). */
export function aggregate(perSeed: readonly SeedMetrics[]): Pick<MethodResult, 'overall' | 'perTask' | 'consistency' | 'consistencyKeep' | 'formatRate' | 'thinkCorrectness' | 'invalidRate'> {
  const { seeds: _seeds, ...a } = aggregateSeeds(perSeed.map((s) => ({ seed: s.seed, summary: { ...s, perTaskThink: {} } })));
  return a;
}

/** A configuration's results from its eval directories. */
export function collectMethod(outDir: string, m: MethodSpec & { seeds: number[] }): MethodResult {
  const perSeed: SeedMetrics[] = [];
  for (const seed of m.seeds) {
    const preds = readEvalPredictions(outDir, m.id, seed);
    if (preds && preds.length) perSeed.push(seedMetrics(preds, seed));
  }
  const sampled = m.seeds.map((seed) => readEvalPredictions(outDir, `${m.id}${SAMPLED}`, seed)).filter((p): p is Prediction[] => !!p?.length);
  return {
    id: m.id,
    label: m.label,
    table: m.table,
    weights: m.weights,
    seedsPlanned: m.seeds,
    seeds: perSeed.map((s) => s.seed),
    perSeed,
    ...aggregate(perSeed),
    ...(sampled.length ? { sampledOverall: meanStd(sampled.map((p) => summarize(p).overall)) } : {}),
  };
}

/**
 * The baselines scored on the questions the methods were evaluated on (`ids`; all of their
 * test predictions when null), per task through the dataset's id → task map.
 */
export function baselineResults(report: Pick<BaselineReport, 'predictions'>, taskOf: ReadonlyMap<string, Task>, ids: ReadonlySet<string> | null): { textOnly: BaselineResult; imageOnly: BaselineResult } {
  const score = (label: string, preds: BaselineReport['predictions']['imageOnly']): BaselineResult => {
    const used = preds.filter((p) => !ids || ids.has(p.id));
    const perTask: Partial<Record<Task, number>> = {};
    for (const t of TASKS) {
      const items = used.filter((p) => taskOf.get(p.id) === t);
      if (items.length) perTask[t] = (100 * items.filter((p) => p.predicted === p.answer).length) / items.length;
    }
    return { label, n: used.length, overall: used.length ? (100 * used.filter((p) => p.predicted === p.answer).length) / used.length : NaN, perTask };
  };
  return { textOnly: score('Text-only baseline', report.predictions.textOnly), imageOnly: score('Image-only baseline', report.predictions.imageOnly) };
}

function loadSamples(dataDir: string): MedAdSample[] {
  try {
    return loadDatasetDir(dataDir).samples;
  } catch {
    return [];
  }
}

const fmt2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '—');

/** `mean ± std` over seeds (sample std); a single value when there is one seed; `—` when none. */
export function cell(m: MeanStd | undefined): string {
  if (!m || !m.n || !Number.isFinite(m.mean)) return '—';
  return m.n > 1 ? `${m.mean.toFixed(2)} ± ${m.std.toFixed(2)}` : m.mean.toFixed(2);
}

/** The paragraph comparing the measured ordering of overall accuracy with the paper's. */
export function orderingParagraph(methods: readonly MethodResult[], baselines: Results['baselines']): string {
  const byId = new Map(methods.map((m) => [m.id, m]));
  const label = (id: string): string => byId.get(id)?.label ?? TABLE1_METHODS.find((m) => m.id === id)?.label ?? id;
  const paper = PAPER_OVERALL.map((p) => `${label(p.method)} ${p.overall.toFixed(2)}`).join(' < ');
  const measured = PAPER_OVERALL.map((p) => byId.get(p.method)).filter((m): m is MethodResult => !!m && m.overall.n > 0 && Number.isFinite(m.overall.mean));
  const missing = PAPER_OVERALL.filter((p) => !measured.some((m) => m.id === p.method)).map((p) => label(p.method));
  const parts = [`Paper (Table 1, overall accuracy): ${paper}.`];
  if (!measured.length) {
    parts.push('No configuration has a finished evaluation yet, so there is no measured ordering.');
    return parts.join(' ');
  }
  const sorted = [...measured].sort((a, b) => a.overall.mean - b.overall.mean);
  const counts = [...new Set(measured.map((m) => m.overall.n))];
  const over = counts.length === 1 ? `${counts[0]} seed${counts[0] === 1 ? '' : 's'}` : `${Math.min(...counts)}–${Math.max(...counts)} seeds (see Table 1)`;
  const chain = sorted
    .map((m, i) => {
      const prev = sorted[i - 1];
      const rel = !prev ? '' : m.overall.mean.toFixed(2) === prev.overall.mean.toFixed(2) ? ' = ' : ' < ';
      return `${rel}${m.label} ${m.overall.mean.toFixed(2)}`;
    })
    .join('');
  parts.push(`Measured (overall accuracy, mean over ${over}): ${chain}.`);
  const r2 = (m: MethodResult): string => m.overall.mean.toFixed(2);
  const flips: string[] = [];
  for (let i = 0; i < PAPER_OVERALL.length; i++) {
    for (let j = i + 1; j < PAPER_OVERALL.length; j++) {
      const lo = byId.get(PAPER_OVERALL[i]!.method);
      const hi = byId.get(PAPER_OVERALL[j]!.method);
      // An inversion: the paper has lo below hi, we measure lo above hi (ties are reported apart).
      if (!lo || !hi || !lo.overall.n || !hi.overall.n || Number(r2(lo)) <= Number(r2(hi))) continue;
      const gap = lo.overall.mean - hi.overall.mean;
      const std = Math.max(lo.overall.std, hi.overall.std);
      const within = lo.overall.n > 1 && hi.overall.n > 1 ? (gap <= std ? `, within the larger seed std ${std.toFixed(2)}` : `, more than the larger seed std ${std.toFixed(2)}`) : '';
      flips.push(`${lo.label} (${r2(lo)}) is above ${hi.label} (${r2(hi)}) by ${gap.toFixed(2)} points${within}`);
    }
  }
  const ties = new Map<string, string[]>();
  for (const m of sorted) ties.set(r2(m), [...(ties.get(r2(m)) ?? []), m.label]);
  const tied = [...ties].filter(([, labels]) => labels.length > 1).map(([v, labels]) => `${labels.join(', ')} at ${v}`);
  if (tied.length) parts.push(`Tied (to two decimals), where the paper separates them: ${tied.join('; ')}.`);
  if (flips.length) parts.push(`Inverted relative to the paper: ${flips.join('; ')}.`);
  if (!flips.length && !tied.length) parts.push(missing.length ? "Among the evaluated configurations the ordering matches the paper's." : "The ordering matches the paper's.");
  else if (!flips.length) parts.push('No pair is inverted relative to the paper.');
  if (missing.length) parts.push(`Not evaluated: ${missing.join(', ')}.`);
  const paired = methods.filter((m) => m.table === 'table1' && m.pairedVsSftOnly && Number.isFinite(m.pairedVsSftOnly.mean));
  if (paired.length) {
    const sig = paired.filter((m) => m.pairedVsSftOnly!.significant).map((m) => m.label);
    parts.push(
      `Paired differences to SFT-only (accuracy points, same seeds and questions, 95% CI from a bootstrap over seeds and questions): ${paired.map((m) => `${m.label} ${formatPaired(m.pairedVsSftOnly!)}`).join('; ')}. ` +
        (sig.length ? `Significant (interval excludes 0): ${sig.join(', ')}; the others are ties with SFT-only.` : 'None is significant: every configuration ties with SFT-only.'),
    );
  }
  if (baselines && Number.isFinite(baselines.imageOnly.overall)) {
    const notAbove = sorted.filter((m) => m.overall.mean <= baselines.imageOnly.overall).map((m) => m.label);
    parts.push(
      `Baselines on the same questions: image-only ${baselines.imageOnly.overall.toFixed(2)}, text-only ${baselines.textOnly.overall.toFixed(2)}` +
        (notAbove.length ? `; not above the image-only baseline: ${notAbove.join(', ')}.` : '; every configuration is above the image-only baseline.'),
    );
  }
  return parts.join(' ');
}

/** Computes `results.json` from the output directory. */
export function collectResults(layout: ReportLayout, meta: ReportMeta): Results {
  const methods = layout.methods.map((m) => collectMethod(layout.outDir, m));
  const sft = layout.methods.find((m) => m.id === 'sft');
  if (sft) {
    const predictionsOf = (m: MethodSpec & { seeds: number[] }): Map<number, Prediction[]> => new Map(m.seeds.map((s) => [s, readEvalPredictions(layout.outDir, m.id, s) ?? []] as const).filter(([, p]) => p.length));
    const base = predictionsOf(sft);
    for (const [i, m] of layout.methods.entries()) {
      if (m.id !== 'sft' && base.size) methods[i]!.pairedVsSftOnly = pairedDifference(predictionsOf(m), base);
    }
  }
  const ids = new Set<string>();
  for (const m of layout.methods) for (const s of m.seeds) for (const p of readEvalPredictions(layout.outDir, m.id, s) ?? []) ids.add(p.id);
  const nQuestions = [...new Set(methods.flatMap((m) => m.perSeed.map((s) => s.n)))];
  let baselines: Results['baselines'] = null;
  const bFile = join(layout.outDir, 'baselines.json');
  if (existsSync(bFile)) {
    try {
      const report = JSON.parse(readFileSync(bFile, 'utf8')) as BaselineReport;
      const taskOf = new Map(loadSamples(layout.dataDir).map((s) => [s.id, s.task] as const));
      baselines = baselineResults(report, taskOf, ids.size ? ids : null);
    } catch {
      baselines = null;
    }
  }
  const full = methods.find((m) => m.id === 'con-grpo');
  const t3 = methods.filter((m) => m.table === 'table3');
  const t3Seeds = t3.length ? t3[0]!.seedsPlanned : (full?.seedsPlanned ?? []);
  const table3: Table3Row[] = [];
  if (full) {
    const same = full.perSeed.filter((s) => t3Seeds.includes(s.seed));
    const a = aggregate(same);
    table3.push({ label: weightsLabel(full.weights!), weights: full.weights!, method: full.id, seeds: same.map((s) => s.seed), overall: a.overall, consistency: a.consistency });
  }
  for (const m of t3) table3.push({ label: weightsLabel(m.weights!), weights: m.weights!, method: m.id, seeds: m.seeds, overall: m.overall, consistency: m.consistency });
  return {
    meta,
    tasks: [...TASKS],
    evalQuestions: nQuestions.length === 1 ? nQuestions[0]! : null,
    baselines,
    methods,
    table3,
    ordering: orderingParagraph(methods, baselines),
  };
}

/** Table 1 rows (header first): baselines and the five configurations, per task and overall. */
export function table1Rows(r: Results): string[][] {
  const head = ['Method', ...r.tasks.map((t) => TASK_LABELS[t]), 'Overall', 'Seeds', 'Δ vs SFT-only [95% CI]', 'Sampled overall'];
  const rows: string[][] = [head];
  const one = (x: number | undefined): string => (x === undefined ? '—' : fmt2(x));
  for (const b of r.baselines ? [r.baselines.textOnly, r.baselines.imageOnly] : []) rows.push([b.label, ...r.tasks.map((t) => one(b.perTask[t])), one(b.overall), 'deterministic', '—', '—']);
  if (!r.baselines) for (const label of ['Text-only baseline', 'Image-only baseline']) rows.push([label, ...r.tasks.map(() => '—'), '—', 'not run', '—', '—']);
  for (const m of r.methods.filter((x) => x.table === 'table1')) rows.push([m.label, ...r.tasks.map((t) => cell(m.perTask[t])), cell(m.overall), m.seeds.join(',') || 'none', m.pairedVsSftOnly ? formatPaired(m.pairedVsSftOnly) : '—', cell(m.sampledOverall)]);
  return rows;
}

/** Table 2 rows: the ablation (accuracy, consistency, think-correctness, format, invalid). */
export function table2Rows(r: Results): string[][] {
  const rows = [['Method', 'Accuracy', 'Consistency (findings)', 'Consistency (whole think)', 'Think-correct', 'Format', 'Invalid']];
  for (const id of ['sft', 'grpo-acc', 'grpo-con', 'con-grpo', 'grpo-care']) {
    const m = r.methods.find((x) => x.id === id);
    if (m) rows.push([m.label, cell(m.overall), cell(m.consistency), cell(m.consistencyKeep), cell(m.thinkCorrectness), cell(m.formatRate), cell(m.invalidRate)]);
  }
  return rows;
}

/** Table 3 rows: reward weights → overall accuracy and consistency. */
export function table3Rows(r: Results): string[][] {
  return [['λ (format, accuracy, consistency)', 'Overall', 'Consistency', 'Seeds'], ...r.table3.map((t) => [t.label, cell(t.overall), cell(t.consistency), t.seeds.join(',') || 'none'])];
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '—';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${sec} s` : `${sec} s`;
}

function machineLine(meta: ReportMeta): string {
  const m = meta.machine;
  return `${m.cpus} CPUs (${m.cpuModel}), ${m.platform}, Node ${m.node}`;
}

function wallLine(meta: ReportMeta): string {
  return `${duration(meta.wallSeconds)} wall over ${meta.invocations} invocation${meta.invocations === 1 ? '' : 's'} (jobs' own time summed: ${duration(meta.jobSeconds)})`;
}

/** `results.md`. */
export function renderMarkdown(r: Results): string {
  const q = r.evalQuestions !== null ? `${r.evalQuestions} test questions per evaluation` : 'test questions per evaluation differ between runs';
  return [
    '# MedAD-R1 reproduction on the embedded benchmark',
    '',
    `Command: \`${r.meta.command}\``,
    '',
    `Machine: ${machineLine(r.meta)}. Time: ${wallLine(r.meta)}. Generated ${r.meta.generatedAt}.`,
    '',
    `Accuracy in percent, greedy decoding (the last column: sampled at T = 1, where the preset evaluates it), ${q}; overall = total correct / total questions. Cells are mean ± sample std over the training seeds (each seed trains one base-stage and one SFT checkpoint that its RL configurations share); a cell without ± is a single run. Δ vs SFT-only is the paired difference on the same seeds and questions with its 95% interval (hierarchical bootstrap over seeds and questions); an interval containing 0 is a tie. Consistency (findings) = the rule judge, reading only the findings of the think (its concluding sentence removed), deduces the option that was answered; (whole think) = the same judge reading the conclusion too.`,
    '',
    '## Table 1 — accuracy per task',
    '',
    markdownTable(table1Rows(r)),
    'Baselines are trained on the train split and scored on the same questions as the configurations.',
    '',
    '## Table 2 — ablation of the reward',
    '',
    markdownTable(table2Rows(r)),
    '## Table 3 — reward weights',
    '',
    markdownTable(table3Rows(r)),
    'The weight settings besides 1/3 each are our choices (the paper\'s are not all listed); rows are labelled by their weights.',
    '',
    '## Ordering compared with the paper',
    '',
    r.ordering,
    '',
    `## Presets (this run: ${r.meta.preset})`,
    '',
    markdownTable(r.meta.presetRows),
  ].join('\n');
}

/** HTML-escapes text (and attribute values); control characters become U+FFFD. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd');
}

function htmlTable(rows: readonly (readonly string[])[]): string {
  const [head, ...body] = rows;
  if (!head) return '';
  return `<table><thead><tr>${head.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** Confusion counts per task (rows = key A–D, columns = parsed A–D and none). */
export function confusionByTask(predictions: readonly Prediction[]): Record<Task, number[][]> {
  return Object.fromEntries(TASKS.map((t) => [t, confusionCounts(predictions, t)])) as Record<Task, number[][]>;
}

/** A training run's curve data: one series per seed for each metric key. */
export interface CurveSet {
  method: string;
  label: string;
  charts: Array<{ key: string; series: Array<{ name: string; points: Array<[number, number]> }> }>;
}

/** A sample completion shown with its image. */
export interface SampleView {
  id: string;
  task: Task;
  question: string;
  options: readonly string[];
  answer: string;
  parsed: string | null;
  judge: string | null;
  output: string;
  correct: boolean;
  /** `data:` URL of the image, when it could be read. */
  image?: string;
}

/** Everything `report.html` shows besides `results.json`. */
export interface HtmlInputs {
  curves: CurveSet[];
  confusion: { label: string; seeds: number[]; counts: Record<Task, number[][]> } | null;
  samples: SampleView[];
}

const SFT_KEYS = ['loss', 'loss_letter', 'eval_overall'];
const RL_KEYS = ['reward_mean', 'reward_format', 'reward_accuracy', 'reward_consistency', 'kl', 'consistency_rate'];

/** At most `max` points: bucket means when longer. */
export function downsample(points: ReadonlyArray<[number, number]>, max = 200): Array<[number, number]> {
  if (points.length <= max) return [...points];
  const out: Array<[number, number]> = [];
  const size = points.length / max;
  for (let b = 0; b < max; b++) {
    const part = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (!part.length) continue;
    out.push([part[part.length - 1]![0], part.reduce((a, p) => a + p[1], 0) / part.length]);
  }
  return out;
}

function imageDataUrl(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const bytes = readFileSync(file);
  const mime = bytes[0] === 0x89 && bytes[1] === 0x50 ? 'image/png' : bytes[0] === 0xff && bytes[1] === 0xd8 ? 'image/jpeg' : undefined;
  return mime ? `data:${mime};base64,${bytes.toString('base64')}` : undefined;
}

/** Picks up to `count` predictions: one per task alternating correct/wrong, then the rest in order. */
export function pickSamples(predictions: readonly Prediction[], count = 6): Prediction[] {
  const chosen: Prediction[] = [];
  TASKS.forEach((t, i) => {
    const items = predictions.filter((p) => p.task === t);
    const want = i % 2 === 0;
    const p = items.find((x) => x.correct === want) ?? items[0];
    if (p) chosen.push(p);
  });
  for (const p of predictions) {
    if (chosen.length >= count) break;
    if (!chosen.includes(p)) chosen.push(p);
  }
  return chosen.slice(0, count);
}

/** Reads the curves, the full method's predictions and sample images. */
export function collectHtmlInputs(layout: ReportLayout): HtmlInputs {
  const curves: CurveSet[] = layout.methods.map((m) => {
    const keys = m.kind === 'sft' ? SFT_KEYS : RL_KEYS;
    const perSeed = m.seeds.map((seed) => ({ seed, rows: readJsonl(join(runDir(layout.outDir, m.id, seed), 'metrics.jsonl')) }));
    const charts = keys
      .map((key) => ({
        key,
        series: perSeed.map(({ seed, rows }) => ({
          name: `seed ${seed}`,
          points: downsample(rows.filter((r) => typeof r[key] === 'number' && typeof r['step'] === 'number').map((r) => [r['step'] as number, r[key] as number] as [number, number])),
        })),
      }))
      .filter((c) => c.series.some((s) => s.points.length));
    return { method: m.id, label: m.label, charts };
  });
  const full = layout.methods.find((m) => m.id === 'con-grpo');
  let confusion: HtmlInputs['confusion'] = null;
  let samples: SampleView[] = [];
  if (full) {
    const bySeed = full.seeds.map((s) => ({ seed: s, preds: readEvalPredictions(layout.outDir, full.id, s) })).filter((x): x is { seed: number; preds: Prediction[] } => !!x.preds?.length);
    if (bySeed.length) {
      confusion = { label: full.label, seeds: bySeed.map((x) => x.seed), counts: confusionByTask(bySeed.flatMap((x) => x.preds)) };
      const byId = new Map(loadSamples(layout.dataDir).map((s) => [s.id, s]));
      samples = pickSamples(bySeed[0]!.preds).map((p) => {
        const s = byId.get(p.id);
        return {
          id: p.id,
          task: p.task,
          question: s?.question ?? '',
          options: s?.options ?? [],
          answer: p.answer,
          parsed: p.parsed,
          judge: p.judgeDeduction,
          output: p.raw,
          correct: p.correct,
          image: s ? imageDataUrl(join(layout.dataDir, s.image)) : undefined,
        };
      });
    }
  }
  return { curves, confusion, samples };
}

/** `report.html`: self-contained (inline SVG and data-URL images, no scripts). */
export function renderHtml(r: Results, h: HtmlInputs): string {
  const title = 'MedAD-R1 reproduction on the embedded benchmark';
  const curves = h.curves
    .filter((c) => c.charts.length)
    .map((c) => `<h3>${escapeHtml(c.label)}</h3><div class="grid">${c.charts.map((ch) => lineChart(ch.series, { title: ch.key, xLabel: 'step', width: 340, height: 200 })).join('')}</div>`)
    .join('\n');
  const bars = barChart(
    r.tasks.map((t) => TASK_LABELS[t]),
    [
      ...(r.baselines ? [r.baselines.textOnly, r.baselines.imageOnly].map((b) => ({ name: b.label.replace(' baseline', ''), values: r.tasks.map((t) => b.perTask[t] ?? NaN) })) : []),
      ...r.methods.filter((m) => m.table === 'table1').map((m) => ({ name: m.label === 'SFT-only' ? 'SFT' : m.label.replace(/^SFT\+/, ''), values: r.tasks.map((t) => m.perTask[t]?.mean ?? NaN) })),
    ],
    { title: 'Accuracy per task (%), mean over seeds', width: 1000, height: 320 },
  );
  const confusion = h.confusion
    ? `<h2>Confusion matrices — ${escapeHtml(h.confusion.label)} (seeds ${escapeHtml(h.confusion.seeds.join(','))} pooled; rows = key, columns = parsed answer, ∅ = none)</h2><div class="grid">${r.tasks
        .map((t) => confusionMatrix([...OPTION_LETTERS], h.confusion!.counts[t], TASK_LABELS[t]))
        .join('')}</div>`
    : '';
  const samples = h.samples
    .map((s) => {
      const img = s.image ? `<img alt="${escapeHtml(s.id)}" width="128" height="128" src="${escapeHtml(s.image)}">` : '';
      const opts = s.options.map((o, i) => `(${OPTION_LETTERS[i]}) ${escapeHtml(o)}`).join(' · ');
      return `<div class="sample">${img}<div><b>${escapeHtml(TASK_LABELS[s.task])}</b> <small>${escapeHtml(s.id)}</small><br>${escapeHtml(s.question)}<br><small>${opts}</small><br>key <b>${escapeHtml(s.answer)}</b> · answered <b>${escapeHtml(s.parsed ?? 'none')}</b> · judge <b>${escapeHtml(s.judge ?? 'none')}</b> · ${s.correct ? 'correct' : 'wrong'}<pre>${escapeHtml(s.output)}</pre></div></div>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th:first-child,td:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:8px}.sample{display:flex;gap:12px;border-top:1px solid #eee;padding:8px 0}.sample img{image-rendering:pixelated}pre{white-space:pre-wrap;margin:4px 0;font-size:12px;background:#f7f7f7}code{background:#f3f3f3}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p>Command: <code>${escapeHtml(r.meta.command)}</code><br>Machine: ${escapeHtml(machineLine(r.meta))}<br>Time: ${escapeHtml(wallLine(r.meta))}<br>Generated ${escapeHtml(r.meta.generatedAt)}</p>
<p>Accuracy in percent, greedy decoding${r.evalQuestions !== null ? `, ${r.evalQuestions} test questions per evaluation` : ''}; overall = total correct / total questions; cells are mean ± sample std over training seeds.</p>
<h2>Table 1 — accuracy per task</h2>${htmlTable(table1Rows(r))}
<h2>Table 2 — ablation of the reward</h2>${htmlTable(table2Rows(r))}
<h2>Table 3 — reward weights</h2>${htmlTable(table3Rows(r))}
<h2>Ordering compared with the paper</h2><p>${escapeHtml(r.ordering)}</p>
<h2>Per-task accuracy</h2>${bars}
<h2>Training curves</h2>${curves || '<p>No training metrics yet.</p>'}
${confusion}
${samples ? `<h2>Sample completions — ${escapeHtml(h.confusion?.label ?? '')}, seed ${escapeHtml(String(h.confusion?.seeds[0] ?? ''))}</h2>${samples}` : ''}
<h2>Presets (this run: ${escapeHtml(r.meta.preset)})</h2>${htmlTable(r.meta.presetRows)}
</body></html>
`;
}

/** JSON with NaN/Infinity written as null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** Writes `results.json`, `results.md` and `report.html` into the output directory. */
export function writeReport(layout: ReportLayout, meta: ReportMeta): { results: Results; files: string[] } {
  const results = collectResults(layout, meta);
  const files = [join(layout.outDir, 'results.json'), join(layout.outDir, 'results.md'), join(layout.outDir, 'report.html')];
  writeFileSync(files[0]!, toJson(results));
  writeFileSync(files[1]!, renderMarkdown(results));
  writeFileSync(files[2]!, renderHtml(results, collectHtmlInputs(layout)));
  return { results, files };
}
