// The run list's per-request cost, interleaved in one process so the ratios hold across the machine's phases:
//  - old: its fields before session 15's read-model work (metrics(downsample: 2) per run; runs read from PGlite);
//  - batched: lastMetrics and evaluation batched per response (runs still read from PGlite: MEDAD_RUNS_IN_MEMORY=0);
//  - in-memory: the same fields with the runs table in memory (the PGlite default).
// usage: npm run build && node docs/results/list-fields.mjs
import { performance } from 'node:perf_hooks';
const { startControlPlane, RunKind } = await import('@medad/server');
const { freshDataDir, gql } = await import('@medad/server/testing');
const { PluginRegistry, RunStatus } = await import('@medad/core');

async function controlPlane(inMemory) {
  process.env.MEDAD_RUNS_IN_MEMORY = inMemory ? '1' : '0';
  const dataDir = await freshDataDir('medad-listbench-');
  const cp = await startControlPlane({ port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent' }, { registry: new PluginRegistry() });
  const kinds = [RunKind.Sft, RunKind.ConGrpo, RunKind.Eval, RunKind.BuildDataset];
  for (let i = 0; i < 500; i++) {
    const kind = kinds[i % 4];
    const id = `${kind.toLowerCase()}-b-${String(i).padStart(5, '0')}`;
    await cp.store.createRun({ id, kind, config: { seed: i, hyper: { steps: 100 } }, dir: `${dataDir}/runs/${id}` });
    await cp.store.setStatus(id, RunStatus.Succeeded, null);
    if (kind === RunKind.Eval) await cp.store.saveEvaluation(id, { overall: 70, seeds: [1], perTask: {} });
    if (kind === RunKind.Sft || kind === RunKind.ConGrpo) await cp.store.insertMetrics(Array.from({ length: 100 }, (_, s) => ({ runId: id, step: s + 1, time: new Date(), values: { loss: 1 / (s + 1) } })));
  }
  return cp;
}
const db = await controlPlane(false);
const mem = await controlPlane(true);
const base = 'id kind status statusMessage createdAt startedAt finishedAt durationMs backend config';
const list = (fields) => `{ runs(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${base} ${fields} evaluation { overall { mean std } } } } } }`;
const arms = {
  old: [db, list('metrics(downsample: 2) { step values }')],
  batched: [db, list('lastMetrics { step values }')],
  'in-memory': [mem, list('lastMetrics { step values }')],
};
const t = Object.fromEntries(Object.keys(arms).map((k) => [k, []]));
for (let round = 0; round < 10; round++) {
  const names = Object.keys(arms);
  for (const k of round % 2 ? names.reverse() : names) {
    const [cp, query] = arms[k];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const r = await gql(cp.url, query);
      if (r.errors) throw new Error(JSON.stringify(r.errors));
      t[k].push(performance.now() - t0);
    }
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const out = { requests_each: t.old.length };
for (const k of Object.keys(arms)) out[`${k}_median_ms`] = Number(med(t[k]).toFixed(2));
out.old_over_batched = Number((med(t.old) / med(t.batched)).toFixed(2));
out.batched_over_in_memory = Number((med(t.batched) / med(t['in-memory'])).toFixed(2));
console.log(JSON.stringify(out));
await db.close();
await mem.close();
