import { errorMessage } from '@medad/core';
import { startControlPlane, type ControlPlane } from './app.js';
import type { ServerConfigInput } from './config.js';
import { queueDemoPipeline, type DemoOptions } from './demo.js';

/** Options of `medad serve`. */
export interface ServeOptions extends ServerConfigInput {
  /** Queue the demo pipeline when the database is empty. */
  demo?: boolean | DemoOptions;
  /** Where the banner goes (stdout by default). */
  out?: NodeJS.WritableStream;
  /** Install SIGINT/SIGTERM handlers that shut down gracefully and exit. Default true. */
  handleSignals?: boolean;
}

const EXAMPLE_QUERY = `{ runs(first: 5) { edges { node { id kind status metrics(downsample: 3) { step values } } } } }`;

/**
 * Starts the control plane, optionally queues the demo pipeline, and prints the GraphQL URL,
 * the dashboard URL and an example query; SIGINT/SIGTERM shut it down gracefully.
 */
export async function serve(o: ServeOptions = {}): Promise<ControlPlane> {
  const out = o.out ?? process.stdout;
  const cp = await startControlPlane(o);
  const lines = [`medad control plane: GraphQL at ${cp.url} (HTTP and websocket), health at ${cp.url.replace('/graphql', '/healthz')}`];
  if (cp.config.dashboardDir) lines.push(`dashboard: ${cp.url.replace('/graphql', '/')}`);
  lines.push(`database: ${cp.store.dialect === 'pglite' ? `embedded (PGlite) in ${cp.config.dataDir}/db` : 'PostgreSQL (DATABASE_URL)'}; runs in ${cp.config.dataDir}/runs`);
  if (o.demo) {
    const queued = await queueDemoPipeline(cp.store, cp.runs, typeof o.demo === 'object' ? o.demo : {});
    lines.push(
      queued.length
        ? `demo pipeline queued: ${queued.map((r) => `${r.kind} ${r.id}`).join(' → ')}`
        : 'demo pipeline not queued: the database already holds runs',
    );
  }
  const auth = cp.config.tokens.size ? ` -H 'authorization: Bearer <token>'` : '';
  lines.push(`example: curl -s ${cp.url} -H 'content-type: application/json'${auth} -d '${JSON.stringify({ query: EXAMPLE_QUERY })}'`);
  out.write(lines.join('\n') + '\n');
  if (o.handleSignals !== false) {
    const stop = (signal: string): void => {
      cp.logger.info('signal received', { signal });
      cp.close().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`medad serve: shutdown failed: ${errorMessage(err)}\n`);
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  return cp;
}
