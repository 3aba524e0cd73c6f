import { Command, InvalidArgumentError } from 'commander';

// The server stack (Apollo, PGlite, BullMQ...) is imported only when these commands run, so the
// other `medad` commands — including every run's child process — start fast.
const server = (): Promise<typeof import('@medad/server')> => import('@medad/server');

function int(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got "${raw}"`);
    return n;
  };
}

interface ServeFlags {
  port?: number;
  host?: string;
  dataDir?: string;
  concurrency?: number;
  demo?: boolean;
  demoSamples?: number;
  demoSftSteps?: number;
  demoGrpoSteps?: number;
}

/** `medad serve` (the GraphQL control plane) and `medad worker` (runs jobs from the Redis queue). */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the GraphQL control plane (/graphql over HTTP and websocket, /healthz, the dashboard at /, an OpenAI-compatible /v1 over MEDAD_SERVE_MODELS)')
    .option('--port <port>', 'port to listen on (0 = any free port; env MEDAD_PORT, default 4000)', int('--port', 0, 65535))
    .option('--host <host>', 'address to listen on (env MEDAD_HOST, default 127.0.0.1; beyond loopback API tokens are required)')
    .option('--data-dir <dir>', 'embedded database, runs and datasets (env MEDAD_DATA_DIR, default <project>/.medad)')
    .option('--concurrency <n>', 'runs executing at once (env MEDAD_CONCURRENCY, default 1)', int('--concurrency', 1, 64))
    .option('--demo', 'on an empty database, queue the demo pipeline: build the benchmark → SFT → Con-GRPO → evaluation')
    .option('--demo-samples <n>', 'benchmark size of the demo', int('--demo-samples', 10, 1_000_000))
    .option('--demo-sft-steps <n>', 'SFT steps of the demo', int('--demo-sft-steps', 1, 1_000_000))
    .option('--demo-grpo-steps <n>', 'Con-GRPO steps of the demo', int('--demo-grpo-steps', 1, 1_000_000))
    .addHelpText(
      'after',
      '\nEnvironment: DATABASE_URL (PostgreSQL instead of the embedded PGlite), REDIS_URL (queue runs to `medad worker`s),\n' +
        'MEDAD_API_TOKENS=token:role,... or MEDAD_API_TOKENS_FILE (roles viewer, operator), MEDAD_DATASET_ROOTS and\n' +
        'MEDAD_CHECKPOINT_ROOTS (extra allowed path roots), MEDAD_SERVE_MODELS=name=checkpoint,... (served at /v1/chat/completions),\n' +
        'MEDAD_LOG_LEVEL (debug|info|warn|error).',
    )
    .action(async (f: ServeFlags) => {
      const demo = f.demo ? { samples: f.demoSamples, sftSteps: f.demoSftSteps, grpoSteps: f.demoGrpoSteps } : false;
      await (await server()).serve({ port: f.port, host: f.host, dataDir: f.dataDir, concurrency: f.concurrency, demo });
    });

  program
    .command('worker')
    .description('run queued runs from Redis (REDIS_URL) as child processes and stream their events back to the server')
    .option('--concurrency <n>', 'runs executing at once on this worker (default 1)', int('--concurrency', 1, 64))
    .option('--name <name>', 'worker name shown in run.worker (default worker:<hostname>:<pid>)')
    .action(async (f: { concurrency?: number; name?: string }) => {
      await (await server()).runWorker({ concurrency: f.concurrency, name: f.name });
    });
}
