/**
 * Compare runs: overlay their curves on aligned steps and put their per-task tables side by side;
 * evaluations are differenced against the first one with the server's paired 95% interval.
 */
import { useMemo, useState } from 'preact/hooks';
import { gql, useQuery } from '../api.js';
import { Chart } from '../chart.js';
import { EVALUATION_FIELDS, KIND_LABEL, TASKS, meanStd, pct, taskLabel, type Evaluation, type Json, type MetricPoint, type RunKind } from '../model.js';
import { Field, go, href } from '../ui.js';

interface CompareRun {
  id: string;
  kind: RunKind;
  status: string;
  config: Json;
  metrics: MetricPoint[];
  evaluation: Evaluation | null;
}
interface Difference {
  task: string;
  mean: number | null;
  ci95: number[];
  seeds: number[];
  significant: boolean;
}

const DEFAULT_METRICS = ['reward_mean', 'loss', 'accuracy', 'consistency_rate', 'kl', 'eval_overall'];

export function Compare({ ids }: { ids: string[] }) {
  const [baseline, setBaseline] = useState('');
  const q = useQuery(async () => {
    const runs: CompareRun[] = [];
    for (const id of ids) {
      const r = await gql<{ run: CompareRun | null }>(`query($id: ID!) { run(id: $id) { id kind status config metrics(downsample: 1000) { step values } evaluation { ${EVALUATION_FIELDS} } } }`, { id });
      if (r.run) runs.push(r.run);
    }
    const base = runs.find((r) => r.kind === 'EVAL' && r.id === baseline) ?? runs.find((r) => r.kind === 'EVAL');
    const diffs = new Map<string, Difference[]>();
    if (base)
      for (const r of runs)
        if (r.kind === 'EVAL' && r.id !== base.id) {
          const d = await gql<{ run: { differenceFrom: Difference[] } }>('query($id: ID!, $base: ID!) { run(id: $id) { differenceFrom(baseline: $base) { task mean ci95 seeds significant } } }', { id: r.id, base: base.id });
          diffs.set(r.id, d.run.differenceFrom);
        }
    return { runs, base: base?.id, diffs };
  }, [ids.join(','), baseline]);
  const recent = useQuery(() => gql<{ runs: { edges: Array<{ node: { id: string; kind: RunKind; status: string } }> } }>('{ runs(first: 100) { edges { node { id kind status } } } }'), []);
  const runs = q.data?.runs ?? [];
  const keys = useMemo(() => [...new Set(runs.flatMap((r) => r.metrics.flatMap((m) => Object.keys(m.values))))].sort(), [runs]);
  const [extra, setExtra] = useState<string[]>([]);
  const [smoothing, setSmoothing] = useState(0);
  const [log, setLog] = useState(false);
  const shown = [...DEFAULT_METRICS.filter((k) => keys.includes(k)), ...extra.filter((k) => keys.includes(k) && !DEFAULT_METRICS.includes(k))];
  const [adding, setAdding] = useState('');

  const chartOf = (key: string) => {
    const withKey = runs.filter((r) => r.metrics.some((m) => typeof m.values[key] === 'number'));
    const steps = [...new Set(withKey.flatMap((r) => r.metrics.filter((m) => typeof m.values[key] === 'number').map((m) => m.step)))].sort((a, b) => a - b);
    const series = withKey.map((r) => {
      const at = new Map(r.metrics.map((m) => [m.step, m.values[key]]));
      return { label: `${r.id}`, values: steps.map((s) => (typeof at.get(s) === 'number' ? (at.get(s) as number) : null)) };
    });
    return <Chart key={key} id={`compare-${key}`} title={key} steps={steps} series={series} smoothing={smoothing} log={log} percent={/accuracy|rate|overall/.test(key)} />;
  };

  const evals = runs.filter((r) => r.kind === 'EVAL' && r.evaluation);
  const training = runs.filter((r) => r.kind !== 'EVAL');
  const lastHeldOut = (r: CompareRun, t: string): number | undefined => [...r.metrics].reverse().find((m) => typeof m.values[`eval_acc_${t}`] === 'number')?.values[`eval_acc_${t}`];

  return (
    <section id="compare" aria-labelledby="compare-title" data-runs={runs.map((r) => r.id).join(',')}>
      <h1 id="compare-title">Compare runs</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); if (adding && !ids.includes(adding)) go('compare', [...ids, adding].join(',')); }}>
        <Field label="Add a run" id="compare-add">
          <select id="compare-add" value={adding} onChange={(e) => setAdding(e.currentTarget.value)}>
            <option value="">choose…</option>
            {recent.data?.runs.edges.filter((e) => !ids.includes(e.node.id)).map((e) => <option value={e.node.id}>{`${e.node.id} (${KIND_LABEL[e.node.kind]}, ${e.node.status.toLowerCase()})`}</option>)}
          </select>
        </Field>
        <button type="submit" disabled={!adding}>Add</button>
      </form>
      {q.error && <p class="error">{q.error.message}</p>}
      {!ids.length && <p class="muted">Pick runs in the <a href={href('runs')}>run list</a> (the checkboxes), or add them here.</p>}
      <ul class="chips" aria-label="Compared runs">
        {runs.map((r) => (
          <li>
            <a href={href('run', r.id)} class="mono">{r.id}</a> {KIND_LABEL[r.kind]}
            <button type="button" class="link" aria-label={`Remove ${r.id}`} onClick={() => go('compare', ids.filter((x) => x !== r.id).join(','))}>×</button>
          </li>
        ))}
      </ul>
      {training.length > 0 && (
        <>
          <h2>Curves</h2>
          <div class="chart-controls">
            <label for="compare-smoothing">Smoothing {smoothing.toFixed(2)}</label>
            <input id="compare-smoothing" type="range" min="0" max="0.99" step="0.01" value={smoothing} onInput={(e) => setSmoothing(Number(e.currentTarget.value))} />
            <label class="inline"><input type="checkbox" checked={log} onChange={(e) => setLog(e.currentTarget.checked)} /> Log scale</label>
            <label for="compare-metric">Add a metric</label>
            <select id="compare-metric" value="" onChange={(e) => { const v = e.currentTarget.value; if (v) setExtra((x) => [...x, v]); }}>
              <option value="">choose…</option>
              {keys.filter((k) => !shown.includes(k)).map((k) => <option value={k}>{k}</option>)}
            </select>
          </div>
          <div class="charts">{shown.map(chartOf)}</div>
          {training.some((r) => TASKS.some((t) => lastHeldOut(r, t) !== undefined)) && (
            <table id="compare-held-out" class="numeric">
              <caption>Held-out accuracy per task at each run's last evaluation step</caption>
              <thead><tr><th scope="col">Task</th>{training.map((r) => <th scope="col" class="mono">{r.id}</th>)}</tr></thead>
              <tbody>{TASKS.map((t) => <tr><th scope="row">{taskLabel(t)}</th>{training.map((r) => <td>{pct(lastHeldOut(r, t))}</td>)}</tr>)}</tbody>
            </table>
          )}
        </>
      )}
      {evals.length > 0 && (
        <>
          <h2>Evaluations</h2>
          {evals.length > 1 && (
            <Field label="Baseline (Δ = run − baseline)" id="compare-baseline">
              <select id="compare-baseline" value={q.data?.base ?? ''} onChange={(e) => setBaseline(e.currentTarget.value)}>
                {evals.map((r) => <option value={r.id}>{r.id}</option>)}
              </select>
            </Field>
          )}
          <div class="table-scroll">
            <table id="compare-evaluations" class="numeric">
              <caption>
                Accuracy (%) per task, mean ± std over seeds
                {evals.length > 1 ? `; Δ = run − ${q.data?.base} paired by seed and question, 95% bootstrap interval (a tie when it contains 0)` : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  {evals.map((r) => (
                    <>
                      <th scope="col" class="mono">{r.id}</th>
                      {r.id !== q.data?.base && <th scope="col">Δ vs {q.data?.base}</th>}
                    </>
                  ))}
                </tr>
              </thead>
              <tbody>
                {[...TASKS.filter((t) => evals.some((r) => r.evaluation!.perTask.some((p) => p.task === t))), 'overall'].map((t) => (
                  <tr data-task={t} class={t === 'overall' ? 'overall' : ''}>
                    <th scope="row">{t === 'overall' ? 'Overall' : taskLabel(t)}</th>
                    {evals.map((r) => {
                      const score = t === 'overall' ? r.evaluation!.overall : r.evaluation!.perTask.find((p) => p.task === t);
                      const d = q.data?.diffs.get(r.id)?.find((x) => x.task === t);
                      return (
                        <>
                          <td>{meanStd(score)}</td>
                          {r.id !== q.data?.base && <td class={d?.significant ? (d.mean! > 0 ? 'better' : 'worse') : 'tie'}>{formatDiff(d)}</td>}
                        </>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function formatDiff(d: Difference | undefined): string {
  if (!d || d.mean == null) return '—';
  const s = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
  return `${s(d.mean)} [${s(d.ci95[0]!)}, ${s(d.ci95[1]!)}]${d.significant ? '' : ' tie'}`;
}
