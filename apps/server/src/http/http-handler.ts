import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { MedadError, errorMessage, type Logger } from '@medad/core';
import { GRAPHQL_CODES } from '../graphql/errors.js';
import type { GraphQLContext } from '../graphql/context.js';
import { UNAUTHENTICATED, type Principal, type TokenAuth } from './auth.js';
import { readBody } from './body.js';
import { callerKey } from './rate-limit.js';
import type { ResponseCache } from './response-cache.js';
import { serveStatic } from './static.js';

/** What the HTTP handler serves. */
export interface HttpHandlerOptions {
  apollo: ApolloServer<GraphQLContext>;
  auth: TokenAuth;
  /** Answers repeated queries (see ResponseCache); absent = execute every request. */
  responses?: ResponseCache;
  maxBodyBytes: number;
  /** Builds the per-request context (a child DI container) for a caller. */
  context: (principal: Principal) => GraphQLContext;
  /** `/healthz` body; throws or returns ok:false when unhealthy. */
  health: () => Promise<{ ok: boolean } & Record<string, unknown>>;
  dashboardDir?: string;
  /** The file of a sample's image for `GET /images/<run id>/<sample id>` (confined by the caller), or undefined. */
  sampleImage?: (runId: string, sampleId: string) => Promise<string | undefined>;
  logger: Logger;
}

const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly fix?: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendGraphQLError(res: ServerResponse, err: HttpError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code, ...(err.fix ? { fix: err.fix } : {}) } }] }, headers);
}

const tooLarge =
  (max: number) =>
  (declared?: number): HttpError =>
    new HttpError(413, `Request body${declared === undefined ? '' : ` of ${declared} bytes`} exceeds the limit of ${max} bytes`, 'PAYLOAD_TOO_LARGE', 'send a smaller request (or raise MEDAD_MAX_BODY_BYTES)');

function principalOf(auth: TokenAuth, req: IncomingMessage): Principal {
  try {
    return auth.authenticate(req.headers.authorization);
  } catch (err) {
    if (err instanceof MedadError) {
      const unauth = err.details.auth === UNAUTHENTICATED.auth;
      throw new HttpError(unauth ? 401 : GRAPHQL_CODES[err.code].http, err.message.replace(/\. Fix: .*$/, ''), unauth ? 'UNAUTHENTICATED' : GRAPHQL_CODES[err.code].code, err.fix);
    }
    throw err;
  }
}

async function graphqlRequest(o: HttpHandlerOptions, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'POST') {
    throw new HttpError(405, `Method ${method} is not allowed on /graphql`, 'METHOD_NOT_ALLOWED', 'use GET for queries or POST for queries and mutations');
  }
  const principal: Principal = { ...principalOf(o.auth, req), caller: callerKey(req.headers.authorization, req) };
  let body: unknown;
  let text = '';
  if (method === 'POST') {
    text = await readBody(req, o.maxBodyBytes, tooLarge(o.maxBodyBytes));
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'application/graphql-response+json') {
      throw new HttpError(415, `Content-Type "${type || '(none)'}" is not supported`, 'UNSUPPORTED_MEDIA_TYPE', 'send the request as application/json');
    }
  }
  // The same role posting the same JSON (and accepting the same response type) since the last
  // write: the stored answer. POST only: a GET passes Apollo's CSRF checks on its headers, which the key does not hold.
  const cache = method === 'POST' && o.responses?.enabled ? o.responses : undefined;
  const key = cache && `${principal.role}\n${req.headers.accept ?? ''}\n${text}`;
  const hit = key ? cache!.get(key) : undefined;
  if (hit) {
    for (const [k, v] of hit.headers) res.setHeader(k, v);
    res.setHeader('x-medad-cache', 'hit');
    res.statusCode = hit.status;
    res.end(hit.body);
    return;
  }
  const generation = cache?.current ?? 0;
  if (method === 'POST') {
    try {
      body = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'The request body is not valid JSON', 'BAD_REQUEST', 'send { "query": "...", "variables": {...} } as JSON');
    }
  }
  const headers = new HeaderMap();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  const answer: NonNullable<GraphQLContext['answer']> = {};
  const response = await o.apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method, headers, search: url.search, body },
    context: async () => ({ ...o.context(principal), answer }),
  });
  for (const [k, v] of response.headers) res.setHeader(k, v);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    if (key) {
      const status = response.status ?? 200;
      if (answer.cacheable && status === 200) cache!.set(key, generation, { status, headers: [...response.headers], body: response.body.string });
      res.setHeader('x-medad-cache', 'miss');
    }
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/** The node:http request handler: `/graphql` (Apollo), `/healthz`, and the dashboard at `/`. */
export function createHttpHandler(o: HttpHandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const done = (): void => o.logger.debug('http request', { method: req.method, path: url.pathname, status: res.statusCode, ms: Date.now() - started });
    res.once('finish', done);
    void (async () => {
      try {
        if (url.pathname === '/graphql') return await graphqlRequest(o, req, res, url);
        if (url.pathname === '/healthz') {
          const h = await o.health().catch((err: unknown) => ({ ok: false, error: errorMessage(err) }));
          return sendJson(res, h.ok ? 200 : 503, h, { 'cache-control': 'no-store' });
        }
        const image = /^\/images\/([^/]+)\/([^/]+)$/.exec(url.pathname);
        if (image && o.sampleImage && (req.method === 'GET' || req.method === 'HEAD')) {
          // Images are data: the same token as the API (a viewer suffices); a page fetches them with it.
          try {
            o.auth.authenticate(req.headers.authorization);
          } catch (err) {
            return sendJson(res, 401, { error: errorMessage(err) }, { 'www-authenticate': 'Bearer' });
          }
          let ids: [string, string] | undefined;
          try {
            ids = [decodeURIComponent(image[1]!), decodeURIComponent(image[2]!)];
          } catch {
            ids = undefined; // malformed percent-encoding: no such image
          }
          const file = ids ? await o.sampleImage(...ids) : undefined;
          const type = file ? IMAGE_TYPES[extname(file).toLowerCase()] : undefined;
          if (!file || !type) return sendJson(res, 404, { error: `No image for ${url.pathname}`, fix: 'use /images/<run id>/<sample id> of a run whose dataset holds that sample' });
          const body = readFileSync(file);
          res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'private, max-age=3600', 'x-content-type-options': 'nosniff' });
          return res.end(req.method === 'HEAD' ? undefined : body);
        }
        if (o.dashboardDir && (req.method === 'GET' || req.method === 'HEAD') && serveStatic(o.dashboardDir, url.pathname, res)) return;
        sendJson(res, 404, { error: `Nothing at ${url.pathname}`, fix: 'GraphQL is at /graphql, health at /healthz' });
      } catch (err) {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof HttpError) return sendGraphQLError(res, err, err.status === 413 ? { connection: 'close' } : {});
        o.logger.error('request failed', { path: url.pathname, error: errorMessage(err) });
        sendGraphQLError(res, new HttpError(500, 'Internal server error (see the server log)', 'INTERNAL_SERVER_ERROR'));
      }
    })();
  };
}
