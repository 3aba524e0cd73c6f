// MedAD-R1 dashboard: a plain browser ES module (no bundler, no runtime dependencies).
// Queries and mutations go over HTTP (POST /graphql); live run status and training metrics come
// over a hand-written graphql-ws client (subprotocol `graphql-transport-ws`) on the same path.

const GRAPHQL_HTTP = new URL('/graphql', location.href).href;
const GRAPHQL_WS = GRAPHQL_HTTP.replace(/^http/, 'ws');
const TOKEN_KEY = 'medad.apiToken';
const SERIES_KEY = 'medad.series';
/** Points asked for when a run's history is loaded (`run.metrics(downsample: N)`). */
const HISTORY_POINTS = 1000;
/** At most this many points are drawn per curve (evenly thinned beyond that). */
const MAX_PLOT = 2000;
const PAGE = 50;
const ACTIVE = new Set(['QUEUED', 'RUNNING']);
const RESUMABLE = new Set(['FAILED', 'CANCELLED', 'INTERRUPTED']);
/** Series drawn until the user picks: loss, rewards, KL, accuracy, consistency, think-correctness. */
const DEFAULT_SERIES = /^(loss|kl|accuracy|reward(_[a-z0-9_]+)?|consistency(_rate)?|think(_?correct(ness)?)?|eval_(overall|consistency|think))$/i;
const SERIES_ORDER = ['loss', 'reward_mean', 'reward', 'kl', 'accuracy', 'consistency_rate', 'consistency', 'eval_overall', 'eval_consistency', 'eval_think'];

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

/** Creates an element: h('td', { class: 'num' }, 'text', childNode). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

const pad = (n) => String(n).padStart(2, '0');
/** Local date-time as YYYY-MM-DD HH:MM:SS. */
function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const timeEl = (iso) => h('time', { datetime: iso ?? undefined }, fmtTime(iso));

function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A number for a chart label: 4 significant digits, no exponent for ordinary magnitudes. */
function fmtValue(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** An evaluation score (percent): "mean ± std" with one decimal. */
function fmtScore(s) {
  if (!s || typeof s.mean !== 'number') return '—';
  return typeof s.std === 'number' ? `${s.mean.toFixed(1)} ± ${s.std.toFixed(1)}` : s.mean.toFixed(1);
}

const statusPill = (status, message) => h('span', { class: `pill status-${status}`, title: message || undefined }, status);

// ---------------------------------------------------------------------------------------------
// Errors (#error): one line per source, so fixing one problem clears only its line.

const errors = new Map();
function showError(source, message) {
  errors.set(source, message);
  renderErrors();
}
function clearError(...sources) {
  let changed = false;
  for (const s of sources) changed = errors.delete(s) || changed;
  if (changed) renderErrors();
}
function renderErrors() {
  $('error').textContent = [...errors.values()].join('\n');
}

/** A failed GraphQL request: its errors as the server sent them. */
class GraphQLRequestError extends Error {
  constructor(errs, status) {
    super(errs.map(errorText).join('; '));
    this.errors = errs;
    this.status = status;
    this.code = errs[0]?.extensions?.code;
  }
  get unauthenticated() {
    return this.status === 401 || this.code === 'UNAUTHENTICATED';
  }
}

/** An error's message, plus its `fix` when the message does not already carry it. */
function errorText(e) {
  const message = e?.message ?? String(e);
  const fix = e?.extensions?.fix;
  return fix && !message.includes(fix) ? `${message} (fix: ${fix})` : message;
}

// ---------------------------------------------------------------------------------------------
// GraphQL over HTTP

let token = localStorage.getItem(TOKEN_KEY) ?? '';

async function gql(query, variables = {}) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(GRAPHQL_HTTP, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch (err) {
    throw new GraphQLRequestError([{ message: `Cannot reach the server at ${GRAPHQL_HTTP} (${err.message})`, extensions: { code: 'NETWORK' } }], 0);
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new GraphQLRequestError([{ message: `HTTP ${res.status} ${res.statusText}: the response is not JSON` }], res.status);
  }
  if (body.errors?.length) throw new GraphQLRequestError(body.errors, res.status);
  if (!res.ok) throw new GraphQLRequestError([{ message: `HTTP ${res.status} ${res.statusText}` }], res.status);
  return body.data;
}

/** Records a failed request in #error; auth failures get a hint about the token field. */
function reportRequestError(source, err, prefix = '') {
  if (err instanceof GraphQLRequestError && err.unauthenticated) {
    setConnection('auth', 'auth required');
    showError('auth', `${err.errors[0]?.message ?? 'Authentication failed'}. Enter ${token ? 'a valid' : 'the'} API token above.`);
    return;
  }
  showError(source, prefix + (err instanceof Error ? err.message : String(err)));
}

// ---------------------------------------------------------------------------------------------
// graphql-ws client (protocol "graphql-transport-ws"), written out by hand

class GraphQLWsClient {
  constructor(url, { getToken, onState }) {
    this.url = url;
    this.getToken = getToken;
    this.onState = onState;
    this.ws = null;
    this.acked = false;
    this.nextId = 0;
    this.subs = new Map();
    this.retries = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.forbidden = false;
  }

  /** Opens the socket (no-op when open or when the server refused the token until `reconnect`). */
  connect() {
    if (this.ws || this.forbidden) return;
    clearTimeout(this.retryTimer);
    const ws = new WebSocket(this.url, 'graphql-transport-ws');
    this.ws = ws;
    this.acked = false;
    this.onState('connecting');
    ws.addEventListener('open', () => {
      const t = this.getToken();
      this.send(ws, { type: 'connection_init', payload: t ? { authorization: `Bearer ${t}` } : {} });
    });
    ws.addEventListener('message', (ev) => this.receive(ws, ev.data));
    ws.addEventListener('close', (ev) => this.closed(ws, ev));
  }

  /** Closes and reopens (e.g. with a new token); subscriptions are sent again once acknowledged. */
  reconnect() {
    this.forbidden = false;
    this.retries = 0;
    const old = this.ws;
    this.ws = null;
    this.acked = false;
    clearInterval(this.pingTimer);
    if (old) old.close(1000, 'reconnecting');
    this.connect();
  }

  /**
   * Subscribes; `payload()` is called on every (re)subscribe so variables can move on (fromStep).
   * Returns a function that stops the subscription.
   */
  subscribe(payload, sink) {
    const id = String(++this.nextId);
    this.subs.set(id, { payload, sink });
    if (this.acked) this.send(this.ws, { id, type: 'subscribe', payload: payload() });
    else this.connect();
    return () => {
      if (!this.subs.delete(id)) return;
      if (this.acked) this.send(this.ws, { id, type: 'complete' });
    };
  }

  send(ws, msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  receive(ws, data) {
    if (ws !== this.ws) return;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    const sub = msg.id !== undefined ? this.subs.get(msg.id) : undefined;
    switch (msg.type) {
      case 'connection_ack':
        this.acked = true;
        this.retries = 0;
        this.onState('live');
        for (const [id, s] of this.subs) this.send(ws, { id, type: 'subscribe', payload: s.payload() });
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send(ws, { type: 'ping' }), 25_000);
        break;
      case 'ping':
        this.send(ws, { type: 'pong' });
        break;
      case 'next':
        sub?.sink.next?.(msg.payload);
        break;
      case 'error':
        this.subs.delete(msg.id);
        sub?.sink.error?.(Array.isArray(msg.payload) ? msg.payload : [msg.payload]);
        break;
      case 'complete':
        this.subs.delete(msg.id);
        sub?.sink.complete?.();
        break;
      default:
        break;
    }
  }

  closed(ws, ev) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.acked = false;
    clearInterval(this.pingTimer);
    if (ev.code === 4403) {
      // The server refused the token (or its absence): wait for a new one.
      this.forbidden = true;
      this.onState('forbidden', ev.reason || 'Forbidden');
      return;
    }
    const delay = Math.min(30_000, 500 * 2 ** this.retries++) + Math.random() * 250;
    this.onState('offline', `closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''}); retrying in ${Math.round(delay / 1000)} s`);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}

let wsState = 'connecting';
const ws = new GraphQLWsClient(GRAPHQL_WS, {
  getToken: () => token,
  onState: (state, detail) => {
    wsState = state;
    if (state === 'live') {
      setConnection('live', 'live');
      clearError('auth', 'socket');
    } else if (state === 'connecting') {
      setConnection('', 'connecting…');
    } else if (state === 'forbidden') {
      setConnection('auth', 'auth required');
      if (!errors.has('auth')) showError('auth', token ? 'The server refused the API token. Enter a valid API token above.' : 'This server requires an API token. Enter the API token above.');
    } else {
      setConnection('offline', 'offline — polling');
      if (detail) showError('socket', `Live updates unavailable: websocket ${detail}`);
    }
  },
});

function setConnection(kind, text) {
  const el = $('connection');
  el.className = `pill${kind ? ` ${kind}` : ''}`;
  el.textContent = text;
  el.dataset.state = kind || 'connecting';
}

// ---------------------------------------------------------------------------------------------
// Runs table

const RUN_LIST = `query Runs($first: Int!, $after: String) {
  runs(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id kind status statusMessage metricCount backend createdAt config } }
  }
}`;

const runs = { list: [], total: 0, hasMore: false, wanted: PAGE, inflight: null, again: false, lastLoad: 0 };

/** The configured number of steps of a training run (config.hyper.steps), when there is one. */
function plannedSteps(run) {
  const steps = run?.config?.hyper?.steps;
  return typeof steps === 'number' ? steps : undefined;
}

/** Reloads the runs table (coalesced: one request at a time, one more if asked meanwhile). */
function refreshRuns() {
  if (runs.inflight) {
    runs.again = true;
    return runs.inflight;
  }
  runs.inflight = (async () => {
    try {
      const list = [];
      let after = null;
      let total = 0;
      let hasMore = false;
      do {
        const data = await gql(RUN_LIST, { first: Math.min(100, runs.wanted - list.length), after });
        const page = data.runs;
        total = page.totalCount;
        list.push(...page.edges.map((e) => e.node));
        hasMore = page.pageInfo.hasNextPage;
        after = page.pageInfo.endCursor;
      } while (hasMore && list.length < runs.wanted);
      runs.list = list;
      runs.total = total;
      runs.hasMore = hasMore;
      runs.lastLoad = Date.now();
      clearError('auth', 'runs');
      if (wsState === 'forbidden') ws.reconnect();
      renderRuns();
    } catch (err) {
      reportRequestError('runs', err, 'Could not load runs: ');
    } finally {
      runs.inflight = null;
      if (runs.again) {
        runs.again = false;
        void refreshRuns();
      }
    }
  })();
  return runs.inflight;
}

let refreshTimer = null;
/** Refreshes the runs table soon (bursts of status changes give one request). */
function scheduleRunsRefresh(ms = 150) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refreshRuns(), ms);
}

const rowsById = new Map();

function stepsText(run) {
  const planned = plannedSteps(run);
  return planned !== undefined && (run.kind === 'SFT' || run.kind === 'CON_GRPO') ? `${run.metricCount} / ${planned}` : String(run.metricCount);
}

function renderRuns() {
  const tbody = $('runs').tBodies[0];
  const seen = new Set();
  for (const run of runs.list) {
    seen.add(run.id);
    let tr = rowsById.get(run.id);
    if (!tr) {
      tr = h('tr', { dataset: { runId: run.id } },
        h('td', { class: 'id' }, h('button', { type: 'button', class: 'run-link', 'aria-label': `show run ${run.id}` }, run.id)),
        h('td', { class: 'kind' }),
        h('td', { class: 'status' }),
        h('td', { class: 'steps num' }),
        h('td', { class: 'backend' }),
        h('td', { class: 'created' }, timeEl(run.createdAt)),
      );
      rowsById.set(run.id, tr);
    }
    const cells = tr.cells;
    cells[1].textContent = run.kind;
    if (tr.dataset.status !== run.status || cells[2].title !== (run.statusMessage ?? '')) {
      tr.dataset.status = run.status;
      cells[2].replaceChildren(statusPill(run.status, run.statusMessage));
      cells[2].title = run.statusMessage ?? '';
    }
    cells[3].textContent = stepsText(run);
    cells[4].textContent = run.backend ?? '—';
    tr.classList.toggle('selected', run.id === selectedId);
    if (run.id === selectedId) tr.setAttribute('aria-current', 'true');
    else tr.removeAttribute('aria-current');
    tbody.append(tr); // appends or moves into newest-first order
  }
  for (const [id, tr] of rowsById) {
    if (!seen.has(id)) {
      tr.remove();
      rowsById.delete(id);
    }
  }
  $('run-count').textContent = runs.list.length < runs.total ? `(${runs.list.length} of ${runs.total})` : `(${runs.total})`;
  $('runs-empty').hidden = runs.total > 0;
  $('more-runs').hidden = !runs.hasMore;
}

/** Updates one run in the table without a request (a status event, a live metric). */
function patchRun(id, patch) {
  const run = runs.list.find((r) => r.id === id);
  if (!run) return false;
  Object.assign(run, patch);
  renderRuns();
  return true;
}

$('runs').tBodies[0].addEventListener('click', (ev) => {
  const tr = ev.target.closest('tr[data-run-id]');
  if (tr) selectRun(tr.dataset.runId);
});
$('more-runs').addEventListener('click', () => {
  runs.wanted += PAGE;
  void refreshRuns();
});

// ---------------------------------------------------------------------------------------------
// Run detail

const RUN_DETAIL = `query RunDetail($id: ID!, $points: Int!, $withMetrics: Boolean!) {
  run(id: $id) {
    id kind status statusMessage attempts backend worker pid dependsOn dir command config
    createdAt startedAt finishedAt durationMs metricCount
    checkpoints { step path createdAt }
    events(last: 20) { time type status level message }
    evaluation {
      n seeds invalidRate
      overall { mean std }
      perTask { task mean std }
      consistency { mean std }
      formatRate { mean std }
      thinkCorrectness { mean std }
    }
    metrics(downsample: $points) @include(if: $withMetrics) { step values }
    lastMetric: metrics(downsample: 1) { step }
  }
}`;

const RUN_METRICS = `query RunMetrics($id: ID!, $points: Int!) { run(id: $id) { metrics(downsample: $points) { step values } } }`;

let selectedId = null;
/** The selected run's state: the last detail, its metric series and the live subscription. */
let detail = null;

function newDetail(id) {
  return { id, run: null, series: new Map(), steps: new Set(), lastStep: 0, stopMetrics: null, loading: null, again: false };
}

function selectRun(id, { updateHash = true } = {}) {
  if (!id) return;
  if (updateHash && location.hash !== `#run=${encodeURIComponent(id)}`) history.replaceState(null, '', `#run=${encodeURIComponent(id)}`);
  if (selectedId === id && detail) return;
  detail?.stopMetrics?.();
  selectedId = id;
  detail = newDetail(id);
  clearError('detail', 'action', 'metrics');
  $('detail-title').textContent = `Run ${id}`;
  $('detail-status').replaceChildren('loading…');
  $('detail-status').removeAttribute('data-status');
  $('cancel-run').hidden = true;
  $('resume-run').hidden = true;
  $('detail-meta').replaceChildren();
  $('metrics-panel').hidden = true;
  $('series-options').replaceChildren();
  $('charts').replaceChildren();
  setChartTotals();
  $('evaluation').replaceChildren();
  $('checkpoints').replaceChildren();
  $('events').replaceChildren();
  $('config').textContent = '';
  renderRuns();
  void loadDetail(true);
}

/** Loads the selected run (with its downsampled metric history the first time). */
function loadDetail(withMetrics = false) {
  const d = detail;
  if (!d) return Promise.resolve();
  if (d.loading) {
    d.again = true;
    return d.loading;
  }
  d.loading = (async () => {
    try {
      const data = await gql(RUN_DETAIL, { id: d.id, points: HISTORY_POINTS, withMetrics });
      if (d !== detail) return;
      const run = data.run;
      if (!run) {
        showError('detail', `Run ${d.id} does not exist on this server.`);
        $('detail-status').replaceChildren('not found');
        return;
      }
      clearError('detail');
      d.run = run;
      if (withMetrics) for (const row of run.metrics) addMetricRow(d, row);
      else if (hasGap(d, run)) {
        // Rows stored but never seen (reported just before the live subscription started): fetch them.
        const more = await gql(RUN_METRICS, { id: d.id, points: HISTORY_POINTS });
        if (d !== detail) return;
        for (const row of more.run?.metrics ?? []) addMetricRow(d, row);
      }
      patchRun(run.id, { status: run.status, statusMessage: run.statusMessage, metricCount: Math.max(run.metricCount, d.steps.size), backend: run.backend });
      renderDetail();
      if (ACTIVE.has(run.status)) startMetrics(d);
    } catch (err) {
      if (d === detail) reportRequestError('detail', err, `Could not load run ${d.id}: `);
    } finally {
      d.loading = null;
      if (d.again && d === detail) {
        d.again = false;
        void loadDetail(false);
      }
    }
  })();
  return d.loading;
}

let detailTimer = null;
function scheduleDetailRefresh(ms = 100) {
  clearTimeout(detailTimer);
  detailTimer = setTimeout(() => void loadDetail(false), ms);
}

/**
 * True when the store holds rows of this run that the page lacks: fewer held steps up to the last
 * stored step than stored rows. Only checked while the whole history fits in one load.
 */
function hasGap(d, run) {
  const upTo = run.lastMetric?.[0]?.step;
  if (upTo === undefined || run.metricCount > HISTORY_POINTS) return false;
  let held = 0;
  for (const step of d.steps) if (step <= upTo) held++;
  return held < run.metricCount;
}

function addMetricRow(d, row) {
  if (d.steps.has(row.step)) return; // each step once (a resumed run recomputes steps past its checkpoint)
  d.steps.add(row.step);
  if (row.step > d.lastStep) d.lastStep = row.step;
  for (const [name, value] of Object.entries(row.values ?? {})) {
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    let s = d.series.get(name);
    if (!s) d.series.set(name, (s = []));
    s.push([row.step, value]);
  }
}

/** Live metric rows of the selected run, from the step after the last one held. */
function startMetrics(d) {
  if (d.stopMetrics) return;
  const stop = ws.subscribe(
    () => ({
      query: 'subscription Metrics($runId: ID!, $fromStep: Int) { trainingMetrics(runId: $runId, fromStep: $fromStep) { step values } }',
      variables: { runId: d.id, fromStep: d.lastStep + 1 },
      operationName: 'Metrics',
    }),
    {
      next: (payload) => {
        if (d !== detail) return;
        if (payload.errors?.length) {
          showError('metrics', `Live metrics: ${payload.errors.map(errorText).join('; ')}`);
          return;
        }
        const row = payload.data?.trainingMetrics;
        if (!row) return;
        addMetricRow(d, row);
        patchRun(d.id, { metricCount: Math.max(runs.list.find((r) => r.id === d.id)?.metricCount ?? 0, d.steps.size) });
        scheduleCharts();
      },
      error: (errs) => {
        if (d.stopMetrics === stop) d.stopMetrics = null;
        if (d === detail) showError('metrics', `Live metrics: ${errs.map(errorText).join('; ')}`);
      },
      complete: () => {
        // The run reached a final status.
        if (d.stopMetrics === stop) d.stopMetrics = null;
        if (d === detail) scheduleDetailRefresh(0);
      },
    },
  );
  d.stopMetrics = stop;
  // Check for rows that fell between the history and the live stream once they are stored.
  setTimeout(() => {
    if (d === detail && d.stopMetrics === stop) void loadDetail(false);
  }, 1000);
}

function renderDetail() {
  const d = detail;
  const run = d?.run;
  if (!run) return;
  $('detail-title').textContent = `${run.kind} run ${run.id}`;
  const status = $('detail-status');
  status.dataset.status = run.status;
  status.replaceChildren(statusPill(run.status), run.statusMessage ? h('span', { class: 'status-message' }, ` ${run.statusMessage}`) : '');
  $('cancel-run').hidden = !ACTIVE.has(run.status);
  $('resume-run').hidden = !RESUMABLE.has(run.status);
  $('cancel-run').disabled = false;
  $('resume-run').disabled = false;

  const planned = plannedSteps(run);
  const meta = [
    ['attempts', run.attempts],
    ['steps reported', planned !== undefined ? `${Math.max(run.metricCount, d.steps.size)} of ${planned}` : run.metricCount],
    ['backend', run.backend ?? '—'],
    ['worker', run.worker],
    ['pid', run.pid],
    ['created', timeEl(run.createdAt)],
    ['started', run.startedAt ? timeEl(run.startedAt) : '—'],
    ['finished', run.finishedAt ? timeEl(run.finishedAt) : '—'],
    ['duration', fmtDuration(run.durationMs)],
    ['waits for', run.dependsOn ? h('button', { type: 'button', class: 'run-link', onclick: () => selectRun(run.dependsOn) }, run.dependsOn) : undefined],
    ['directory', run.dir],
    ['command', run.command ? `medad ${run.command.join(' ')}` : undefined],
  ];
  $('detail-meta').replaceChildren(
    ...meta.filter(([, v]) => v !== undefined && v !== null).flatMap(([k, v]) => [h('dt', {}, k), h('dd', { id: k === 'steps reported' ? 'detail-steps' : undefined }, v)]),
  );

  renderCharts();
  renderEvaluation(run);
  renderCheckpoints(run);
  $('events').replaceChildren(
    ...run.events.map((e) =>
      h('li', {}, timeEl(e.time), ' ', e.type === 'status' ? `status → ${e.status}${e.message ? `: ${e.message}` : ''}` : `${e.level ? `[${e.level}] ` : ''}${e.message ?? ''}`),
    ),
  );
  $('config').textContent = JSON.stringify(run.config, null, 2);
}

function renderEvaluation(run) {
  const el = $('evaluation');
  if (run.kind !== 'EVAL') {
    el.replaceChildren();
    return;
  }
  const e = run.evaluation;
  if (!e) {
    el.replaceChildren(h('h3', {}, 'Evaluation'), h('p', { class: 'muted' }, run.status === 'SUCCEEDED' ? 'No eval.json was recorded for this run.' : 'The per-task table appears when the evaluation succeeds.'));
    return;
  }
  const seeds = e.seeds.length ? `mean ± std over seeds ${e.seeds.join(', ')}` : 'mean ± std';
  const table = h('table', { id: 'eval-table' },
    h('caption', {}, `Accuracy per task, % (${seeds}${e.n ? `; ${e.n} questions per seed` : ''})`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'task'), h('th', { scope: 'col', class: 'num' }, 'accuracy'))),
    h('tbody', {}, ...e.perTask.map((t) => h('tr', { dataset: { task: t.task } }, h('th', { scope: 'row' }, t.task), h('td', { class: 'num' }, fmtScore(t))))),
    h('tfoot', {}, h('tr', { dataset: { task: 'overall' } }, h('th', { scope: 'row' }, 'overall'), h('td', { class: 'num', id: 'eval-overall' }, fmtScore(e.overall)))),
  );
  const extra = [
    ['consistency', 'eval-consistency', fmtScore(e.consistency)],
    ['format rate', 'eval-format', fmtScore(e.formatRate)],
    ['think correctness', 'eval-think', e.thinkCorrectness ? fmtScore(e.thinkCorrectness) : undefined],
    ['invalid answers', 'eval-invalid', typeof e.invalidRate === 'number' ? `${e.invalidRate.toFixed(1)}` : undefined],
  ].filter(([, , v]) => v !== undefined);
  el.replaceChildren(h('h3', {}, 'Evaluation'), table, h('dl', {}, ...extra.flatMap(([k, id, v]) => [h('dt', {}, k), h('dd', { id }, v)])));
}

function renderCheckpoints(run) {
  const el = $('checkpoints');
  if (run.kind !== 'SFT' && run.kind !== 'CON_GRPO') {
    el.replaceChildren();
    return;
  }
  if (!run.checkpoints.length) {
    el.replaceChildren(h('h3', {}, 'Checkpoints'), h('p', { class: 'muted' }, 'none yet'));
    return;
  }
  el.replaceChildren(
    h('h3', {}, 'Checkpoints'),
    h('table', { id: 'checkpoint-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', class: 'num' }, 'step'), h('th', { scope: 'col' }, 'path'), h('th', { scope: 'col' }, 'saved'))),
      h('tbody', {}, ...run.checkpoints.map((c) => h('tr', {}, h('td', { class: 'num' }, c.step), h('td', {}, h('code', {}, c.path)), h('td', {}, timeEl(c.createdAt))))),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Charts (inline SVG, one per selected series)

/** The user's explicit choices: name → true (shown) / false (hidden); others follow DEFAULT_SERIES. */
let seriesChoice = {};
try {
  seriesChoice = JSON.parse(localStorage.getItem(SERIES_KEY) ?? '{}') ?? {};
} catch {
  seriesChoice = {};
}

function orderedNames(names) {
  const rank = (n) => {
    const i = SERIES_ORDER.indexOf(n);
    return i >= 0 ? i : DEFAULT_SERIES.test(n) ? SERIES_ORDER.length : SERIES_ORDER.length + 1;
  };
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function isShown(name, names) {
  if (name in seriesChoice) return seriesChoice[name];
  if (names.some((n) => DEFAULT_SERIES.test(n))) return DEFAULT_SERIES.test(name);
  return names.indexOf(name) < 4; // nothing familiar: the first few
}

let chartTimer = null;
function scheduleCharts() {
  if (chartTimer) return;
  chartTimer = setTimeout(() => {
    chartTimer = null;
    renderCharts();
  }, 60);
}

function setChartTotals() {
  const charts = $('charts');
  charts.dataset.points = String(detail?.steps.size ?? 0);
  charts.dataset.lastStep = String(detail?.lastStep ?? 0);
}

function renderCharts() {
  const d = detail;
  if (!d) return;
  const names = orderedNames(d.series.keys());
  const panel = $('metrics-panel');
  const training = d.run?.kind === 'SFT' || d.run?.kind === 'CON_GRPO';
  panel.hidden = names.length === 0 && !training;
  $('metrics-title').textContent = training || !d.run ? 'Training curves' : 'Progress metrics';
  setChartTotals();
  const stepsEl = $('detail-steps');
  if (stepsEl && d.run) {
    const planned = plannedSteps(d.run);
    const n = Math.max(d.run.metricCount, d.steps.size);
    stepsEl.textContent = planned !== undefined ? `${n} of ${planned}` : String(n);
  }

  // Series picker: one checkbox per metric name.
  const options = $('series-options');
  const existing = new Map([...options.querySelectorAll('input')].map((i) => [i.value, i]));
  if (names.length === 0) options.replaceChildren(h('span', { class: 'muted' }, 'no metrics reported yet'));
  else if (existing.size !== names.length || names.some((n) => !existing.has(n))) {
    options.replaceChildren(
      ...names.map((n) =>
        h('label', {}, h('input', { type: 'checkbox', value: n, checked: isShown(n, names), dataset: { series: n } }), ` ${n}`),
      ),
    );
  }

  const charts = $('charts');
  const byName = new Map([...charts.querySelectorAll('figure.chart')].map((f) => [f.dataset.series, f]));
  const shown = names.filter((n) => isShown(n, names));
  for (const name of shown) {
    const fig = byName.get(name) ?? h('figure', { class: 'chart', dataset: { series: name } });
    drawChart(fig, name, d.series.get(name));
    charts.append(fig);
    byName.delete(name);
  }
  for (const fig of byName.values()) fig.remove();
}

$('series-options').addEventListener('change', (ev) => {
  const input = ev.target;
  if (!(input instanceof HTMLInputElement)) return;
  seriesChoice[input.value] = input.checked;
  localStorage.setItem(SERIES_KEY, JSON.stringify(seriesChoice));
  renderCharts();
});

/** Evenly thins `points` to at most `max`, keeping the first and the last. */
function thin(points, max) {
  if (points.length <= max) return points;
  const out = [];
  const stride = (points.length - 1) / (max - 1);
  for (let i = 0; i < max - 1; i++) out.push(points[Math.round(i * stride)]);
  out.push(points[points.length - 1]);
  return out;
}

const W = 300;
const H = 100;

function drawChart(fig, name, raw) {
  const sorted = raw.slice().sort((a, b) => a[0] - b[0]);
  const pts = thin(sorted, MAX_PLOT);
  const [x0, x1] = [pts[0][0], pts[pts.length - 1][0]];
  let lo = Infinity;
  let hi = -Infinity;
  for (const [, v] of pts) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || Math.abs(hi) || 1;
  const yLo = lo - span * 0.05;
  const yHi = hi + span * 0.05;
  const x = (s) => (x1 === x0 ? W / 2 : ((s - x0) / (x1 - x0)) * W);
  const y = (v) => H - ((v - yLo) / (yHi - yLo)) * H;
  const last = pts[pts.length - 1];

  fig.dataset.points = String(pts.length);
  fig.dataset.lastStep = String(last[0]);
  fig.dataset.last = String(last[1]);

  const plot = svg('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `${name}: ${pts.length} points over steps ${x0}–${x1}, from ${fmtValue(pts[0][1])} to ${fmtValue(last[1])} (range ${fmtValue(lo)} to ${fmtValue(hi)})` });
  for (const f of [0.25, 0.5, 0.75]) plot.append(svg('line', { class: 'grid', x1: 0, x2: W, y1: H * f, y2: H * f }));
  if (pts.length === 1) plot.append(svg('circle', { cx: x(last[0]), cy: y(last[1]), r: 2 }));
  else plot.append(svg('polyline', { points: pts.map(([s, v]) => `${x(s).toFixed(2)},${y(v).toFixed(2)}`).join(' ') }));

  fig.replaceChildren(
    h('h4', {}, name, h('span', { title: `value at step ${last[0]}` }, fmtValue(last[1]))),
    plot,
    h('figcaption', {}, h('span', {}, `steps ${x0}–${x1} · ${pts.length} pts`), h('span', {}, `${fmtValue(lo)} … ${fmtValue(hi)}`)),
  );
}

// ---------------------------------------------------------------------------------------------
// Actions

async function runAction(button, mutation, field) {
  const d = detail;
  if (!d?.run) return;
  clearError('action');
  button.disabled = true;
  try {
    const data = await gql(`mutation ${field}($id: ID!) { ${field}(id: $id) { id status statusMessage } }`, { id: d.id });
    const run = data[field];
    patchRun(run.id, { status: run.status, statusMessage: run.statusMessage });
    if (d === detail) {
      d.run = { ...d.run, status: run.status, statusMessage: run.statusMessage };
      renderDetail();
    }
    scheduleRunsRefresh(0);
    scheduleDetailRefresh(0);
  } catch (err) {
    button.disabled = false;
    reportRequestError('action', err, `${field} failed: `);
  }
}
$('cancel-run').addEventListener('click', (ev) => void runAction(ev.currentTarget, 'cancelRun', 'cancelRun'));
$('resume-run').addEventListener('click', (ev) => void runAction(ev.currentTarget, 'resumeRun', 'resumeRun'));

// ---------------------------------------------------------------------------------------------
// Token, live status, polling

const tokenInput = $('token');
tokenInput.value = token;
function useToken(value) {
  const next = value.trim();
  if (next === token) return;
  token = next;
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  clearError('auth', 'runs', 'detail', 'action');
  ws.reconnect();
  void refreshRuns();
  if (detail) void loadDetail(detail.steps.size === 0);
}
$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  useToken(tokenInput.value);
});
tokenInput.addEventListener('change', () => useToken(tokenInput.value));

// Status changes of every run: patch the table at once, then refresh it (new runs, counts).
ws.subscribe(
  () => ({ query: 'subscription Status { runStatus { runId kind status message time } }', operationName: 'Status' }),
  {
    next: (payload) => {
      const change = payload.data?.runStatus;
      if (!change) return;
      patchRun(change.runId, { status: change.status, statusMessage: change.message });
      scheduleRunsRefresh();
      if (detail && change.runId === detail.id) {
        if (detail.run) {
          detail.run = { ...detail.run, status: change.status, statusMessage: change.message };
          renderDetail();
        }
        if (ACTIVE.has(change.status)) startMetrics(detail);
        scheduleDetailRefresh();
      }
    },
    error: (errs) => showError('socket', `Run status updates: ${errs.map(errorText).join('; ')}`),
  },
);

// Polling: every 3 s while something is active or the socket is down, else every 15 s.
setInterval(() => {
  if (document.hidden || errors.has('auth')) return; // a new token triggers the next load
  const active = runs.list.some((r) => ACTIVE.has(r.status));
  if (active || wsState !== 'live' || Date.now() - runs.lastLoad > 15_000) void refreshRuns();
  if (detail?.run && ACTIVE.has(detail.run.status)) void loadDetail(false);
}, 3000);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void refreshRuns();
});

function selectFromHash() {
  const m = /^#run=(.+)$/.exec(location.hash);
  if (m) selectRun(decodeURIComponent(m[1]), { updateHash: false });
}
window.addEventListener('hashchange', selectFromHash);

setConnection('', 'connecting…');
void refreshRuns().then(selectFromHash);
