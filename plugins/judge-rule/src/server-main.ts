#!/usr/bin/env node
// Starts the reference judge endpoint: `node dist/server-main.js --port 8011`.
// Prints "listening <port>" on stdout once it accepts requests (tests read it to find port 0).
import { startRuleJudgeServer, type RuleJudgeServerOptions } from './server.js';

const USAGE = 'usage: node server-main.js [--host 127.0.0.1] [--port 0] [--fail-first N] [--delay-ms N] [--api-key-env NAME] [--conclusion strip|keep]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function integer(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0) fail(`${flag} needs a non-negative integer, got "${value ?? ''}"`);
  return n;
}

/** Reads the flags in USAGE into server options. */
function parseServerArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): RuleJudgeServerOptions {
  const options: RuleJudgeServerOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    i++;
    switch (flag) {
      case '--host':
        if (!value) fail('--host needs a value');
        options.host = value;
        break;
      case '--port':
        options.port = integer(flag, value);
        break;
      case '--fail-first':
        options.failFirst = integer(flag, value);
        break;
      case '--delay-ms':
        options.delayMs = integer(flag, value);
        break;
      case '--api-key-env': {
        const key = value ? env[value] : undefined;
        if (!key) fail(`--api-key-env ${value ?? ''}: that environment variable is not set`);
        options.apiKey = key;
        break;
      }
      case '--conclusion':
        if (value !== 'strip' && value !== 'keep') fail(`--conclusion must be strip or keep, got "${value ?? ''}"`);
        options.judge = { ...options.judge, conclusion: value };
        break;
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        fail(`unknown flag "${flag}"`);
    }
  }
  return options;
}

const server = await startRuleJudgeServer(parseServerArgs(process.argv.slice(2)));
process.stdout.write(`listening ${server.port}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().finally(() => process.exit(0));
  });
}
