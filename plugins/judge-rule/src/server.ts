import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OptionLetter } from '@medad/core';
import { parseJudgePrompt, type ChatMessageIn } from './chat-prompt.js';
import { deduceRule, type ConclusionOptions } from './conclusion.js';

/** Settings of {@link startRuleJudgeServer}. */
export interface RuleJudgeServerOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (0 = any free port). */
  port?: number;
  /** Answer the first N chat requests with HTTP 503, to exercise client retries. */
  failFirst?: number;
  /** Wait this long before answering each chat request, to exercise client timeouts and concurrency. */
  delayMs?: number;
  /** When set, chat requests must carry `Authorization: Bearer <apiKey>` (else HTTP 401). */
  apiKey?: string;
  /** Settings of the rule judge behind the endpoint (`conclusion` defaults to `strip`, as the plugin's). */
  judge?: ConclusionOptions;
}

/** Counters the server reports at `GET /stats`. */
export interface RuleJudgeServerStats {
  /** Chat requests received (including failed ones). */
  requests: number;
  /** Chat requests answered with a deduction. */
  answered: number;
  /** Requests answered 503 because of `failFirst`. */
  failedOnPurpose: number;
  inFlight: number;
  /** Most chat requests ever in flight at once. */
  maxInFlight: number;
}

/** A running reference judge endpoint. */
export interface RuleJudgeServer {
  readonly port: number;
  /** Base URL up to `/v1`, e.g. `http://127.0.0.1:43123/v1`. */
  readonly baseUrl: string;
  stats(): RuleJudgeServerStats;
  close(): Promise<void>;
}

/** Model ids the server serves; the suffix picks the reply style, so clients' reply parsers can be tested. */
export const RULE_JUDGE_MODELS: Readonly<Record<string, (d: OptionLetter | null) => string>> = Object.freeze({
  'rule-judge': (d) => d ?? 'NONE',
  'rule-judge-paren': (d) => (d ? `(${d})` : 'NONE'),
  'rule-judge-tag': (d) => `<answer>${d ?? 'NONE'}</answer>`,
  'rule-judge-prefix': (d) => `Answer: ${d ?? 'NONE'}`,
  // Prose with no letter in it: what an unparseable reply from a chatty model looks like.
  'rule-judge-words': (d) => `The reasoning points to ${d ? `the ${['first', 'second', 'third', 'fourth'][d.charCodeAt(0) - 65]} option` : 'no option'}.`,
});

const MAX_BODY = 1 << 20;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function apiError(res: ServerResponse, status: number, message: string, type: string, code?: string): void {
  send(res, status, { error: { message, type, code: code ?? null } });
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts an OpenAI-compatible endpoint (`POST /v1/chat/completions`, `GET /v1/models`, plus
 * `GET /stats`) whose replies are the rule judge's deduction from the question, options and
 * reasoning it parses out of the prompt.
 */
export async function startRuleJudgeServer(options: RuleJudgeServerOptions = {}): Promise<RuleJudgeServer> {
  const counters: RuleJudgeServerStats = { requests: 0, answered: 0, failedOnPurpose: 0, inFlight: 0, maxInFlight: 0 };
  const delayMs = options.delayMs ?? 0;
  let created = 0;

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    counters.requests++;
    if (counters.failedOnPurpose < (options.failFirst ?? 0)) {
      counters.failedOnPurpose++;
      return apiError(res, 503, `temporarily unavailable (failing the first ${options.failFirst} requests on purpose)`, 'server_error');
    }
    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return apiError(res, 401, 'missing or wrong API key in the Authorization header', 'invalid_request_error', 'invalid_api_key');
    }
    const raw = await readBody(req);
    if (raw === null) return apiError(res, 413, `request body over ${MAX_BODY} bytes`, 'invalid_request_error');
    let body: { model?: unknown; messages?: unknown };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return apiError(res, 400, 'request body is not JSON', 'invalid_request_error');
    }
    const model = typeof body.model === 'string' ? body.model : '';
    const format = RULE_JUDGE_MODELS[model];
    if (!format) {
      return apiError(res, 404, `The model \`${model}\` does not exist; use one of: ${Object.keys(RULE_JUDGE_MODELS).join(', ')}`, 'invalid_request_error', 'model_not_found');
    }
    if (!Array.isArray(body.messages)) return apiError(res, 400, '"messages" must be an array', 'invalid_request_error');
    const parsed = parseJudgePrompt(body.messages as ChatMessageIn[]);
    if (!parsed.ok) return apiError(res, 400, `cannot read the judge prompt: ${parsed.problem}`, 'invalid_request_error');

    counters.inFlight++;
    counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight);
    try {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      const content = format(deduceRule(parsed.input, options.judge));
      counters.answered++;
      send(res, 200, {
        id: `chatcmpl-rule-${++created}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      });
    } finally {
      counters.inFlight--;
    }
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
    const route = `${req.method} ${path}`;
    const handle =
      route === 'POST /v1/chat/completions'
        ? chat(req, res)
        : route === 'GET /v1/models'
          ? Promise.resolve(send(res, 200, { object: 'list', data: Object.keys(RULE_JUDGE_MODELS).map((id) => ({ id, object: 'model', created: 0, owned_by: 'medad' })) }))
          : route === 'GET /stats'
            ? Promise.resolve(send(res, 200, { ...counters }))
            : Promise.resolve(apiError(res, 404, `no route ${route}; routes: POST /v1/chat/completions, GET /v1/models, GET /stats`, 'invalid_request_error'));
    handle.catch((err: unknown) => {
      if (!res.headersSent) apiError(res, 500, `internal error: ${(err as Error).message}`, 'server_error');
      else res.destroy();
    });
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    stats: () => ({ ...counters }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
