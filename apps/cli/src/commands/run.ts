import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, MedadError, RUN_SPEC_KINDS, parseRunSpec, runSpecJsonSchema, type RunSpecKind } from '@medad/core';
import { runSpecNow } from './train.js';

/** Reads and validates a spec file (errors name the file and each bad field). */
export function readSpecFile(file: string): ReturnType<typeof parseRunSpec> {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MedadError(ErrorCode.NotFound, `Cannot read spec file ${path}`, { cause: err, fix: 'pass a JSON file written by `medad train … --print-spec` or a run directory\'s spec.json' });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new MedadError(ErrorCode.BadUserInput, `${path} is not JSON: ${(err as Error).message}`, { fix: 'write the spec as one JSON object (see `medad spec --kind K`)' });
  }
  return parseRunSpec(raw, path);
}

/** `medad run SPEC.json` and `medad spec --kind K`. */
export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run any run spec (dataset, sft, con-grpo, eval, judge); writes the resolved spec into its output directory as spec.json')
    .argument('<spec>', 'spec JSON file (e.g. from `medad train sft … --print-spec`, or a run directory\'s spec.json)')
    .option('--run-id <id>', 'id reported in events (set by the control plane)')
    .option('--json', 'print the outcome as JSON')
    .action(async (file: string, o: { runId?: string; json?: boolean }) => {
      const spec = readSpecFile(file);
      const outcome = await runSpecNow(spec, o.runId, Boolean(o.json));
      if (o.json) process.stdout.write(JSON.stringify(outcome.kind === 'judge' ? { kind: 'judge', file: outcome.result.file, report: outcome.result.report } : outcome, null, 2) + '\n');
    });
  program
    .command('spec')
    .description("print a run kind's spec: its JSON Schema, or its defaults filled in")
    .addOption(new Option('--kind <kind>', 'run kind').choices(RUN_SPEC_KINDS).makeOptionMandatory())
    .option('--defaults', 'print a spec with every default filled in (paths as placeholders) instead of the schema')
    .action((o: { kind: RunSpecKind; defaults?: boolean }) => {
      if (!o.defaults) {
        process.stdout.write(JSON.stringify(runSpecJsonSchema(o.kind), null, 2) + '\n');
        return;
      }
      const required: Record<string, unknown> = { kind: o.kind, out: 'OUT' };
      if (o.kind !== 'dataset') required.data = 'DATA';
      process.stdout.write(JSON.stringify(parseRunSpec(required, `${o.kind} defaults`), null, 2) + '\n');
    });
}
