/** One run: status and controls, live charts, its evaluation, completions or predictions, spec and events. */
import { useMemo, useRef, useState } from 'preact/hooks';
import { gql, useQuery, useSubscription } from '../api.js';
import { align, Chart } from '../chart.js';
import { ACTIVE, EVALUATION_FIELDS, KIND_LABEL, RESUMABLE, TASKS, datasetOf, deviceOf, duration, groupMetrics, meanStd, pct, progressOf, taskLabel, when, type Evaluation, type MetricPoint, type RunBase, type RunKind, type RunStatus } from '../model.js';
import { StatusPill, href, showError, useInterval } from '../ui.js';
import { Viewer } from './viewer.js';

interface RunDetailData extends RunBase {
  attempts: number;
  dir: string;
  worker: string | null;
  dependsOn: string | null;
  command: string[] | null;
  metricCount: number;
  checkpoints: Array<{ step: number; path: string; createdAt: string }>;
  events: Array<{ time: string; type: string; status: RunStatus | null; level: string | null; message: string | null }>;
  evaluation: Evaluation | null;
}

const DETAIL = `id kind status statusMessage createdAt startedAt finishedAt durationMs backend attempts dir worker dependsOn command config metricCount
  checkpoints { step path createdAt } events(last: 40) { time type status level message } evaluation { ${EVALUATION_FIELDS} }`;

type Tab = 'charts' | 'evaluation' | 'completions' | 'predictions' | 'spec' | 'events';

function tabsOf(kind: RunKind): Array<[Tab, string]> {
  const tabs: Array<[Tab, string]> = [];
  if (kind === 'SFT' || kind === 'CON_GRPO') tabs.push(['charts', 'Charts']);
  if (kind === 'EVAL') tabs.push(['evaluation', 'Per-task table'], ['predictions', 'Predictions']);
  if (kind === 'CON_GRPO') tabs.push(['completions', 'Completions']);
  tabs.push(['spec', 'Run spec'], ['events', 'Events']);
  return tabs;
}

export function RunDetail({ id, tab }: { id: string; tab?: string }) {
  const q = useQuery(() => gql<{ run: RunDetailData | null }>(`query($id: ID!) { run(id: $id) { ${DETAIL} } }`, { id }), [id]);
  useSubscription('subscription($id: ID) { runStatus(runId: $id) { status } }', () => ({ id }), () => void q.reload(), `status-${id}`);
  const run = q.data?.run;
  useInterval(() => void q.reload(), 3000, !!run && ACTIVE.includes(run.status));
  const [busy, setBusy] = useState(false);

  if (q.error && !run) return <p class="error">{q.error.message}</p>;
  if (!q.data) return <p aria-busy="true">Loading run {id}…</p>;
  if (!run) return <p class="error">No run {id}. <a href={href('runs')}>Back to the runs</a></p>;

  const tabs = tabsOf(run.kind);
  const current = (tabs.find(([t]) => t === tab) ?? tabs[0]!)[0];
  const act = async (mutation: 'cancelRun' | 'resumeRun'): Promise<void> => {
    setBusy(true);
    try {
      await gql(`mutation($id: ID!) { ${mutation}(id: $id) { id status } }`, { id });
      await q.reload();
    } catch (err) {
      showError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <article id="run-detail" data-run-id={run.id} data-status={run.status} aria-labelledby="run-title">
      <div class="toolbar">
        <h1 id="run-title">
          {KIND_LABEL[run.kind]} <span class="mono">{run.id}</span> <StatusPill status={run.status} />
        </h1>
        <div class="actions">
          {ACTIVE.includes(run.status) && (
            <button type="button" id="cancel-run" class="danger" disabled={busy} onClick={() => void act('cancelRun')}>
              Cancel
            </button>
          )}
          {RESUMABLE.includes(run.status) && (
            <button type="button" id="resume-run" disabled={busy} onClick={() => void act('resumeRun')}>
              Resume
            </button>
          )}
        </div>
      </div>
      <p id="status-message" aria-live="polite" class="muted">
        {run.statusMessage ?? ''}
      </p>
      <dl class="facts">
        <div><dt>Dataset</dt><dd>{datasetOf(run.config)}</dd></div>
        <div><dt>Device</dt><dd>{deviceOf(run)}</dd></div>
        <div><dt>Created</dt><dd>{when(run.createdAt)}</dd></div>
        <div><dt>Started</dt><dd>{when(run.startedAt)}</dd></div>
        <div><dt>Duration</dt><dd>{duration(run.durationMs)}</dd></div>
        <div><dt>Attempts</dt><dd>{run.attempts}</dd></div>
        <div><dt>Seed</dt><dd>{run.config?.seed ?? '—'}</dd></div>
        {run.dependsOn && <div><dt>Waits for</dt><dd><a href={href('run', run.dependsOn)} class="mono">{run.dependsOn}</a></dd></div>}
        {(() => {
          const p = progressOf({ ...run, lastMetrics: null });
          return p ? <div><dt>Steps planned</dt><dd>{p.total}</dd></div> : null;
        })()}
      </dl>
      <nav class="tabs" aria-label="Run views">
        {tabs.map(([t, label]) => (
          <a href={href('run', run.id, t)} aria-current={t === current ? 'page' : undefined} id={`tab-${t}`}>
            {label}
          </a>
        ))}
      </nav>
      <div class="tab-panel" aria-labelledby={`tab-${current}`}>
        {current === 'charts' && <Charts run={run} />}
        {current === 'evaluation' && <EvaluationTable evaluation={run.evaluation} status={run.status} />}
        {current === 'predictions' && <Viewer runId={run.id} source="predictions" />}
        {current === 'completions' && <Viewer runId={run.id} source="completions" />}
        {current === 'spec' && (
          <>
            <h2>Resolved run spec</h2>
            <pre id="run-spec" class="code" tabIndex={0}>{JSON.stringify(run.config, null, 2)}</pre>
            {run.command && <p class="muted">Command: <code>medad {run.command.join(' ')}</code></p>}
            <p class="muted">Directory: <code>{run.dir}</code></p>
            {run.checkpoints.length > 0 && (
              <table>
                <caption>Checkpoints</caption>
                <thead><tr><th scope="col">Step</th><th scope="col">Path</th><th scope="col">Saved</th></tr></thead>
                <tbody>{run.checkpoints.map((c) => <tr><td>{c.step}</td><td class="mono">{c.path}</td><td>{when(c.createdAt)}</td></tr>)}</tbody>
              </table>
            )}
          </>
        )}
        {current === 'events' && (
          <ol class="events">
            {run.events.map((e) => (
              <li class={e.level === 'error' ? 'error' : ''}>
                <time>{when(e.time)}</time> {e.status ? <StatusPill status={e.status} /> : null} {e.message}
              </li>
            ))}
          </ol>
        )}
      </div>
    </article>
  );
}

/** An evaluation's per-task table: mean ± std over seeds, overall, and the judge and format rates. */
export function EvaluationTable({ evaluation, status }: { evaluation: Evaluation | null; status: RunStatus }) {
  if (!evaluation) return <p class="muted">{status === 'SUCCEEDED' ? 'This run wrote no evaluation.' : 'The table appears when the evaluation succeeds.'}</p>;
  const keep = evaluation.raw?.consistencyKeep;
  return (
    <table id="evaluation" class="numeric">
      <caption>
        Accuracy per task, mean ± std over seeds {evaluation.seeds.join(', ')}
        {evaluation.n ? ` (${evaluation.n} questions per seed)` : ''}
      </caption>
      <thead>
        <tr><th scope="col">Task</th><th scope="col">Accuracy (%)</th></tr>
      </thead>
      <tbody>
        {evaluation.perTask.map((t) => (
          <tr data-task={t.task}><th scope="row">{taskLabel(t.task)}</th><td>{meanStd(t)}</td></tr>
        ))}
        <tr class="overall" data-task="overall"><th scope="row">Overall</th><td>{meanStd(evaluation.overall)}</td></tr>
        {evaluation.consistency && <tr><th scope="row">Consistency (judge reads the findings)</th><td>{meanStd(evaluation.consistency)}</td></tr>}
        {keep && typeof keep.mean === 'number' && <tr><th scope="row">Consistency (judge reads the whole think)</th><td>{meanStd(keep)}</td></tr>}
        {evaluation.formatRate && <tr><th scope="row">Format rate</th><td>{meanStd(evaluation.formatRate)}</td></tr>}
        {evaluation.thinkCorrectness && <tr><th scope="row">Think correctness</th><td>{meanStd(evaluation.thinkCorrectness)}</td></tr>}
        {evaluation.invalidRate != null && <tr><th scope="row">Invalid answers</th><td>{pct(evaluation.invalidRate)}</td></tr>}
      </tbody>
    </table>
  );
}

/** The history (downsampled), then live rows from `trainingMetrics`, merged by step. */
export function useMetrics(runId: string, live: boolean): MetricPoint[] {
  const rows = useRef(new Map<number, MetricPoint>());
  const [version, setVersion] = useState(0);
  const [historyLoaded, setHistoryLoaded] = useState(false);
  const merge = (points: MetricPoint[]): void => {
    for (const p of points) rows.current.set(p.step, { step: p.step, values: { ...rows.current.get(p.step)?.values, ...p.values } });
    setVersion((v) => v + 1);
  };
  const history = useQuery(async () => {
    const r = await gql<{ run: { metrics: MetricPoint[]; metricCount: number } | null }>('query($id: ID!) { run(id: $id) { metricCount metrics(downsample: 2000) { step values } } }', { id: runId });
    merge(r.run?.metrics ?? []);
    setHistoryLoaded(true);
    return r.run?.metricCount ?? 0;
  }, [runId]);
  const lastStep = (): number => Math.max(0, ...rows.current.keys());
  useSubscription<{ trainingMetrics: MetricPoint }>(
    'subscription($id: ID!, $from: Int) { trainingMetrics(runId: $id, fromStep: $from) { step values } }',
    () => ({ id: runId, from: lastStep() + 1 }),
    (d) => merge([d.trainingMetrics]),
    `metrics-${runId}`,
    live && historyLoaded,
    () => void history.reload(), // the stream ends with the run: read the stored rows once more
  );
  // Rows the server stored but never streamed (a writer flush racing the subscription) are read again.
  useInterval(() => void history.reload(), 10_000, live);
  return useMemo(() => [...rows.current.values()].sort((a, b) => a.step - b.step), [version]);
}

function Charts({ run }: { run: RunDetailData }) {
  const live = ACTIVE.includes(run.status);
  const rows = useMetrics(run.id, live);
  const [smoothing, setSmoothing] = useState(() => Number(localStorage.getItem('medad.smoothing') ?? '0'));
  const [log, setLog] = useState(false);
  const groups = useMemo(() => groupMetrics(rows.flatMap((r) => Object.keys(r.values))), [rows]);
  const perTask = useMemo(() => {
    const last = [...rows].reverse().find((r) => TASKS.some((t) => typeof r.values[`eval_acc_${t}`] === 'number'));
    return last ? { step: last.step, tasks: TASKS.map((t) => [t, last.values[`eval_acc_${t}`]] as const), overall: last.values.eval_overall } : undefined;
  }, [rows]);
  const setSmooth = (v: number): void => {
    setSmoothing(v);
    localStorage.setItem('medad.smoothing', String(v));
  };
  return (
    <section id="charts" data-points={rows.length} data-last-step={rows.at(-1)?.step ?? ''} aria-label="Training curves">
      <div class="chart-controls">
        <label for="smoothing">Smoothing {smoothing.toFixed(2)}</label>
        <input id="smoothing" type="range" min="0" max="0.99" step="0.01" value={smoothing} onInput={(e) => setSmooth(Number(e.currentTarget.value))} />
        <label class="inline">
          <input id="log-scale" type="checkbox" checked={log} onChange={(e) => setLog(e.currentTarget.checked)} /> Log scale
        </label>
        <span class="muted">{live ? 'live' : 'final'} · {rows.length} steps held</span>
      </div>
      {!rows.length && <p class="muted">No metrics yet{live ? ': the first rows arrive as the run reports them' : ''}.</p>}
      {perTask && (
        <table id="held-out" class="numeric">
          <caption>Held-out accuracy per task at step {perTask.step}</caption>
          <thead><tr><th scope="col">Task</th><th scope="col">Accuracy</th></tr></thead>
          <tbody>
            {perTask.tasks.map(([t, v]) => <tr data-task={t}><th scope="row">{taskLabel(t)}</th><td>{pct(v)}</td></tr>)}
            {perTask.overall != null && <tr class="overall"><th scope="row">Overall</th><td>{pct(perTask.overall)}</td></tr>}
          </tbody>
        </table>
      )}
      <div class="charts">
        {groups.map((g) => {
          const { steps, cols } = align(rows.filter((r) => g.keys.some((k) => typeof r.values[k] === 'number')), g.keys);
          return <Chart key={g.id} id={g.id} title={g.title} steps={steps} series={g.keys.map((k, i) => ({ label: k, values: cols[i]! }))} smoothing={smoothing} log={log} percent={g.percent} />;
        })}
      </div>
    </section>
  );
}
