import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { doneFile, doneKey, Executor, finishedJobs, logFile } from './executor.js';
import { buildPlan, dependentsOf, estimateWall, type Job } from './plan.js';
import { PRESETS } from './presets.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'medad-plan-'));
  dirs.push(d);
  return d;
}

/** A job's run spec as a plain object (the plan validated it). */
const specOf = (j: Job): Record<string, any> => j.spec as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test('the smoke plan emits run specs: data, baselines, a base stage and five configurations per seed, Table 3 for the first seed, an eval after each run', () => {
  const out = tmp();
  const plan = buildPlan({ outDir: out, presetName: 'smoke', preset: PRESETS.smoke });
  const ids = plan.jobs.map((j) => j.id);
  const perSeed = (s: number) => ['sft', 'rl-only', 'grpo-acc', 'grpo-con', 'con-grpo', 'grpo-care'].map((m) => `${m}-${s}`);
  const table3 = ['w-0.2-0.6-0.2-1', 'w-0.2-0.2-0.6-1', 'w-0.1-0.45-0.45-1'];
  const trains = [...perSeed(1), ...table3, ...perSeed(2)];
  assert.deepEqual(new Set(ids), new Set(['data', 'baselines', 'base-1', 'base-2', ...trains, ...trains.map((t) => `eval-${t}`), ...trains.map((t) => `eval-sampled-${t}`)]));
  assert.equal(ids.length, 49);
  const job = (id: string): Job => plan.jobs.find((j) => j.id === id)!;

  assert.deepEqual(job('baselines').deps, ['data']);
  assert.equal(job('baselines').stdoutFile, join(out, 'baselines.json'));
  assert.equal(job('baselines').spec, undefined, 'baselines are a plain command');
  assert.deepEqual(job('data').cli, ['run', join(out, 'specs', 'data.json')]);
  assert.deepEqual(specOf(job('data')).generator, { plugin: 'synthetic', config: { samples: 80, seed: 0, build: 'changed' } });
  // SFT per seed; each seed's RL configurations start from that seed's SFT run; RL-only from the seed's base stage.
  assert.deepEqual(job('sft-2').deps, ['data']);
  const sft = specOf(job('sft-2'));
  assert.deepEqual([sft.kind, sft.seed, sft.hyper.steps, sft.hyper.target, sft.backbone.config.preset, sft.data], ['sft', 2, 20, 'cot', 'tiny', join(out, 'data')]);
  const base = specOf(job('base-2'));
  assert.deepEqual([base.kind, base.hyper.target, base.hyper.steps], ['sft', 'base', 10]);
  for (const id of ['grpo-acc-2', 'grpo-con-2', 'con-grpo-2']) {
    assert.deepEqual(job(id).deps, ['sft-2']);
    const g = specOf(job(id));
    assert.equal(g.from, join(out, 'runs', 'sft-2'));
    assert.deepEqual([g.hyper.steps, g.hyper.groupSize, g.hyper.promptsPerStep], [2, 4, 2]);
    assert.equal(g.compute.threads, 1, 'side-by-side jobs get cores ÷ concurrency threads (default 1)');
  }
  assert.deepEqual(job('rl-only-1').deps, ['base-1']);
  assert.equal(specOf(job('rl-only-1')).from, join(out, 'runs', 'base-1'));
  const weights = (id: string) => specOf(job(id)).rewards.map((r: { plugin: string; weight: number }) => `${r.plugin}=${r.weight}`).join(',');
  assert.equal(weights('grpo-acc-1'), 'format=0.5,accuracy=0.5');
  assert.equal(specOf(job('grpo-acc-1')).judge, null);
  assert.equal(weights('grpo-con-1'), 'format=0.5,consistency=0.5');
  assert.equal(weights('con-grpo-1'), 'format=0.3333,accuracy=0.3333,consistency=0.3333');
  assert.equal(weights('w-0.1-0.45-0.45-1'), 'format=0.1,accuracy=0.45,consistency=0.45');
  // GRPO-CARE: accuracy + format + 0.5 × the EMA-likelihood bonus, no judge, no KL (the authors' settings).
  assert.equal(weights('grpo-care-1'), 'format=1,accuracy=1,care=0.5');
  assert.deepEqual([specOf(job('grpo-care-1')).judge, specOf(job('grpo-care-1')).hyper.beta, specOf(job('grpo-care-1')).from], [null, 0, join(out, 'runs', 'sft-1')]);
  // Evaluations: greedy on the first 20 test questions, rule judge, labelled with the training seed.
  const ev = job('eval-grpo-con-2');
  assert.deepEqual(ev.deps, ['grpo-con-2']);
  const e = specOf(ev);
  assert.deepEqual([e.checkpoint, e.out, e.seeds, e.limit, e.judge.plugin, e.decoding], [join(out, 'runs', 'grpo-con-2'), join(out, 'evals', 'grpo-con-2'), [2], 20, 'rule', 'greedy']);
  // Sampled accuracy next to greedy: the same questions at T = 1, seeded by the training seed.
  const sampled = specOf(job('eval-sampled-grpo-con-2'));
  assert.deepEqual([sampled.decoding, sampled.temperature, sampled.seeds, sampled.checkpoint, sampled.out], ['sample', 1, [2], e.checkpoint, join(out, 'evals', 'grpo-con.sampled-2')]);
  // Every job runs the medad launcher with this Node.
  assert.equal(ev.argv[0], process.execPath);
  assert.match(ev.argv[1]!, /apps[/\\]cli[/\\]bin[/\\]medad\.js$/);
  assert.ok(existsSync(ev.argv[1]!));
  assert.deepEqual(dependentsOf(plan.jobs, 'sft-1').sort(), ['con-grpo-1', 'eval-con-grpo-1', 'eval-grpo-acc-1', 'eval-grpo-care-1', 'eval-grpo-con-1', 'eval-sampled-con-grpo-1', 'eval-sampled-grpo-acc-1', 'eval-sampled-grpo-care-1', 'eval-sampled-grpo-con-1', 'eval-sampled-sft-1', 'eval-sampled-w-0.1-0.45-0.45-1', 'eval-sampled-w-0.2-0.2-0.6-1', 'eval-sampled-w-0.2-0.6-0.2-1', 'eval-sft-1', 'eval-w-0.1-0.45-0.45-1', 'eval-w-0.2-0.2-0.6-1', 'eval-w-0.2-0.6-0.2-1', 'grpo-acc-1', 'grpo-care-1', 'grpo-con-1', 'w-0.1-0.45-0.45-1', 'w-0.2-0.2-0.6-1', 'w-0.2-0.6-0.2-1']);
  // The done-file key is the spec (with the output directory abstracted): a changed knob is a changed job.
  assert.equal(doneKey(job('sft-2'), out), JSON.stringify(job('sft-2').spec).split(out).join('$OUT'));
});

test('--seeds overrides the preset; full runs Table 3 for every seed; quick is estimated under an hour on 2 workers', () => {
  const out = tmp();
  const custom = buildPlan({ outDir: out, presetName: 'smoke', preset: PRESETS.smoke, seeds: [7] });
  assert.deepEqual(custom.seeds, [7]);
  assert.ok(custom.jobs.some((j) => j.id === 'w-0.2-0.6-0.2-7'));
  assert.ok(!custom.jobs.some((j) => j.seed === 1));
  const full = buildPlan({ outDir: out, presetName: 'full', preset: PRESETS.full });
  // full: 5 seeds, each a base stage and 9 configurations (6 of Table 1, 3 of Table 3) trained, evaluated greedy and sampled.
  assert.equal(full.jobs.filter((j) => j.id.startsWith('w-')).length, 3 * 5);
  assert.equal(full.jobs.length, 2 + 5 * (9 * 3 + 1));
  assert.equal(specOf(full.jobs.find((j) => j.id === 'eval-sft-5')!).limit, undefined, 'full evaluates the whole test split');
  const quick = buildPlan({ outDir: out, presetName: 'quick', preset: PRESETS.quick });
  assert.equal(quick.jobs.filter((j) => j.id.startsWith('w-')).length, 0, 'Table 3 only in full');
  assert.equal(specOf(quick.jobs.find((j) => j.id === 'sft-2')!).hyper.steps, 8000);
  assert.equal(specOf(quick.jobs.find((j) => j.id === 'eval-sft-2')!).limit, 3000);
  assert.ok(quick.jobs.some((j) => j.id === 'eval-sampled-con-grpo-2'), 'greedy and sampled');
  const wall = estimateWall(quick.jobs, 2);
  assert.ok(wall < 3600, `quick is estimated at ${wall} s`);
  assert.ok(wall > estimateWall(quick.jobs, 8), 'more workers would be faster');
});

test('estimateWall schedules ready jobs on the workers', () => {
  const j = (id: string, estimate: number, deps: string[] = []): Job => ({ id, kind: 'other', deps, cli: [], argv: [], estimate });
  const jobs = [j('a', 10), j('b', 10), j('c', 5, ['a'])];
  assert.equal(estimateWall(jobs, 2), 15);
  assert.equal(estimateWall(jobs, 1), 25);
  assert.equal(estimateWall(jobs, 2, new Set(['a'])), 10);
  assert.equal(estimateWall(jobs, 2, new Set(['a', 'b']), new Map([['c', 2]])), 2);
});

/** A job running a small Node script (written to a file: jobs run `node <script>` through the launcher). */
const scripts = tmp();
let scriptCount = 0;
function nodeJob(id: string, script: string, deps: string[] = [], extra: Partial<Job> = {}): Job {
  const file = join(scripts, `${id}-${++scriptCount}.cjs`);
  writeFileSync(file, script);
  return { id, kind: 'other', deps, cli: ['test', id], argv: [process.execPath, file], estimate: 1, ...extra };
}

test('the executor runs jobs concurrently, records done files, blocks dependents of a failure and resumes', async () => {
  const out = tmp();
  const trace = join(out, 'trace.txt');
  const mark = (id: string, ms = 0) => `const fs=require('fs');fs.appendFileSync(${JSON.stringify(trace)},'start ${id} '+Date.now()+'\\n');setTimeout(()=>{fs.appendFileSync(${JSON.stringify(trace)},'end ${id} '+Date.now()+'\\n')},${ms})`;
  const jobs = [
    nodeJob('a', mark('a', 400)),
    nodeJob('b', mark('b', 400)),
    nodeJob('c', `${mark('c')};console.error('something broke: boom');process.exit(3)`, ['a']),
    nodeJob('d', mark('d'), ['c']),
    nodeJob('e', mark('e'), ['d']),
    nodeJob('json', `console.log(JSON.stringify({ok:true}))`, ['a'], { stdoutFile: join(out, 'out.json') }),
  ];
  const events: string[] = [];
  const r = await new Executor(jobs, { outDir: out, concurrency: 2, onEvent: (e) => events.push(`${e.type} ${e.id}`) }).run();
  assert.deepEqual(r.ran.sort(), ['a', 'b', 'json']);
  assert.deepEqual(r.failed.map((f) => [f.id, f.code]), [['c', 3]]);
  assert.ok(r.failed[0]!.tail.some((l) => l.includes('something broke: boom')), 'the failure report carries the end of the log');
  assert.deepEqual(r.blocked, ['d', 'e']);
  assert.ok(events.includes('blocked e'));
  assert.equal(r.interrupted, false);
  // a and b ran at the same time (concurrency 2).
  const t = Object.fromEntries(readFileSync(trace, 'utf8').trim().split('\n').map((l) => { const [k, id, ms] = l.split(' '); return [`${k} ${id}`, Number(ms)]; }));
  assert.ok(t['start b']! < t['end a']! && t['start a']! < t['end b']!, 'a and b overlap');
  assert.ok(!('start d' in t));
  // Done files for the successes only, with the job's arguments as the key; stdout captured to its file.
  const rec = JSON.parse(readFileSync(doneFile(out, 'a'), 'utf8')) as { job: string; key: string; seconds: number };
  assert.equal(rec.job, 'a');
  assert.equal(rec.key, JSON.stringify(['test', 'a']));
  assert.ok(rec.seconds >= 0.3);
  assert.ok(!existsSync(doneFile(out, 'c')));
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'out.json'), 'utf8')), { ok: true });
  assert.match(readFileSync(logFile(out, 'c'), 'utf8'), /exit code 3/);

  // Resume: finished jobs are skipped; the fixed job and its dependents run.
  jobs[2] = nodeJob('c', mark('c'), ['a']);
  const before = readFileSync(trace, 'utf8');
  const again = await new Executor(jobs, { outDir: out, concurrency: 1 }).run();
  assert.deepEqual(again.alreadyDone.sort(), ['a', 'b', 'json']);
  assert.deepEqual(again.ran, ['c', 'd', 'e']);
  const added = readFileSync(trace, 'utf8').slice(before.length);
  assert.ok(!/ a |start b/.test(added), 'a and b did not run again');
  // A third run has nothing to do.
  const third = await new Executor(jobs, { outDir: out, concurrency: 2 }).run();
  assert.deepEqual(third.ran, []);
  assert.equal(third.alreadyDone.length, 6);
  // Done files made with other arguments are refused rather than mixed in.
  const changed = jobs.map((j) => (j.id === 'a' ? { ...j, cli: ['test', 'a', '--other'] } : j));
  assert.throws(() => finishedJobs(changed, out), /other settings \(a\)/);
});

test('stop() terminates running jobs, writes no done file, and a failed stdout job leaves no partial file', async () => {
  const out = tmp();
  const jobs = [nodeJob('long', 'setTimeout(()=>{},30000)'), nodeJob('bad-json', `console.log('{"half":');process.exit(1)`, [], { stdoutFile: join(out, 'b.json') })];
  // Stop once the bad job has failed (however slowly its process starts on a busy machine).
  const ex: Executor = new Executor(jobs, { outDir: out, concurrency: 2, onEvent: (e) => e.type === 'failed' && e.id === 'bad-json' && ex.stop() });
  const started = Date.now();
  const running = ex.run();
  const r = await running;
  assert.ok(Date.now() - started < 10_000, 'stopped well before the job would have ended');
  assert.equal(r.interrupted, true);
  assert.equal(r.outcomes['long'], 'interrupted');
  assert.ok(!existsSync(doneFile(out, 'long')));
  assert.match(readFileSync(logFile(out, 'long'), 'utf8'), /killed by SIGTERM/);
  assert.equal(r.outcomes['bad-json'], 'failed');
  assert.ok(!existsSync(join(out, 'b.json')) && !existsSync(join(out, 'b.json.partial')));
  writeFileSync(doneFile(out, 'long'), '{torn');
  assert.equal(finishedJobs(jobs, out).size, 0, 'a torn done file means the job runs again');
});

test('--zoom predicted: SFT learns zoomed answers, Con-GRPO rolls out and every evaluation answers on the predicted region', () => {
  const out = '/tmp/medad-plan-zoom';
  const plan = buildPlan({ outDir: out, presetName: 'smoke', preset: PRESETS.smoke, zoom: 'predicted' });
  const spec = (id: string) => plan.jobs.find((j) => j.id === id)!.spec as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(spec('sft-1').hyper.zoom, 'oracle');
  assert.equal(spec('base-1').hyper.zoom, 'none', 'the base stage does not zoom');
  assert.equal(spec('con-grpo-1').hyper.zoom, 'predicted');
  assert.ok(plan.jobs.filter((j) => j.kind === 'eval').every((j) => (j.spec as { zoom?: string }).zoom === 'predicted'));
  const plain = buildPlan({ outDir: out, presetName: 'smoke', preset: PRESETS.smoke });
  assert.ok(plain.jobs.filter((j) => j.kind === 'eval').every((j) => (j.spec as { zoom?: string }).zoom === 'none'), 'default: no zoom');
});
