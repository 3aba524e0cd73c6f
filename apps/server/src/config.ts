import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, MedadError, findProjectRoot } from '@medad/core';
import { tokensFromEnv, type Role } from './http/auth.js';

/** Request limits enforced at the HTTP and GraphQL edges. */
export interface RequestLimits {
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** Deepest selection nesting accepted. */
  maxDepth: number;
  /** Largest estimated cost (fields × list sizes) accepted. */
  maxCost: number;
}

/** Everything the control plane is configured with. */
export interface ServerConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Holds the embedded database (`db/`), runs (`runs/<id>/`) and built datasets (`datasets/<name>/`). */
  dataDir: string;
  /** PostgreSQL connection string; the embedded PGlite is used when absent. */
  databaseUrl?: string;
  /** Redis connection string; runs go through BullMQ to `medad worker` processes when set. */
  redisUrl?: string;
  /** Runs executing at once (local child processes). */
  concurrency: number;
  tokens: Map<string, Role>;
  /** Dataset paths given in inputs must be inside one of these. */
  datasetRoots: string[];
  /** Checkpoint paths given in inputs must be inside one of these. */
  checkpointRoots: string[];
  /**
   * Hosts (`host` or `host:port`) that URLs in plugin configs may point at (the openai judge and
   * backbone); `MEDAD_ALLOWED_HOSTS`, comma-separated. Default: loopback only.
   */
  allowedHosts: string[];
  /** Environment variables that plugin configs may name as their API key (`apiKeyEnv`); `MEDAD_ALLOWED_KEY_ENVS`. Default: OPENAI_API_KEY. */
  allowedKeyEnvs: string[];
  /** Browser origins besides the server's own allowed to call the API (`MEDAD_ALLOWED_ORIGINS`, comma-separated, e.g. `http://localhost:5173`). */
  allowedOrigins: string[];
  /** Per-caller requests per minute (0 = no limit): GraphQL mutations (`MEDAD_RATE_LIMIT_MUTATIONS`, default 120) and `/v1` chat completions (`MEDAD_RATE_LIMIT_V1`, default 600). */
  rateLimits: { mutationsPerMinute: number; v1PerMinute: number };
  /**
   * Models the OpenAI-compatible endpoint (`/v1/chat/completions`) serves by name: name → checkpoint
   * or run directory, confined to {@link checkpointRoots} (relative paths are under the first root).
   * Training runs with a checkpoint are served by run id as well. `MEDAD_SERVE_MODELS=name=path,name2=path2`.
   */
  serveModels: Record<string, string>;
  /** The CLI script forked for each run (apps/cli/bin/medad.js unless MEDAD_RUN_CLI overrides it, e.g. a wrapper). */
  runCli: string;
  /** Working directory of run processes. */
  projectRoot: string;
  /** Extra modules whose exported plugin definitions are registered (MEDAD_PLUGIN_MODULES, path-separated). */
  pluginModules: string[];
  /** Static dashboard files served at `/` (none when undefined). */
  dashboardDir?: string;
  limits: RequestLimits;
  /** SIGTERM → SIGKILL grace for cancelled runs and at shutdown (ms; MEDAD_KILL_GRACE_MS, default 5000). */
  killGraceMs: number;
  /**
   * After the grace, how long cancelRun waits for the run's process to confirm it stopped before it
   * records the cancel anyway — a remote worker that is gone never answers (ms; MEDAD_CANCEL_TIMEOUT_MS, default 15000).
   */
  cancelTimeoutMs: number;
  /** How long shutdown waits for open HTTP requests (ms). */
  drainMs: number;
  /**
   * How long a GraphQL query's answer may be served again to the same role and request text
   * without executing it, as long as no database write finished since (ms; MEDAD_RESPONSE_CACHE_MS,
   * default 1000; 0 executes every query).
   */
  responseCacheMs: number;
  /** How often this replica refreshes its runs' heartbeat and takes over runs of replicas that died (MEDAD_HEARTBEAT_MS, default 5000). */
  heartbeatMs: number;
  /** A run whose owner's heartbeat is older than this is taken over (MEDAD_STALE_MS, default 30000; above 2 × heartbeatMs). */
  staleMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

/** Settings a caller (CLI flags, tests) may override; the rest comes from the environment. */
export type ServerConfigInput = Partial<Omit<ServerConfig, 'limits'>> & { limits?: Partial<RequestLimits> };

const DEFAULT_LIMITS: RequestLimits = { maxBodyBytes: 1_000_000, maxDepth: 12, maxCost: 50_000 };

export function intSetting(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new MedadError(ErrorCode.BadUserInput, `${name}=${raw} is not an integer in [${min}, ${max}]`, { fix: `set ${name} to an integer between ${min} and ${max}` });
  }
  return n;
}

const list = (raw: string | undefined): string[] => (raw ? raw.split(delimiter).map((s) => s.trim()).filter(Boolean).map((p) => resolve(p)) : []);

/** Served model names: what `/v1/models` lists and `model` in a chat request selects. */
export const SERVE_MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Parses `name=path,name2=path2` (MEDAD_SERVE_MODELS) into name → path (paths are confined later, at startup). */
export function parseServeModels(raw: string | undefined, source = 'MEDAD_SERVE_MODELS'): Record<string, string> {
  const models: Record<string, string> = {};
  const entries = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const [i, entry] of entries.entries()) {
    const at = entry.indexOf('=');
    const name = at > 0 ? entry.slice(0, at).trim() : '';
    const path = at > 0 ? entry.slice(at + 1).trim() : '';
    if (!SERVE_MODEL_NAME.test(name) || !path) {
      throw new MedadError(ErrorCode.BadUserInput, `${source} entry ${i + 1} ("${entry}") is not name=path with a name of letters, digits, '.', '_', ':' or '-'`, {
        fix: `write entries as name=<checkpoint or run directory>, separated by commas, e.g. ${source}=medad-sft=runs/sft-20250101-000000-abc123`,
      });
    }
    if (Object.hasOwn(models, name)) {
      throw new MedadError(ErrorCode.BadUserInput, `${source} names the model "${name}" twice`, { fix: 'give each served model a distinct name' });
    }
    models[name] = path;
  }
  return models;
}

/** The default dashboard build (apps/dashboard/dist, made by `npm run build`), when present. */
function defaultDashboardDir(projectRoot: string): string | undefined {
  const dir = join(projectRoot, 'apps', 'dashboard', 'dist');
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}

/** Resolves the server config from overrides and the environment (MEDAD_*, DATABASE_URL, REDIS_URL). */
export function resolveConfig(input: ServerConfigInput = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const projectRoot = input.projectRoot ?? findProjectRoot(here);
  const dataDir = resolve(input.dataDir ?? env.MEDAD_DATA_DIR ?? join(projectRoot, '.medad'));
  const port = intSetting(input.port !== undefined ? 'port' : 'MEDAD_PORT', input.port !== undefined ? String(input.port) : env.MEDAD_PORT, 4000, 0, 65535);
  const concurrency = intSetting(input.concurrency !== undefined ? 'concurrency' : 'MEDAD_CONCURRENCY', input.concurrency !== undefined ? String(input.concurrency) : env.MEDAD_CONCURRENCY, 1, 1, 64);
  return {
    host: input.host ?? env.MEDAD_HOST ?? '127.0.0.1',
    port,
    dataDir,
    databaseUrl: input.databaseUrl ?? (env.DATABASE_URL || undefined),
    redisUrl: input.redisUrl ?? (env.REDIS_URL || undefined),
    concurrency,
    tokens: input.tokens ?? tokensFromEnv(env),
    datasetRoots: input.datasetRoots ?? [join(dataDir, 'datasets'), ...list(env.MEDAD_DATASET_ROOTS)],
    checkpointRoots: input.checkpointRoots ?? [join(dataDir, 'runs'), ...list(env.MEDAD_CHECKPOINT_ROOTS)],
    allowedHosts: input.allowedHosts ?? (env.MEDAD_ALLOWED_HOSTS ? env.MEDAD_ALLOWED_HOSTS.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean) : ['127.0.0.1', 'localhost', '[::1]']),
    rateLimits: input.rateLimits ?? {
      mutationsPerMinute: intSetting('MEDAD_RATE_LIMIT_MUTATIONS', env.MEDAD_RATE_LIMIT_MUTATIONS, 120, 0, 1_000_000),
      v1PerMinute: intSetting('MEDAD_RATE_LIMIT_V1', env.MEDAD_RATE_LIMIT_V1, 600, 0, 1_000_000),
    },
    allowedOrigins: input.allowedOrigins ?? (env.MEDAD_ALLOWED_ORIGINS ?? '').split(',').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean),
    allowedKeyEnvs: input.allowedKeyEnvs ?? (env.MEDAD_ALLOWED_KEY_ENVS ? env.MEDAD_ALLOWED_KEY_ENVS.split(',').map((h) => h.trim()).filter(Boolean) : ['OPENAI_API_KEY']),
    serveModels: input.serveModels ?? parseServeModels(env.MEDAD_SERVE_MODELS),
    runCli: resolve(input.runCli ?? env.MEDAD_RUN_CLI ?? join(projectRoot, 'apps', 'cli', 'bin', 'medad.js')),
    projectRoot,
    pluginModules: input.pluginModules ?? list(env.MEDAD_PLUGIN_MODULES),
    dashboardDir: input.dashboardDir ?? defaultDashboardDir(projectRoot),
    limits: {
      ...DEFAULT_LIMITS,
      maxBodyBytes: intSetting('MEDAD_MAX_BODY_BYTES', env.MEDAD_MAX_BODY_BYTES, DEFAULT_LIMITS.maxBodyBytes, 1024, 100_000_000),
      ...input.limits,
    },
    killGraceMs: input.killGraceMs ?? intSetting('MEDAD_KILL_GRACE_MS', env.MEDAD_KILL_GRACE_MS, 5000, 0, 600_000),
    cancelTimeoutMs: input.cancelTimeoutMs ?? intSetting('MEDAD_CANCEL_TIMEOUT_MS', env.MEDAD_CANCEL_TIMEOUT_MS, 15_000, 100, 3_600_000),
    drainMs: input.drainMs ?? 10_000,
    responseCacheMs: input.responseCacheMs ?? intSetting('MEDAD_RESPONSE_CACHE_MS', env.MEDAD_RESPONSE_CACHE_MS, 1000, 0, 60_000),
    heartbeatMs: input.heartbeatMs ?? intSetting('MEDAD_HEARTBEAT_MS', env.MEDAD_HEARTBEAT_MS, 5000, 100, 600_000),
    staleMs: input.staleMs ?? intSetting('MEDAD_STALE_MS', env.MEDAD_STALE_MS, 30_000, 500, 3_600_000),
    logLevel: input.logLevel ?? ((env.MEDAD_LOG_LEVEL as ServerConfig['logLevel'] | undefined) ?? 'info'),
  };
}
