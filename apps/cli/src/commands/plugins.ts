import { Command, Option } from 'commander';
import { PLUGIN_KINDS, type PluginKind } from '@medad/core';
import { discoverAll } from './shared.js';
import { printTable } from '../table.js';

/** `medad plugins [--kind K] [--json]`: lists discovered plugins. */
export function registerPluginsCommand(program: Command): void {
  program
    .command('plugins')
    .description('list installed plugins (workspace packages and npm packages that declare a "medad" field)')
    .addOption(new Option('--kind <kind>', 'only plugins of this kind').choices([...PLUGIN_KINDS]))
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { kind?: PluginKind; json?: boolean }) => {
      const { registry, failures } = await discoverAll();
      const rows = registry.list(opts.kind);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ plugins: rows, failures }, null, 2) + '\n');
        return;
      }
      printTable(
        ['KIND', 'ID', 'VERSION', 'PACKAGE'],
        rows.map((p) => [p.kind, p.id, p.version, p.package]),
      );
      if (rows.length === 0) process.stdout.write(opts.kind ? `no ${opts.kind} plugins found\n` : 'no plugins found\n');
      for (const f of failures) process.stderr.write(`warning: plugin package ${f.packageName} not loaded: ${f.reason}\n`);
    });
}
