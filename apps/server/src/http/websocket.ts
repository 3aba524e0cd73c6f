import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  GraphQLError,
  createSourceEventStream,
  execute,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { MedadError, errorMessage, type Logger } from '@medad/core';
import type { GraphQLContext } from '../graphql/context.js';
import { formatError, toGraphQLError } from '../graphql/errors.js';
import { queryLimitsRule } from '../graphql/limits.js';
import { assertOperationAllowed, type Principal, type TokenAuth } from './auth.js';
import { callerKey } from './rate-limit.js';

/** What the graphql-ws endpoint needs. */
export interface WebSocketOptions {
  schema: GraphQLSchema;
  auth: TokenAuth;
  context: (principal: Principal) => GraphQLContext;
  limits: { maxDepth: number; maxCost: number; maxBodyBytes: number };
  logger: Logger;
  /** A rate-limit error for a mutation by this caller, or undefined when it may run. */
  limitMutation?: (principal: Principal) => GraphQLError | undefined;
  /** Why an upgrade request must be refused (Origin / Host), or undefined. */
  refuse?: (req: IncomingMessage) => string | undefined;
}

/** The graphql-ws endpoint and a way to close it. */
export interface WebSocketEndpoint {
  wss: WebSocketServer;
  /** Closes every socket (1001 Going Away) and the server. */
  close(): Promise<void>;
}

type Extra = { principal?: Principal; request: IncomingMessage };

/** Results of one event per operation: every subscriber with the same operation gets the one execution. */
const sharedResults = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
/** The operation a subscription runs, as a cache key: its text, variables, name and the caller's role. */
const operationKeys = new WeakMap<object, string>();

/**
 * graphql-js's subscribe, except that an event object delivered to many subscribers (the event
 * bus hands each the same metric row) is executed once per distinct operation, not once per
 * subscriber: a run watched by 1,000 dashboards costs one execution per row, plus the sends.
 */
async function subscribeShared(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in stream)) return stream;
  const source = stream as AsyncIterableIterator<unknown>;
  const key = operationKeys.get(args.contextValue as object) ?? '';
  const run = (payload: unknown): Promise<ExecutionResult> => {
    if (payload === null || typeof payload !== 'object' || !key) return Promise.resolve(execute({ ...args, rootValue: payload }));
    let byKey = sharedResults.get(payload);
    if (!byKey) sharedResults.set(payload, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = Promise.resolve(execute({ ...args, rootValue: payload }))));
    return result;
  };
  // A plain iterator (not an async generator), so that return() reaches the source at once.
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const r = await source.next();
      return r.done ? { value: undefined, done: true } : { value: await run(r.value), done: false };
    },
    return: async () => {
      await source.return?.();
      return { value: undefined, done: true };
    },
    throw: async (err: unknown) => {
      await source.return?.();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return mapped;
}

/**
 * Serves graphql-ws at `/graphql` on the same HTTP server. The API token comes from the
 * `connection_init` payload `{ authorization: "Bearer …" }` (or the upgrade request's
 * Authorization header); operations pass the same depth/cost limits and role checks as HTTP.
 */
export function attachWebSocket(server: Server, o: WebSocketOptions): WebSocketEndpoint {
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.limits.maxBodyBytes });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    const refused = o.refuse?.(req);
    if (refused) {
      o.logger.warn('websocket upgrade refused: origin', { reason: refused });
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const format = formatError(o.logger);
  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema: o.schema,
      onConnect: (ctx) => {
        const header = ctx.connectionParams?.authorization ?? ctx.extra.request.headers.authorization;
        try {
          const authorization = typeof header === 'string' ? header : undefined;
          (ctx.extra as Extra).principal = { ...o.auth.authenticate(authorization), caller: callerKey(authorization, ctx.extra.request) };
          return true;
        } catch (err) {
          o.logger.warn('websocket connection refused', { reason: errorMessage(err) });
          return false; // closes with 4403 Forbidden
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        const principal = (ctx.extra as Extra).principal!;
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError(errorMessage(err))];
        }
        const variables = payload.variables ?? {};
        const errors = validate(o.schema, document, [...specifiedRules, queryLimitsRule(o.limits.maxDepth, o.limits.maxCost, variables)]);
        if (errors.length) return errors;
        const op = getOperationAST(document, payload.operationName);
        if (!op) return [new GraphQLError('Unable to identify the operation to run. Fix: give operationName when the document has several operations')];
        try {
          assertOperationAllowed(principal, op.operation);
        } catch (err) {
          return [toGraphQLError(err as MedadError)];
        }
        const limited = op.operation === 'mutation' ? o.limitMutation?.(principal) : undefined;
        if (limited) return [limited];
        const contextValue = o.context(principal);
        if (op.operation === 'subscription') operationKeys.set(contextValue, JSON.stringify([payload.query, variables, payload.operationName ?? null, principal.role]));
        return { schema: o.schema, document, variableValues: variables, operationName: payload.operationName, contextValue };
      },
      subscribe: subscribeShared,
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: result.errors.map((e) => format(e.toJSON(), e)) } : undefined),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => format(e.toJSON(), e)),
    },
    wss,
    12_000,
  );
  return {
    wss,
    async close() {
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
