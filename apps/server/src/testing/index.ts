import { fileURLToPath } from 'node:url';

export { freshDataDir, freshPgliteDir } from './pglite.js';
export { freePort, postgresBinDir, startPostgres, type TestPostgres } from './postgres.js';
export { opensslPath, startRedis, redisServerPath, type TestRedis } from './redis.js';

/** Absolute path of the TEST FIXTURE CLI that honours the child-command contract (for `MEDAD_RUN_CLI`). */
export const FIXTURE_CLI = fileURLToPath(new URL('./fixture-cli.js', import.meta.url));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 20_000, everyMs = 25): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})`);
}
export { gql, wsClient, type GqlResponse } from './client.js';
export { fixtureBackbone, testRegistry } from './test-plugins.js';
