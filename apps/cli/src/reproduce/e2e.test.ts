import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import type { Prediction } from '@medad/evaluator';
import { MEDAD_BIN } from './plan.js';
import type { Results } from './report.js';

const run = promisify(execFile);
const out = mkdtempSync(join(tmpdir(), 'medad-reproduce-'));
after(() => rmSync(out, { recursive: true, force: true }));

async function reproduce(): Promise<{ stdout: string; stderr: string; seconds: number }> {
  const t0 = Date.now();
  const { stdout, stderr } = await run(process.execPath, [MEDAD_BIN, 'reproduce', '--preset', 'smoke', '--out', out], { maxBuffer: 16 << 20 });
  return { stdout, stderr, seconds: (Date.now() - t0) / 1000 };
}

test('medad reproduce --preset smoke trains and evaluates every configuration, writes the tables and the report; a re-run skips everything', { timeout: 15 * 60_000 }, async () => {
  const first = await reproduce();
  assert.match(first.stdout, /49 jobs run, 0 already done, 0 failed, 0 skipped/);

  const md = readFileSync(join(out, 'results.md'), 'utf8');
  const num = '\\d+\\.\\d\\d';
  for (const row of ['Text-only baseline', 'Image-only baseline']) {
    assert.match(md, new RegExp(`\\| ${row.replace(/[()+]/g, '\\$&')} (\\| ${num} ){6}\\| deterministic \\|`), row);
  }
  for (const row of ['SFT-only', 'RL-only', 'SFT+GRPO (acc)', 'SFT+GRPO (con)', 'SFT+Con-GRPO', 'SFT+GRPO-CARE']) {
    assert.match(md, new RegExp(`\\| ${row.replace(/[()+]/g, '\\$&')} (\\| ${num} ± ${num} ){6}\\| 1,2 \\|`), row);
  }
  assert.match(md, /## Table 2/);
  assert.match(md, /\| \(0\.1, 0\.45, 0\.45\) \| \d+\.\d\d \| \d+\.\d\d \| 1 \|/);
  assert.match(md, /Command: `medad reproduce --preset smoke --out /);
  assert.match(md, /Machine: \d+ CPUs/);
  assert.match(md, /Measured \(overall accuracy, mean over 2 seeds\)/);

  // results.json agrees with the predictions on disk (overall = correct / questions).
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
  for (const m of results.methods.filter((x) => x.table === 'table1')) {
    assert.deepEqual(m.seeds, [1, 2], m.id);
    for (const s of m.perSeed) {
      const preds = readFileSync(join(out, 'evals', `${m.id}-${s.seed}`, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Prediction);
      assert.equal(preds.length, 20);
      assert.equal(s.overall, (100 * preds.filter((p) => p.correct).length) / preds.length);
    }
  }
  assert.equal(results.baselines!.imageOnly.n, 20);
  // Every configuration but SFT-only has its paired difference to SFT-only with a 95% interval; consistency under both readings.
  for (const m of results.methods) {
    if (m.id === 'sft') assert.equal(m.pairedVsSftOnly, undefined);
    else {
      const d = m.pairedVsSftOnly!;
      assert.ok(d.ci95[0] <= d.mean && d.mean <= d.ci95[1], `${m.id}: ${JSON.stringify(d)}`);
      assert.deepEqual(d.seeds, m.seeds);
    }
    assert.ok(Number.isFinite(m.consistencyKeep.mean), `${m.id} consistencyKeep`);
    assert.deepEqual(m.sampledOverall?.n, m.seeds.length, `${m.id}: sampled accuracy over every seed`);
  }
  assert.match(md, /Paired differences to SFT-only/);
  // Each job ran a run spec, written into its run directory.
  assert.equal(JSON.parse(readFileSync(join(out, 'runs', 'rl-only-1', 'spec.json'), 'utf8')).from, join(out, 'runs', 'base-1'));

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /data:image\/png;base64,/);
  assert.ok(!html.includes('<script'));
  assert.equal(readdirSync(join(out, 'jobs')).length, 49);
  assert.ok(existsSync(join(out, 'logs', 'sft-1', 'stderr.log')));
  for (const r of ['sft-1', 'con-grpo-2', 'w-0.2-0.6-0.2-1']) assert.ok(existsSync(join(out, 'runs', r, 'metrics.jsonl')), r);

  const second = await reproduce();
  assert.match(second.stdout, /0 jobs run, 49 already done, 0 failed, 0 skipped/);
  assert.ok(second.seconds < 20, `re-run took ${second.seconds} s`);
  assert.equal(readFileSync(join(out, 'results.md'), 'utf8').split('## Table 1')[1], md.split('## Table 1')[1], 'same tables');
  const state = JSON.parse(readFileSync(join(out, 'reproduce.json'), 'utf8')) as { invocations: Array<{ ran: number; failed: number; interrupted: boolean; seconds: number }> };
  assert.equal(state.invocations.length, 2);
  assert.deepEqual(state.invocations.map((i) => [i.ran, i.failed, i.interrupted]), [[49, 0, false], [0, 0, false]]);
  assert.ok(state.invocations[0]!.seconds > state.invocations[1]!.seconds);
});
