import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
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
        return { schema: o.schema, document, variableValues: variables, operationName: payload.operationName, contextValue: o.context(principal) };
      },
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
