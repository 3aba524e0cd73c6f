// `npm run bench -- server`: control-plane latency on loopback (embedded PGlite in a temp dir).
//
// The control plane runs in a child process, so the load generator and the 200 websocket clients
// here do not share its event loop. Two figures (keys name their units):
//  - the dashboard's run-list query, 20 runs a page (totalCount, pageInfo, id kind status
//    statusMessage createdAt startedAt finishedAt durationMs backend config, the last metric row and
//    the evaluation's overall score — apps/dashboard/src/model.ts RUN_SUMMARY_FIELDS) at a fixed OPEN-LOOP rate: requests are sent on a
//    schedule whatever the replies do, and latency counts from the scheduled send time, so a
//    stall shows up as latency instead of silently lowering the rate;
//    measured twice: the same request text (what polling dashboards send; the response cache
//    answers it until a database write) and unique texts (an ignored `nonce` variable: every
//    request executes) — `*_uncached_*` keys;
//  - metric delivery: 1000 graphql-ws subscribers to `trainingMetrics(runId)`; metric rows are
//    published through the control plane's EventBus (what the executor does for every reported
//    step), each stamped with its publish time; latency is publish → received, per subscriber.
//    The two processes' clocks are aligned by IPC ping (offset from the fastest round trip).
//
// Knobs (environment): MEDAD_BENCH_RATE (200 req/s), MEDAD_BENCH_SECONDS (10), MEDAD_BENCH_RUNS
// (500 runs in the table), MEDAD_BENCH_SUBSCRIBERS (1000), MEDAD_BENCH_EVENTS (50 metric rows, 20/s).
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const CHILD_FLAG = '--medad-bench-server-child';
const now = () => performance.timeOrigin + performance.now();
const envInt = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);

const RUNS_QUERY = `query Runs($first: Int!, $after: String) {
  runs(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id kind status statusMessage createdAt startedAt finishedAt durationMs backend config lastMetrics { step values } evaluation { overall { mean std } } } }
  }
}`;

// ---------------------------------------------------------------------------------------------
// Child: the control plane

async function child() {
  const { startControlPlane, RunKind } = await import('@medad/server');
  const { freshDataDir } = await import('@medad/server/testing');
  const { PluginRegistry, RunStatus } = await import('@medad/core');
  const dataDir = await freshDataDir('medad-bench-server-');
  // No plugins needed: the benchmark starts no runs (runs are inserted through the store).
  const cp = await startControlPlane({ port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent' }, { registry: new PluginRegistry() });
  const kinds = [RunKind.Sft, RunKind.ConGrpo, RunKind.Eval, RunKind.BuildDataset];
  const statuses = [RunStatus.Succeeded, RunStatus.Succeeded, RunStatus.Failed, RunStatus.Cancelled, RunStatus.Interrupted];
  const nRuns = envInt('MEDAD_BENCH_RUNS', 500);
  let metricRows = 0;
  for (let i = 0; i < nRuns; i++) {
    const kind = kinds[i % kinds.length];
    const id = `${kind.toLowerCase()}-bench-${String(i).padStart(5, '0')}`;
    const config = { dataset: { id: 'demo' }, seed: i, hyper: { steps: 100, batchSize: 8, lr: 3e-4, saveEvery: 25 } };
    await cp.store.createRun({ id, kind, config, dir: `${dataDir}/runs/${id}` });
    await cp.store.setStatus(id, statuses[i % statuses.length], i % 5 === 2 ? 'exit code 1: out of memory' : null);
    if (kind === RunKind.Eval) await cp.store.saveEvaluation(id, { overall: 70 + (i % 20), std: { overall: 1.5 }, seeds: [1, 2, 3], n: 1000, perTask: { anomaly_detection: 80 } });
    if (kind === RunKind.Sft || kind === RunKind.ConGrpo) {
      const rows = Array.from({ length: 100 }, (_, s) => ({ runId: id, step: s + 1, time: new Date(), values: { loss: 1 / (s + 1), lr: 3e-4, reward: s / 100 } }));
      metricRows += await cp.store.insertMetrics(rows);
    }
  }
  const runId = 'sft-bench-live';
  await cp.store.createRun({ id: runId, kind: RunKind.Sft, config: {}, dir: `${dataDir}/runs/${runId}` });
  // Owned by this control plane (its heartbeat keeps it alive): an unowned RUNNING run is taken
  // over as INTERRUPTED by the sweep, which would end every subscription before a row is published.
  await cp.store.claimRun(runId, cp.executor.owner);
  await cp.store.setStatus(runId, RunStatus.Running, null, undefined, cp.executor.owner);
  process.on('message', (m) => {
    if (m.type === 'clock') process.send({ type: 'clock', id: m.id, t: now() });
    else if (m.type === 'count') process.send({ type: 'count', n: cp.bus.listenerCount(`metrics:${runId}`) });
    else if (m.type === 'publish') cp.bus.publish('metrics', runId, { runId, step: m.step, time: new Date(), values: { loss: 1 / m.step, sentAt: now() } });
    else if (m.type === 'stop') {
      void cp.close().then(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  process.send({ type: 'ready', url: cp.url, runId, runs: nRuns + 1, metricRows });
}

if (process.argv.includes(CHILD_FLAG)) await child();

// ---------------------------------------------------------------------------------------------
// Parent: load generator and subscribers

function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const round = (x) => Math.round(x * 100) / 100;
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s.at(-1) ?? NaN), mean: round(s.reduce((a, b) => a + b, 0) / (s.length || 1)) };
}

class Child {
  constructor() {
    this.proc = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
    this.waiters = new Map();
    this.unclaimed = new Map();
    this.exited = undefined;
    this.proc.on('message', (m) => {
      const key = m.type === 'clock' ? `clock:${m.id}` : m.type;
      const w = this.waiters.get(key);
      if (w) {
        this.waiters.delete(key);
        w.resolve(m);
      } else this.unclaimed.set(key, m);
    });
    this.proc.once('exit', (code) => {
      this.exited = new Error(`the control plane process exited (code ${code})`);
      for (const w of this.waiters.values()) w.reject(this.exited);
      this.waiters.clear();
    });
  }
  /** Sends `type` (except for "ready") and waits for the reply with that key. */
  ask(type, extra = {}, key = type) {
    return new Promise((resolve, reject) => {
      if (this.exited) return reject(this.exited);
      if (this.unclaimed.has(key)) {
        resolve(this.unclaimed.get(key));
        this.unclaimed.delete(key);
        return;
      }
      this.waiters.set(key, { resolve, reject });
      if (type !== 'ready') this.proc.send({ type, ...extra });
    });
  }
  send(m) {
    this.proc.send(m);
  }
  stop() {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', resolve);
      this.proc.send({ type: 'stop' });
    });
  }
}

/** Child clock minus ours, from the IPC ping with the smallest round trip. */
async function clockOffset(child) {
  let best = { rtt: Infinity, offset: 0 };
  for (let id = 0; id < 50; id++) {
    const t0 = now();
    const { t } = await child.ask('clock', { id }, `clock:${id}`);
    const t1 = now();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: t - (t0 + t1) / 2 };
  }
  return best;
}

async function openLoopRuns(url, rate, seconds, log) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(url);
  const body = JSON.stringify({ query: RUNS_QUERY, variables: { first: 20 } });
  // A variable the query does not declare (GraphQL ignores it) makes each request's text unique,
  // so the response cache never answers it: the cost of executing the query.
  let nonce = 0;
  const uniqueBody = () => JSON.stringify({ query: RUNS_QUERY, variables: { first: 20, nonce: nonce++ } });
  const failures = new Set();
  const cacheVerdicts = new Map();
  const one = (body) =>
    new Promise((resolve) => {
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const verdict = res.headers['x-medad-cache'] ?? 'none';
          cacheVerdicts.set(verdict, (cacheVerdicts.get(verdict) ?? 0) + 1);
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            let ok = res.statusCode === 200;
            let why = `HTTP ${res.statusCode}`;
            if (ok) {
              const json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              ok = !json.errors && json.data?.runs?.edges?.length === 20;
              why = json.errors ? json.errors[0].message : 'wrong page size';
            }
            if (!ok) failures.add(why);
            resolve(ok);
          });
        },
      );
      req.on('error', (err) => {
        failures.add(err.message);
        resolve(false);
      });
      req.end(body);
    });

  const run = async (rate, durationS, unique = false) => {
    const total = Math.round(rate * durationS);
    const interval = 1000 / rate;
    const latencies = [];
    let errors = 0;
    let inflight = 0;
    let maxInflight = 0;
    const pending = [];
    const start = now() + 20;
    let sent = 0;
    await new Promise((resolve) => {
      const tick = () => {
        const t = now();
        while (sent < total && start + sent * interval <= t) {
          const scheduled = start + sent * interval;
          sent++;
          inflight++;
          maxInflight = Math.max(maxInflight, inflight);
          pending.push(
            one(unique ? uniqueBody() : body).then((ok) => {
              inflight--;
              if (ok) latencies.push(now() - scheduled);
              else errors++;
            }),
          );
        }
        if (sent < total) setTimeout(tick, Math.max(0, Math.min(interval, start + sent * interval - now())));
        else resolve();
      };
      setTimeout(tick, 20);
    });
    await Promise.all(pending);
    const elapsed = (now() - start) / 1000;
    const s = stats(latencies);
    return { requests: total, errors, completed_rps: Math.round((latencies.length / elapsed) * 10) / 10, p50_ms: s.p50, p99_ms: s.p99, max_ms: s.max, mean_ms: s.mean, max_in_flight: maxInflight };
  };

  /** Closed loop: `concurrency` requests always in flight, for the throughput the server can sustain. */
  const capacity = async (concurrency, durationS, unique = false) => {
    const end = now() + durationS * 1000;
    const latencies = [];
    let errors = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (now() < end) {
          const t = now();
          if (await one(unique ? uniqueBody() : body)) latencies.push(now() - t);
          else errors++;
        }
      }),
    );
    const s = stats(latencies);
    return { rps: Math.round((latencies.length / ((now() - t0) / 1000)) * 10) / 10, errors, p50_ms: s.p50, p99_ms: s.p99 };
  };

  log('warm-up: 20 req/s for 2 s');
  await run(20, 2);
  log('capacity: closed loop, 8 requests in flight, 5 s, each request executed (unique text)');
  const uncached = await capacity(8, 5, true);
  cacheVerdicts.clear();
  log('capacity: closed loop, 8 requests in flight, 5 s, the same request (as dashboards poll it)');
  const cap = await capacity(8, 5);
  const capVerdicts = Object.fromEntries(cacheVerdicts);
  const sustainable = Math.max(1, Math.floor(cap.rps / 2));
  log(`runs(first: 20): ${sustainable} req/s (half the capacity) open-loop for ${seconds} s`);
  const half = await run(sustainable, seconds);
  log(`runs(first: 20): ${rate} req/s open-loop for ${seconds} s`);
  const r = await run(rate, seconds);
  log(`runs(first: 20): 500 req/s open-loop for ${seconds} s`);
  const at500 = await run(500, seconds);
  log(`runs(first: 20): 500 req/s open-loop for ${seconds} s, each request executed`);
  const at500uncached = await run(500, seconds, true);
  agent.destroy();
  const prefixed = (prefix, o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}_${k}`, v]));
  return {
    runs_query_rate_rps: rate,
    runs_query_seconds: seconds,
    ...prefixed('runs_query', r),
    ...(failures.size ? { runs_query_error_kinds: [...failures].slice(0, 5) } : {}),
    runs_query_capacity_rps: cap.rps,
    runs_query_capacity_p50_ms: cap.p50_ms,
    runs_query_capacity_p99_ms: cap.p99_ms,
    runs_query_capacity_cache_verdicts: capVerdicts,
    runs_query_capacity_uncached_rps: uncached.rps,
    runs_query_capacity_uncached_p50_ms: uncached.p50_ms,
    runs_query_capacity_uncached_p99_ms: uncached.p99_ms,
    runs_query_capacity_cached_over_uncached: Math.round((cap.rps / uncached.rps) * 100) / 100,
    runs_query_p99_ms_at_500rps: at500.p99_ms,
    runs_query_completed_rps_at_500rps: at500.completed_rps,
    runs_query_errors_at_500rps: at500.errors,
    runs_query_uncached_p99_ms_at_500rps: at500uncached.p99_ms,
    runs_query_uncached_completed_rps_at_500rps: at500uncached.completed_rps,
    runs_query_half_capacity_rate_rps: sustainable,
    ...prefixed('runs_query_half_capacity', half),
  };
}

async function subscriptionFanout(child, url, runId, nSubscribers, nEvents, offset, log) {
  const { createClient } = await import('graphql-ws');
  const { default: WebSocket } = await import('ws');
  const received = new Map(); // step → latencies (ms)
  const clients = [];
  const unsubscribe = [];
  let errors = 0;
  log(`${nSubscribers} graphql-ws subscribers to trainingMetrics(runId)`);
  for (let i = 0; i < nSubscribers; i++) {
    const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: 0 });
    clients.push(client);
    unsubscribe.push(
      client.subscribe(
        { query: 'subscription($id: ID!) { trainingMetrics(runId: $id) { step values } }', variables: { id: runId } },
        {
          next: (ev) => {
            const t = now();
            const m = ev.data?.trainingMetrics;
            if (!m) return;
            let list = received.get(m.step);
            if (!list) received.set(m.step, (list = []));
            list.push(t - (m.values.sentAt - offset));
          },
          error: () => errors++,
          complete: () => {},
        },
      ),
    );
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { n } = await child.ask('count');
    if (n >= nSubscribers) break;
    if (Date.now() > deadline) throw new Error(`only ${n} of ${nSubscribers} subscriptions became live in 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  log(`publishing ${nEvents} metric rows at 20/s`);
  for (let step = 1; step <= nEvents; step++) {
    child.send({ type: 'publish', step });
    await new Promise((r) => setTimeout(r, 50));
  }
  const settle = Date.now() + 10_000;
  while (Date.now() < settle && [...received.values()].reduce((n, l) => n + l.length, 0) < nEvents * nSubscribers) await new Promise((r) => setTimeout(r, 50));
  for (const u of unsubscribe) u();
  await Promise.all(clients.map((c) => c.dispose()));
  const all = [...received.values()].flat();
  const lastPerEvent = [...received.values()].map((l) => Math.max(...l));
  const s = stats(all);
  const last = stats(lastPerEvent);
  return {
    subscribers: nSubscribers,
    metric_events: nEvents,
    deliveries: all.length,
    deliveries_lost: nEvents * nSubscribers - all.length,
    subscription_errors: errors,
    delivery_p50_ms: s.p50,
    delivery_p99_ms: s.p99,
    delivery_max_ms: s.max,
    delivery_mean_ms: s.mean,
    fanout_last_subscriber_p50_ms: last.p50,
    fanout_last_subscriber_p99_ms: last.p99,
  };
}

export default async function server({ log }) {
  const rate = envInt('MEDAD_BENCH_RATE', 200);
  const seconds = envInt('MEDAD_BENCH_SECONDS', 10);
  const nSubscribers = envInt('MEDAD_BENCH_SUBSCRIBERS', 1000);
  const nEvents = envInt('MEDAD_BENCH_EVENTS', 50);
  log('starting a control plane (PGlite in a temp dir) in a child process and filling the runs table...');
  const child = new Child();
  try {
    const ready = await child.ask('ready');
    log(`ready at ${ready.url}: ${ready.runs} runs, ${ready.metricRows} metric rows`);
    const clock = await clockOffset(child);
    const http = await openLoopRuns(ready.url, rate, seconds, log);
    const subs = await subscriptionFanout(child, ready.url, ready.runId, nSubscribers, nEvents, clock.offset, log);
    return {
      database: 'pglite',
      runs_in_table: ready.runs,
      metric_rows_in_table: ready.metricRows,
      query: 'runs(first: 20) { totalCount pageInfo edges { node { id kind status statusMessage createdAt startedAt finishedAt durationMs backend config lastMetrics { step values } evaluation { overall { mean std } } } } } (the dashboard run list)',
      ...http,
      ...subs,
      clock_offset_rtt_ms: Math.round(clock.rtt * 1000) / 1000,
    };
  } finally {
    await child.stop();
  }
}
