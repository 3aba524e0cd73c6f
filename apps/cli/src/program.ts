import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerCompareCommand } from './commands/compare.js';
import { registerDataCommands } from './commands/data.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerPluginsCommand } from './commands/plugins.js';
import { registerReproduceCommand } from './commands/reproduce.js';
import { registerServeCommand } from './commands/serve.js';
import { registerRunCommands } from './commands/run.js';
import { registerTrainCommands } from './commands/train.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Builds the `medad` command tree. */
export function createProgram(): Command {
  const program = new Command('medad')
    .description('MedAD-R1: build the medical VQA benchmark, train (SFT, Con-GRPO), evaluate, serve')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true });
  registerPluginsCommand(program);
  registerTrainCommands(program);
  registerEvalCommand(program);
  registerCompareCommand(program);
  registerDataCommands(program);
  registerDemoCommand(program);
  registerServeCommand(program);
  registerReproduceCommand(program);
  registerRunCommands(program);
  return program;
}
