#!/usr/bin/env node
// Paired differences of every configuration of a `medad reproduce` output folder against SFT-only
// (and Con-GRPO against accuracy-only GRPO): accuracy, consistency from the findings and from the
// whole think, over all the seeds given, through `medad compare` (hierarchical bootstrap over
// seeds and questions). Greedy evaluations (`evals/<config>-<seed>`), or sampled ones with --sampled.
//
// usage: node docs/results/paired-deltas.mjs OUT [--seeds 1,2,3,4,5] [--sampled] > table.md
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const out = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--seeds');
if (!out) {
  console.error('usage: node docs/results/paired-deltas.mjs OUT [--seeds 1,2,3] [--sampled]');
  process.exit(2);
}
const seeds = (args.includes('--seeds') ? args[args.indexOf('--seeds') + 1] : '1,2,3,4,5').split(',');
const sampled = args.includes('--sampled');
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'apps', 'cli', 'bin', 'medad.js');
const dir = (config, seed) => join(out, 'evals', sampled ? `${config}.sampled-${seed}` : `${config}-${seed}`);
const tmp = mkdtempSync(join(tmpdir(), 'medad-deltas-'));

/** All seeds' predictions of a configuration in one file, or undefined when a seed is missing. */
function pooled(config) {
  // eval.json is written last: without it the predictions may be a running evaluation's first part.
  const missing = seeds.filter((s) => !existsSync(join(dir(config, s), 'eval.json')));
  if (missing.length) {
    console.error(`${config}: no finished evaluation for seed(s) ${missing.join(',')}; skipped`);
    return undefined;
  }
  const file = join(tmp, `${config}.jsonl`);
  writeFileSync(file, seeds.map((s) => readFileSync(join(dir(config, s), 'predictions.jsonl'), 'utf8').trimEnd()).join('\n') + '\n');
  return file;
}

const fmt = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;
const cell = (d) => {
  const text = `${fmt(d.mean)} [${fmt(d.ci95[0])}, ${fmt(d.ci95[1])}]`;
  return d.significant ? `**${text}**` : text;
};
const compare = (a, b) => JSON.parse(execFileSync(process.execPath, [cli, 'compare', a, b, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 }));

try {
  const configs = ['rl-only', 'grpo-acc', 'grpo-con', 'con-grpo', 'grpo-care', 'w-0.2-0.6-0.2', 'w-0.2-0.2-0.6', 'w-0.1-0.45-0.45'];
  const base = pooled('sft');
  if (!base) process.exit(1);
  console.log(`Paired differences against SFT-only, seeds ${seeds.join(', ')}, ${sampled ? 'sampled at T = 1' : 'greedy'} (\`node docs/results/paired-deltas.mjs ${out} --seeds ${seeds.join(',')}${sampled ? ' --sampled' : ''}\`; bold = the 95% interval excludes 0):\n`);
  console.log('| configuration | accuracy (a / SFT) | Δ accuracy | consistency, findings (a / SFT) | Δ | consistency, whole think Δ |');
  console.log('|---|---|---|---|---|---|');
  const files = {};
  for (const c of configs) {
    const f = (files[c] = pooled(c));
    if (!f) continue;
    const d = compare(f, base);
    console.log(`| ${c} | ${d.accuracy.a.toFixed(2)} / ${d.accuracy.b.toFixed(2)} | ${cell(d.accuracy)} | ${d.consistency.a.toFixed(2)} / ${d.consistency.b.toFixed(2)} | ${cell(d.consistency)} | ${cell(d.consistencyKeep)} |`);
  }
  if (files['con-grpo'] && files['grpo-acc']) {
    const d = compare(files['con-grpo'], files['grpo-acc']);
    console.log(`\nCon-GRPO against accuracy-only GRPO: accuracy ${cell(d.accuracy)}, consistency (findings) ${cell(d.consistency)}.`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
