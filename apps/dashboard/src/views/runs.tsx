/** The live run list: filter by kind and status, search, select runs to compare. */
import { useMemo, useRef, useState } from 'preact/hooks';
import { gql, useQuery, useSubscription } from '../api.js';
import { ACTIVE, KIND_LABEL, RUN_KINDS, RUN_STATUSES, RUN_SUMMARY_FIELDS, datasetOf, deviceOf, duration, headlineOf, progressOf, when, type RunKind, type RunStatus, type RunSummary } from '../model.js';
import { Field, StatusPill, go, href, useInterval } from '../ui.js';

interface Page {
  runs: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: RunSummary }> };
}

const PAGE = 50;

export function Runs() {
  const [kind, setKind] = useState<RunKind | ''>('');
  const [status, setStatus] = useState<RunStatus | ''>('');
  const [search, setSearch] = useState('');
  const [pages, setPages] = useState(1);
  const [selected, setSelected] = useState<string[]>([]);
  const filter = { ...(kind ? { kinds: [kind] } : {}), ...(status ? { statuses: [status] } : {}) };

  const q = useQuery(async () => {
    const runs: RunSummary[] = [];
    let after: string | null = null;
    let total = 0;
    let more = false;
    for (let i = 0; i < pages; i++) {
      const page: Page = await gql<Page>(`query($filter: RunFilter, $after: String) { runs(first: ${PAGE}, filter: $filter, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${RUN_SUMMARY_FIELDS} } } } }`, { filter, after });
      runs.push(...page.runs.edges.map((e) => e.node));
      total = page.runs.totalCount;
      more = page.runs.pageInfo.hasNextPage;
      after = page.runs.pageInfo.endCursor;
      if (!more) break;
    }
    return { runs, total, more };
  }, [kind, status, pages]);

  // Live: a status change anywhere reloads the list (coalesced); progress is polled while runs are active.
  const pending = useRef<ReturnType<typeof setTimeout>>();
  useSubscription('subscription { runStatus { runId status } }', () => ({}), () => {
    clearTimeout(pending.current);
    pending.current = setTimeout(() => void q.reload(), 250);
  }, 'all-runs');
  const active = q.data?.runs.some((r) => ACTIVE.includes(r.status)) ?? false;
  useInterval(() => void q.reload(), active ? 2000 : 15000);

  const shown = useMemo(() => {
    const s = search.trim().toLowerCase();
    const runs = q.data?.runs ?? [];
    if (!s) return runs;
    return runs.filter((r) => [r.id, r.kind, KIND_LABEL[r.kind], r.status, datasetOf(r.config), deviceOf(r), r.statusMessage ?? ''].some((x) => x.toLowerCase().includes(s)));
  }, [q.data, search]);

  const toggle = (id: string): void => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));

  return (
    <section aria-labelledby="runs-title">
      <div class="toolbar">
        <h1 id="runs-title">Runs</h1>
        <a class="button primary" href={href('start', 'sft')}>
          Start a run
        </a>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search" id="run-search">
          <input id="run-search" type="search" value={search} placeholder="id, dataset, device…" onInput={(e) => setSearch(e.currentTarget.value)} />
        </Field>
        <Field label="Kind" id="run-kind">
          <select id="run-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as RunKind | '')}>
            <option value="">all kinds</option>
            {RUN_KINDS.map((k) => (
              <option value={k}>{KIND_LABEL[k]}</option>
            ))}
          </select>
        </Field>
        <Field label="Status" id="run-status">
          <select id="run-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as RunStatus | '')}>
            <option value="">all statuses</option>
            {RUN_STATUSES.map((s) => (
              <option value={s}>{s.toLowerCase()}</option>
            ))}
          </select>
        </Field>
        <button type="button" id="compare-selected" disabled={selected.length < 2} onClick={() => go('compare', selected.join(','))}>
          Compare selected ({selected.length})
        </button>
      </form>
      {q.error && <p class="error">{q.error.message}</p>}
      <table id="runs" class="runs" data-total={q.data?.total ?? ''}>
        <caption class="visually-hidden">Runs, newest first{q.data ? `: ${shown.length} shown of ${q.data.total}` : ''}</caption>
        <thead>
          <tr>
            <th scope="col">
              <span class="visually-hidden">Compare</span>
            </th>
            <th scope="col">Run</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Dataset</th>
            <th scope="col">Device</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Progress</th>
            <th scope="col">Headline</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => {
            const p = progressOf(r);
            return (
              <tr key={r.id} data-run-id={r.id} data-status={r.status} data-kind={r.kind}>
                <td data-label="Compare">
                  <input type="checkbox" aria-label={`Select run ${r.id} to compare`} checked={selected.includes(r.id)} onChange={() => toggle(r.id)} />
                </td>
                <td data-label="Run">
                  <a href={href('run', r.id)} class="mono">
                    {r.id}
                  </a>
                </td>
                <td data-label="Kind">{KIND_LABEL[r.kind]}</td>
                <td data-label="Status">
                  <StatusPill status={r.status} />
                </td>
                <td data-label="Dataset">{datasetOf(r.config)}</td>
                <td data-label="Device">{deviceOf(r)}</td>
                <td data-label="Started">{when(r.startedAt ?? r.createdAt)}</td>
                <td data-label="Duration">{duration(r.durationMs)}</td>
                <td data-label="Progress" class="progress-cell" data-done={p?.done ?? ''} data-total={p?.total ?? ''}>
                  {p ? (
                    <>
                      <progress max={p.total} value={p.done} aria-label={`Run ${r.id}: step ${p.done} of ${p.total}`} />
                      <span>
                        {p.done}/{p.total}
                        {p.etaMs != null ? ` · ETA ${duration(p.etaMs)}` : ''}
                      </span>
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td data-label="Headline" class="headline">
                  {headlineOf(r)}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {q.data && !shown.length && <p class="muted">No runs{search || kind || status ? ' match the filter' : ' yet: start one'}.</p>}
      {q.data?.more && (
        <button type="button" onClick={() => setPages((n) => n + 1)}>
          Show more runs
        </button>
      )}
    </section>
  );
}
