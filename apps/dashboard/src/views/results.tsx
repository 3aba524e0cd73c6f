/**
 * A reproduce result (`medad reproduce` writes results.json) rendered as the paper's tables: the
 * file is read in the browser and never uploaded.
 */
import { useState } from 'preact/hooks';
import { meanStd, taskLabel, type Json, type Score } from '../model.js';

interface Paired {
  mean: number;
  ci95: [number, number];
  significant: boolean;
}

function paired(d: Paired | undefined): string {
  if (!d || !Number.isFinite(d.mean)) return '—';
  const s = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
  return `${s(d.mean)} [${s(d.ci95[0])}, ${s(d.ci95[1])}]${d.significant ? '' : ' tie'}`;
}

/** Checks the parts of results.json the tables read; names the first missing one. */
export function checkResults(j: Json): string | undefined {
  if (!j || typeof j !== 'object') return 'the file is not a JSON object';
  if (!Array.isArray(j.tasks)) return 'field "tasks" is missing (is this the results.json `medad reproduce` writes?)';
  if (!Array.isArray(j.methods)) return 'field "methods" is missing';
  return undefined;
}

export function Results() {
  const [state, setState] = useState<{ name?: string; json?: Json; error?: string }>({});
  const load = async (file: File | undefined): Promise<void> => {
    if (!file) return;
    try {
      const json = JSON.parse(await file.text()) as Json;
      const problem = checkResults(json);
      setState(problem ? { name: file.name, error: `${file.name}: ${problem}` } : { name: file.name, json });
    } catch (err) {
      setState({ name: file.name, error: `${file.name}: not JSON (${(err as Error).message})` });
    }
  };
  const j = state.json;
  const tasks: string[] = j?.tasks ?? [];
  const tables = j ? [...new Set<string>(j.methods.map((m: Json) => String(m.table)))].filter((t) => t !== 'table3') : [];
  return (
    <section id="results" aria-labelledby="results-title">
      <h1 id="results-title">Reproduce results</h1>
      <p class="muted">
        Open the <code>results.json</code> a <code>medad reproduce</code> run wrote (e.g. <code>docs/results/quick/results.json</code>); it is read here, not uploaded.
      </p>
      <div class="field">
        <label for="results-file">results.json</label>
        <input id="results-file" type="file" accept=".json,application/json" onChange={(e) => void load(e.currentTarget.files?.[0])} />
      </div>
      {state.error && <p class="error" role="alert">{state.error}</p>}
      {j && (
        <>
          <p class="muted">
            <code>{j.meta?.command}</code> · preset {j.meta?.preset} · {j.evalQuestions} questions · generated {j.meta?.generatedAt}
          </p>
          {tables.map((t) => (
            <div class="table-scroll">
              <table id={`results-${t}`} class="numeric">
                <caption>{t === 'table1' ? 'Table 1: accuracy (%) per task, mean ± std over seeds; paired difference vs SFT-only with its 95% interval' : `${t}: accuracy (%)`}</caption>
                <thead>
                  <tr>
                    <th scope="col">Method</th>
                    {tasks.map((k) => <th scope="col">{taskLabel(k)}</th>)}
                    <th scope="col">Overall</th>
                    <th scope="col">Consistency</th>
                    <th scope="col">Δ vs SFT-only</th>
                  </tr>
                </thead>
                <tbody>
                  {t === 'table1' &&
                    Object.values(j.baselines ?? {}).map((b: Json) => (
                      <tr class="baseline">
                        <th scope="row">{b.label}</th>
                        {tasks.map((k) => <td>{typeof b.perTask?.[k] === 'number' ? b.perTask[k].toFixed(2) : '—'}</td>)}
                        <td>{typeof b.overall === 'number' ? b.overall.toFixed(2) : '—'}</td>
                        <td>—</td>
                        <td>—</td>
                      </tr>
                    ))}
                  {j.methods
                    .filter((m: Json) => m.table === t)
                    .map((m: Json) => (
                      <tr data-method={m.id}>
                        <th scope="row">{m.label}</th>
                        {tasks.map((k) => <td>{meanStd(m.perTask?.[k] as Score)}</td>)}
                        <td>{meanStd(m.overall)}</td>
                        <td>{meanStd(m.consistency)}</td>
                        <td>{paired(m.pairedVsSftOnly)}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          ))}
          {Array.isArray(j.table3) && j.table3.length > 0 && (
            <table id="results-table3" class="numeric">
              <caption>Table 3: reward weights (format, accuracy, consistency)</caption>
              <thead><tr><th scope="col">Weights</th><th scope="col">Seeds</th><th scope="col">Overall</th><th scope="col">Consistency</th></tr></thead>
              <tbody>
                {j.table3.map((r: Json) => (
                  <tr><th scope="row">{r.label}</th><td>{r.seeds?.join(', ') || '—'}</td><td>{meanStd(r.overall)}</td><td>{meanStd(r.consistency)}</td></tr>
                ))}
              </tbody>
            </table>
          )}
          {j.ordering && <p id="results-ordering">{j.ordering}</p>}
        </>
      )}
    </section>
  );
}
