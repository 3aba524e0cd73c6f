/** The shapes the dashboard reads from the GraphQL API, and small pure helpers over them. */

export type RunKind = 'BUILD_DATASET' | 'SFT' | 'CON_GRPO' | 'EVAL';
export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'INTERRUPTED';
export const RUN_KINDS: RunKind[] = ['SFT', 'CON_GRPO', 'EVAL', 'BUILD_DATASET'];
export const RUN_STATUSES: RunStatus[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];
export const KIND_LABEL: Record<RunKind, string> = { SFT: 'SFT', CON_GRPO: 'Con-GRPO', EVAL: 'Evaluation', BUILD_DATASET: 'Dataset' };
export const ACTIVE: readonly RunStatus[] = ['QUEUED', 'RUNNING'];
export const RESUMABLE: readonly RunStatus[] = ['FAILED', 'CANCELLED', 'INTERRUPTED'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- validated run specs are open JSON
export type Json = any;

export interface MetricPoint {
  step: number;
  time?: string;
  values: Record<string, number>;
}

export interface Score {
  mean: number | null;
  std: number | null;
}

export interface Evaluation {
  n: number | null;
  seeds: number[];
  overall: Score;
  perTask: Array<{ task: string } & Score>;
  consistency: Score | null;
  formatRate: Score | null;
  thinkCorrectness: Score | null;
  invalidRate: number | null;
  raw: Json;
}

/** What every view of a run reads. */
export interface RunBase {
  id: string;
  kind: RunKind;
  status: RunStatus;
  statusMessage: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  backend: string | null;
  config: Json;
}

export interface RunSummary extends RunBase {
  /** The last metric row (the list's progress and headline). */
  lastMetrics: MetricPoint | null;
  evaluation: { overall: Score } | null;
}

export const RUN_SUMMARY_FIELDS = 'id kind status statusMessage createdAt startedAt finishedAt durationMs backend config lastMetrics { step values } evaluation { overall { mean std } }';
export const EVALUATION_FIELDS = 'n seeds overall { mean std } perTask { task mean std } consistency { mean std } formatRate { mean std } thinkCorrectness { mean std } invalidRate raw';

/** `/data/datasets/demo` → `demo`; a dataset that waits for a build run → `run <id>`. */
export function datasetOf(config: Json): string {
  const data = config?.data ?? config?.dataset?.path ?? config?.out;
  if (typeof data === 'string') return data.split(/[\\/]/).filter(Boolean).pop() ?? data;
  if (typeof config?.name === 'string') return config.name;
  return '—';
}

/** The device the run asked for and the backend it reported. */
export function deviceOf(run: Pick<RunSummary, 'backend' | 'config'>): string {
  const device = run.config?.compute?.device;
  return [run.backend, device && device !== 'auto' ? device : undefined].filter(Boolean).join(' · ') || '—';
}

/** Steps done / planned, and the remaining time at the pace so far (training runs). */
export function progressOf(run: Pick<RunSummary, 'kind' | 'status' | 'config' | 'lastMetrics' | 'durationMs'>): { done: number; total: number; etaMs: number | null } | undefined {
  const total = Number(run.config?.hyper?.steps);
  if (!(run.kind === 'SFT' || run.kind === 'CON_GRPO') || !Number.isFinite(total) || total <= 0) return undefined;
  const done = Math.min(total, run.lastMetrics?.step ?? 0);
  const etaMs = run.status === 'RUNNING' && done > 0 && run.durationMs ? (run.durationMs * (total - done)) / done : null;
  return { done, total, etaMs };
}

/** The one or two numbers a run is judged by, from its last metric row or its evaluation. */
export function headlineOf(run: Pick<RunSummary, 'kind' | 'lastMetrics' | 'evaluation'>): string {
  if (run.kind === 'EVAL') return run.evaluation?.overall.mean != null ? `accuracy ${pct(run.evaluation.overall.mean)}` : '—';
  const last = run.lastMetrics?.values ?? {};
  const parts: string[] = [];
  const add = (key: string, label: string, f: (x: number) => string): void => {
    if (typeof last[key] === 'number') parts.push(`${label} ${f(last[key])}`);
  };
  add('loss', 'loss', (x) => x.toFixed(3));
  add('reward_mean', 'reward', (x) => x.toFixed(3));
  add('accuracy', 'acc', pct);
  add('eval_overall', 'held-out', pct);
  add('consistency_rate', 'consistency', pct);
  return parts.join(' · ') || '—';
}

export const pct = (x: number | null | undefined): string => (x == null || !Number.isFinite(x) ? '—' : `${x.toFixed(1)}%`);
export const meanStd = (s: Score | null | undefined, unit = ''): string =>
  s?.mean == null ? '—' : `${s.mean.toFixed(2)}${unit}${s.std != null && Number.isFinite(s.std) ? ` ± ${s.std.toFixed(2)}` : ''}`;

export function duration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export const TASKS = ['anatomy_identification', 'modality_classification', 'anomaly_detection', 'pathology_characterization', 'lesion_localization'];
export const taskLabel = (t: string): string => t.replace(/_/g, ' ');

// ---- metric groups ---------------------------------------------------------------------------

/** A chart of the run detail: the metric names it draws. */
export interface MetricGroup {
  id: string;
  title: string;
  keys: string[];
  /** Percentages: the y axis reads 0–100. */
  percent?: boolean;
}

const GROUPS: Array<{ id: string; title: string; test: RegExp; percent?: boolean }> = [
  { id: 'loss', title: 'Loss', test: /^loss/ },
  { id: 'reward', title: 'Reward and its components', test: /^reward/ },
  { id: 'kl', title: 'KL to the reference', test: /^kl/ },
  { id: 'accuracy', title: 'Accuracy', test: /^(accuracy|eval_overall|eval_accuracy)$/, percent: true },
  { id: 'accuracy-task', title: 'Accuracy per task', test: /^(accuracy_|eval_acc_)/, percent: true },
  { id: 'consistency', title: 'Consistency (judge readings)', test: /consisten|^eval_think$/, percent: true },
  { id: 'format', title: 'Format rate', test: /format|invalid/, percent: true },
  { id: 'length', title: 'Completion length (tokens)', test: /length/ },
  { id: 'zero-variance', title: 'Zero-variance groups and groups trained', test: /zero_variance|trained_groups/ },
  { id: 'time', title: 'Step time split', test: /^time_|^step_ms$/ },
];

/** Splits a run's metric names into the charts above; every other name gets a chart of its own. */
export function groupMetrics(keys: Iterable<string>): MetricGroup[] {
  const all = [...new Set(keys)].filter((k) => k !== 'step').sort();
  const taken = new Set<string>();
  const out: MetricGroup[] = [];
  for (const g of GROUPS) {
    const ks = all.filter((k) => !taken.has(k) && g.test.test(k));
    ks.forEach((k) => taken.add(k));
    if (ks.length) out.push({ id: g.id, title: g.title, keys: ks, percent: g.percent });
  }
  for (const k of all) if (!taken.has(k) && !/^(elapsed_s|train_s|eval_think_)/.test(k)) out.push({ id: `m-${k}`, title: k, keys: [k] });
  return out;
}

/** TensorBoard's smoothing: a debiased exponential moving average over the points that exist. */
export function smooth(values: ReadonlyArray<number | null>, weight: number): Array<number | null> {
  if (weight <= 0) return [...values];
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v == null || !Number.isFinite(v)) return null;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - weight ** n);
  });
}
