// The run list's per-request cost: its fields before (metrics(downsample: 2) per run) and after (lastMetrics, batched) the read-model change of session 15, interleaved in one process so the ratio holds across the machine's phases.
// usage: npm run build && node docs/results/list-fields.mjs
import { performance } from 'node:perf_hooks';
const { startControlPlane, RunKind } = await import('@medad/server');
const { freshDataDir, gql } = await import('@medad/server/testing');
const { PluginRegistry, RunStatus } = await import('@medad/core');
const dataDir = await freshDataDir('medad-listbench-');
const cp = await startControlPlane({ port: 0, host: '127.0.0.1', dataDir, logLevel: 'silent' }, { registry: new PluginRegistry() });
const kinds = [RunKind.Sft, RunKind.ConGrpo, RunKind.Eval, RunKind.BuildDataset];
for (let i = 0; i < 500; i++) {
  const kind = kinds[i % 4]; const id = `${kind.toLowerCase()}-b-${String(i).padStart(5, '0')}`;
  await cp.store.createRun({ id, kind, config: { seed: i, hyper: { steps: 100 } }, dir: `${dataDir}/runs/${id}` });
  await cp.store.setStatus(id, RunStatus.Succeeded, null);
  if (kind === RunKind.Eval) await cp.store.saveEvaluation(id, { overall: 70, seeds: [1], perTask: {} });
  if (kind === RunKind.Sft || kind === RunKind.ConGrpo) await cp.store.insertMetrics(Array.from({ length: 100 }, (_, s) => ({ runId: id, step: s + 1, time: new Date(), values: { loss: 1 / (s + 1) } })));
}
const base = 'id kind status statusMessage createdAt startedAt finishedAt durationMs backend config';
const Q = {
  old: `{ runs(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${base} metrics(downsample: 2) { step values } evaluation { overall { mean std } } } } } }`,
  new: `{ runs(first: 20) { totalCount pageInfo { hasNextPage endCursor } edges { node { ${base} lastMetrics { step values } evaluation { overall { mean std } } } } } }`,
};
const t = { old: [], new: [] };
for (let round = 0; round < 10; round++) for (const k of round % 2 ? ['new', 'old'] : ['old', 'new']) {
  for (let i = 0; i < 40; i++) { const t0 = performance.now(); const r = await gql(cp.url, Q[k]); if (r.errors) throw new Error(JSON.stringify(r.errors)); t[k].push(performance.now() - t0); }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(JSON.stringify({ requests_each: t.old.length, old_median_ms: med(t.old).toFixed(2), new_median_ms: med(t.new).toFixed(2), ratio_old_over_new: (med(t.old) / med(t.new)).toFixed(2) }));
await cp.close();
