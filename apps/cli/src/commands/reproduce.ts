import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, arch, platform } from 'node:os';
import { join, relative } from 'node:path';
import { doneFile, Executor, finishedJobs, logFile, type DoneRecord } from '../reproduce/executor.js';
import { buildPlan, estimateWall, type Plan } from '../reproduce/plan.js';
import { PRESET_NAMES, PRESETS, presetRows, type PresetName } from '../reproduce/presets.js';
import { table1Rows, writeReport, type ReportMeta } from '../reproduce/report.js';
import { clock, StatusPrinter } from '../reproduce/status.js';
import { printTable } from '../table.js';
import { intList } from './shared.js';
import { ErrorCode, MedadError } from '@medad/core';
import { RedisLauncher } from '@medad/server';

function positive(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${raw}" is not a positive integer.`);
  return n;
}

/** `<out>/reproduce.json`: every invocation on this directory (for the total wall time). */
interface ReproduceState {
  invocations: Array<{ command: string; startedAt: string; seconds: number; ran: number; failed: number; interrupted: boolean }>;
}

function readState(file: string): ReproduceState {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as ReproduceState;
    if (Array.isArray(s.invocations)) return s;
  } catch {
    // first invocation, or an unreadable file: start over
  }
  return { invocations: [] };
}

function jobSeconds(plan: Plan): number {
  let sum = 0;
  for (const j of plan.jobs) {
    const f = doneFile(plan.outDir, j.id);
    if (!existsSync(f)) continue;
    try {
      sum += (JSON.parse(readFileSync(f, 'utf8')) as DoneRecord).seconds || 0;
    } catch {
      // torn file: not counted
    }
  }
  return sum;
}

/** A path under the working directory printed relative to it. */
function shortPath(a: string): string {
  const r = relative(process.cwd(), a);
  return a.startsWith('/') && r && !r.startsWith('..') ? r : a;
}

function printPlan(plan: Plan, concurrency: number): void {
  const done = finishedJobs(plan.jobs, plan.outDir);
  printTable(
    ['job', 'after', 'est.', 'state', 'command'],
    plan.jobs.map((j) => [j.id, j.deps.join(',') || '-', clock(j.estimate), done.has(j.id) ? 'done' : 'to run', `medad ${j.cli.map(shortPath).join(' ')}`]),
  );
  const todo = estimateWall(plan.jobs, concurrency, done);
  process.stdout.write(`\n${plan.jobs.length} jobs (${done.size} done); estimated wall time ${clock(todo)} with --concurrency ${concurrency} (reference: 2-core machine, tfjs-wasm)\n`);
}

/** `medad reproduce`: the paper's configurations over seeds → results.md, results.json, report.html. */
export function registerReproduceCommand(program: Command): void {
  program
    .command('reproduce')
    .description("train and evaluate the paper's configurations over seeds on the embedded benchmark; writes results.md, results.json, report.html (re-running resumes)")
    .addOption(new Option('--preset <name>', `what to run: ${PRESET_NAMES.map((n) => `${n} = ${PRESETS[n].purpose}`).join('; ')}`).choices([...PRESET_NAMES]).default('quick'))
    .requiredOption('--out <dir>', 'output directory: data/, runs/, evals/, logs/, jobs/, results.*, report.html')
    .option('--concurrency <n>', 'jobs run at the same time (a training job uses one core)', positive, 2)
    .option('--seeds <list>', "training seeds, e.g. 1,2,3 (default: the preset's)", intList)
    .option('--dry-run', 'print the jobs, their commands and the time estimate; run nothing')
    .addOption(new Option('--zoom <mode>', "coarse-to-fine (MedReason-R1) for every configuration: predicted = SFT also learns answers on lesion-zoomed images, Con-GRPO rolls out and every evaluation answers on the region the model predicts; use its own --out").choices(['none', 'predicted']).default('none'))
    .addOption(new Option('--queue <where>', 'where jobs run: local child processes, or `medad worker`s through the Redis queue (REDIS_URL; the workers must see --out at the same path)').choices(['local', 'redis']).default('local'))
    .action(async (o: { preset: PresetName; out: string; concurrency: number; seeds?: number[]; dryRun?: boolean; queue: 'local' | 'redis'; zoom: 'none' | 'predicted' }) => {
      const preset = PRESETS[o.preset];
      const plan = buildPlan({ outDir: o.out, presetName: o.preset, preset, seeds: o.seeds, zoom: o.zoom, trainThreads: Math.max(1, Math.floor(availableParallelism() / o.concurrency)) });
      const command = `medad reproduce --preset ${o.preset} --out ${o.out}${o.concurrency !== 2 ? ` --concurrency ${o.concurrency}` : ''}${o.seeds ? ` --seeds ${plan.seeds.join(',')}` : ''}${o.zoom !== 'none' ? ` --zoom ${o.zoom}` : ''}`;
      if (o.dryRun) {
        printPlan(plan, o.concurrency);
        return;
      }
      mkdirSync(plan.outDir, { recursive: true });
      const stateFile = join(plan.outDir, 'reproduce.json');
      const state = readState(stateFile);
      const startedAt = new Date();
      // This invocation is recorded now and after every job, so one the machine kills outright
      // still counts its wall time up to its last finished job.
      const entry: ReproduceState['invocations'][number] = { command, startedAt: startedAt.toISOString(), seconds: 0, ran: 0, failed: 0, interrupted: true };
      state.invocations.push(entry);
      const saveState = (): void => {
        entry.seconds = (Date.now() - startedAt.getTime()) / 1000;
        writeFileSync(`${stateFile}.tmp`, JSON.stringify(state, null, 2) + '\n');
        renameSync(`${stateFile}.tmp`, stateFile);
      };
      saveState();
      const done = finishedJobs(plan.jobs, plan.outDir);
      process.stderr.write(
        `medad reproduce: preset ${o.preset}, seeds ${plan.seeds.join(',')}, ${plan.jobs.length} jobs (${done.size} already done), ` +
          `estimated ${clock(estimateWall(plan.jobs, o.concurrency, done))} with --concurrency ${o.concurrency}; logs in ${join(plan.outDir, 'logs')}\n`,
      );
      let launcher: RedisLauncher | undefined;
      if (o.queue === 'redis') {
        if (!process.env.REDIS_URL) throw new MedadError(ErrorCode.BadUserInput, '--queue redis needs REDIS_URL', { fix: 'set REDIS_URL=redis://HOST:6379 (the same as the `medad worker`s use)' });
        launcher = await RedisLauncher.connect(process.env.REDIS_URL);
      }
      // The printer reads the executor's status lazily, once both exist.
      const printer: StatusPrinter = new StatusPrinter(() => executor.status());
      const executor = new Executor(plan.jobs, {
        outDir: plan.outDir,
        concurrency: o.concurrency,
        launcher,
        onEvent: (e) => {
          if (e.type === 'done') {
            printer.note(`done    ${e.id} (${clock(e.seconds ?? NaN)})`);
            entry.ran++;
            saveState();
          } else if (e.type === 'failed') {
            printer.note(`FAILED  ${e.id} after ${clock(e.seconds ?? NaN)}: see ${logFile(plan.outDir, e.id)}`);
            entry.failed++;
            saveState();
          }
          else if (e.type === 'blocked') printer.note(`skipped ${e.id} (a job it needs failed)`);
        },
      });
      const onSignal = (sig: NodeJS.Signals): void => {
        printer.note(`${sig}: stopping the running jobs (re-run the same command to resume)`);
        executor.stop();
      };
      const onExit = (): void => executor.killAll();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.on('exit', onExit);
      printer.start();
      let result;
      try {
        result = await executor.run();
      } finally {
        await launcher?.close();
        printer.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.off('exit', onExit);
      }
      Object.assign(entry, { ran: result.ran.length, failed: result.failed.length, interrupted: result.interrupted });
      saveState();
      const seconds = entry.seconds;
      if (result.interrupted) {
        process.stderr.write(`interrupted after ${clock(seconds)}; ${result.ran.length} jobs finished in this invocation. Re-run the same command to resume.\n`);
        process.exitCode = 130;
        return;
      }
      const cpu = cpus();
      const meta: ReportMeta = {
        command,
        preset: o.preset,
        presetRows: presetRows(PRESETS, o.preset),
        settings: { ...preset, seeds: plan.seeds, concurrency: o.concurrency, zoom: o.zoom },
        machine: { cpus: cpu.length, cpuModel: cpu[0]?.model.trim() ?? 'unknown', node: process.version, platform: `${platform()} ${arch()}` },
        wallSeconds: state.invocations.reduce((a, i) => a + i.seconds, 0),
        invocations: state.invocations.length,
        jobSeconds: jobSeconds(plan),
        generatedAt: new Date().toISOString(),
      };
      const { results, files } = writeReport({ outDir: plan.outDir, dataDir: plan.dataDir, methods: plan.methods }, meta);
      const rows = table1Rows(results);
      process.stdout.write('\n');
      printTable(rows[0]!, rows.slice(1));
      process.stdout.write(`\n${result.ran.length} jobs run, ${result.alreadyDone.length} already done, ${result.failed.length} failed, ${result.blocked.length} skipped; ${clock(seconds)} this invocation\n`);
      for (const f of files) process.stdout.write(`wrote ${f}\n`);
      if (result.failed.length) {
        for (const f of result.failed) {
          process.stderr.write(`\nFAILED ${f.id} (${f.signal ? `signal ${f.signal}` : `exit code ${f.code}`}); last lines of ${f.log}:\n${f.tail.map((l) => `  ${l}`).join('\n')}\n`);
        }
        if (result.blocked.length) process.stderr.write(`\nskipped because a job they need failed: ${result.blocked.join(', ')}\n`);
        process.stderr.write('\nresults above cover the jobs that finished; fix the cause and re-run the same command to run the rest.\n');
        process.exitCode = 1;
      }
    });
}
