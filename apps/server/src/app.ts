import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { ErrorCode, MedadError, PluginRegistry, discoverPlugins, errorMessage, isPluginDefinition, type Logger } from '@medad/core';
import { DatasetService } from './catalog/dataset.service.js';
import { resolveConfig, type ServerConfig, type ServerConfigInput } from './config.js';
import { EventBus } from './execution/event-bus.js';
import { Executor } from './execution/executor.js';
import { LocalLauncher, type Launcher } from './execution/launcher.js';
import { RedisLauncher } from './execution/redis.js';
import { sampleImageFile } from './runs/predictions.js';
import type { GraphQLContext } from './graphql/context.js';
import { formatError, toGraphQLError } from './graphql/errors.js';
import { queryLimitsRule } from './graphql/limits.js';
import { GraphQLError, validate } from 'graphql';
import { RateLimiter, rateLimitMessage } from './http/rate-limit.js';
import { buildControlPlaneSchema } from './graphql/schema.js';
import { StoreToken } from './graphql/tokens.js';
import { TokenAuth, assertOperationAllowed, type Principal } from './http/auth.js';
import { createHttpHandler } from './http/http-handler.js';
import { ResponseCache } from './http/response-cache.js';
import { ORIGIN_FIX, originProblem, type OriginPolicy } from './http/origin.js';
import { OpenAiEndpoint, resolveServedModels } from './http/openai.js';
import { attachWebSocket, type WebSocketEndpoint } from './http/websocket.js';
import { createLogger } from './logger.js';
import { RunService } from './runs/run.service.js';
import { MetricWriter } from './store/metric-writer.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';

/** Optional collaborators (tests inject a registry or a launcher; `medad serve` uses the defaults). */
export interface ControlPlaneDeps {
  registry?: PluginRegistry;
  launcher?: Launcher;
  logger?: Logger;
}

/** A running control plane. */
export interface ControlPlane {
  config: ServerConfig;
  /** `http://host:port/graphql`. */
  url: string;
  port: number;
  store: Store;
  executor: Executor;
  bus: EventBus;
  runs: RunService;
  /** The OpenAI-compatible routes under `/v1/` (served models, loaded backbones). */
  openai: OpenAiEndpoint;
  logger: Logger;
  /** Graceful shutdown: stop accepting, close websockets, drain HTTP, interrupt runs, flush metrics, close the store. */
  close(): Promise<void>;
}

function drain(server: Server, inflight: { n: number }, ms: number): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    const deadline = Date.now() + ms;
    const tick = setInterval(() => {
      server.closeIdleConnections();
      if (inflight.n === 0 || Date.now() > deadline) {
        clearInterval(tick);
        server.closeAllConnections();
      }
    }, 25);
  });
}

/** Starts the control plane: store, executor, GraphQL over HTTP and websocket, on one HTTP server. */
export async function startControlPlane(input: ServerConfigInput = {}, deps: ControlPlaneDeps = {}): Promise<ControlPlane> {
  const config = resolveConfig(input);
  const logger = deps.logger ?? createLogger(config.logLevel);
  const auth = TokenAuth.forHost(config.host, config.tokens);
  const servedModels = resolveServedModels(config.serveModels, config.checkpointRoots);
  mkdirSync(config.dataDir, { recursive: true });
  for (const root of config.datasetRoots.slice(0, 1)) mkdirSync(root, { recursive: true });

  const registry = deps.registry ?? (await loadRegistry(config.projectRoot, config.pluginModules, logger));
  const responses = new ResponseCache(config.responseCacheMs);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, onWrite: () => responses.invalidate() });
  const writer = new MetricWriter(store, { logger });
  const bus = new EventBus();
  const launcher: Launcher =
    deps.launcher ??
    (config.redisUrl
      ? await RedisLauncher.connect(config.redisUrl, (row) => bus.deliver('metrics', row.runId, row), logger)
      : new LocalLauncher(config.concurrency));
  const executor = new Executor({ store, writer, bus, launcher, cli: config.runCli, cwd: config.projectRoot, killGraceMs: config.killGraceMs, cancelTimeoutMs: config.cancelTimeoutMs, heartbeatMs: config.heartbeatMs, staleMs: config.staleMs, logger });
  const datasets = new DatasetService(store, config.datasetRoots);
  const runs = new RunService(store, executor, registry, datasets, config);

  const di: DependencyContainer = rootContainer.createChildContainer();
  di.registerInstance(StoreToken, store);
  di.registerInstance(EventBus, bus);
  di.registerInstance(MetricWriter, writer);
  di.registerInstance(PluginRegistry, registry);
  di.registerInstance(DatasetService, datasets);
  di.registerInstance(RunService, runs);
  const context = (principal: Principal): GraphQLContext => ({ principal, container: di.createChildContainer() });

  const schema = await buildControlPlaneSchema();
  const mutationLimiter = new RateLimiter(config.rateLimits.mutationsPerMinute);
  const limitMutation = (principal: Principal): GraphQLError | undefined => {
    const retryAfter = mutationLimiter.take(principal.caller ?? 'anonymous');
    if (retryAfter === undefined) return undefined;
    logger.warn('mutation rate-limited', { caller: principal.caller, retryAfter });
    return new GraphQLError(rateLimitMessage('mutations', config.rateLimits.mutationsPerMinute, retryAfter), {
      extensions: { code: 'RATE_LIMITED', retryAfter, http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfter)]]) } },
    });
  };
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    formatError: formatError(logger),
    includeStacktraceInErrorResponses: Boolean(process.env.MEDAD_DEBUG),
    validationRules: [queryLimitsRule(config.limits.maxDepth, config.limits.maxCost)],
    introspection: true,
    // Shutdown is ours (drain, interrupt runs, flush metrics); Apollo's handler would re-raise the signal mid-way.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      {
        async requestDidStart() {
          return {
            async didResolveOperation({ operation, contextValue, operationName, document, request }) {
              if (!operation) return;
              // The depth and cost limits again, now that the variables are known (validation ran without them).
              const over = validate(schema, document, [queryLimitsRule(config.limits.maxDepth, config.limits.maxCost, request.variables ?? {})]);
              if (over.length) throw withStatus(over[0]!, 400);
              try {
                assertOperationAllowed(contextValue.principal, operation.operation);
              } catch (err) {
                throw err instanceof MedadError ? withStatus(toGraphQLError(err), 403) : err;
              }
              if (operation.operation === 'mutation') {
                const limited = limitMutation(contextValue.principal);
                if (limited) throw limited;
                logger.info('mutation', { operationName, role: contextValue.principal.role });
              }
              if (contextValue.answer) contextValue.answer.cacheable = contextValue.answer.cacheable !== false && operation.operation === 'query';
            },
            async willSendResponse({ response, contextValue }) {
              if (contextValue.answer && (response.body.kind !== 'single' || response.body.singleResult.errors?.length)) contextValue.answer.cacheable = false;
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  const inflight = { n: 0 };
  const handler = createHttpHandler({
    apollo,
    auth,
    responses,
    maxBodyBytes: config.limits.maxBodyBytes,
    context,
    dashboardDir: config.dashboardDir,
    sampleImage: async (runId, sampleId) => {
      const run = await store.getRun(runId);
      return run ? sampleImageFile(run.dir, sampleId, config.datasetRoots) : undefined;
    },
    logger,
    health: async () => ({
      ok: await store.ping(),
      database: store.dialect,
      activeRuns: executor.activeRunIds.length,
      subscriptions: bus.listenerCount(),
    }),
  });
  const openai = new OpenAiEndpoint({ registry, store, auth, rateLimit: new RateLimiter(config.rateLimits.v1PerMinute), models: servedModels, checkpointRoots: config.checkpointRoots, maxBodyBytes: config.limits.maxBodyBytes, logger });
  const origins: OriginPolicy = { host: config.host, port: () => (server.address() as AddressInfo | null)?.port ?? config.port, allowedOrigins: config.allowedOrigins, authOff: !auth.required };
  const server = createServer((req, res) => {
    inflight.n++;
    res.once('close', () => inflight.n--);
    const refused = originProblem(req, origins);
    if (refused) {
      logger.warn('request refused: origin', { reason: refused, path: req.url });
      const v1 = req.url?.startsWith('/v1/');
      const body = JSON.stringify(
        v1
          ? { error: { message: `${refused}. Fix: ${ORIGIN_FIX}`, type: 'invalid_request_error', param: null, code: 'origin_not_allowed' } }
          : { errors: [{ message: refused, extensions: { code: 'FORBIDDEN', fix: ORIGIN_FIX } }] },
      );
      res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (req.url?.startsWith('/v1/')) void openai.handle(req, res, new URL(req.url, 'http://localhost'));
    else handler(req, res);
  });
  server.requestTimeout = 60_000;
  const ws: WebSocketEndpoint = attachWebSocket(server, { schema, auth, context, limits: config.limits, logger, refuse: (req) => originProblem(req, origins), limitMutation });

  await executor.start();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}/graphql`;
  logger.info('control plane listening', { url, dashboard: url.replace(/graphql$/, ''), openai: url.replace(/graphql$/, 'v1'), database: store.dialect, queue: config.redisUrl ? 'redis' : 'local', dataDir: config.dataDir, auth: auth.required ? 'tokens' : 'off (loopback)', concurrency: config.concurrency });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      logger.info('shutting down');
      await ws.close().catch((err: unknown) => logger.warn('websocket close failed', { error: errorMessage(err) }));
      bus.closeAll();
      await Promise.all([drain(server, inflight, config.drainMs), executor.shutdown()]);
      await openai.close();
      await writer.close();
      await launcher.close?.();
      await apollo.stop();
      await store.close();
      logger.info('stopped');
    })());

  return { config, url, port, store, executor, bus, runs, openai, logger, close };
}

function withStatus<E extends { extensions: Record<string, unknown> }>(err: E, status: number): E {
  (err.extensions as Record<string, unknown>).http = { status };
  return err;
}

async function loadRegistry(root: string, modules: string[], logger: Logger): Promise<PluginRegistry> {
  const { registry, failures } = await discoverPlugins({ root });
  for (const f of failures) logger.warn('plugin package not loaded', { package: f.packageName, reason: f.reason });
  for (const file of modules) {
    try {
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const value of Object.values(mod)) for (const def of Array.isArray(value) ? value : [value]) if (isPluginDefinition(def)) registry.register(def, { packageName: file });
    } catch (err) {
      throw new MedadError(ErrorCode.BadUserInput, `MEDAD_PLUGIN_MODULES entry ${file} could not be loaded: ${errorMessage(err)}`, { fix: 'give built .js modules that export definePlugin() objects', cause: err });
    }
  }
  logger.info('plugins loaded', { count: registry.list().length });
  return registry;
}
