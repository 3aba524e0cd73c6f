import { ErrorCode, MedadError } from '@medad/core';

/** One chat message; `content` may mix text and images (OpenAI vision format). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | Array<{ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }>;
}

/** Settings of an OpenAI-compatible `/v1/chat/completions` client. */
export interface ChatClientOptions {
  /** Base URL up to and including `/v1` (e.g. `http://127.0.0.1:8000/v1`). */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Requests in flight at once. */
  concurrency?: number;
  timeoutMs?: number;
  /** Retries after the first attempt, for 429, 5xx, timeouts and network errors. */
  maxRetries?: number;
  /** First backoff delay; doubles per retry (a longer `Retry-After` wins, up to {@link MAX_BACKOFF_MS}). */
  backoffMs?: number;
}

/** Request settings. */
export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
}

/** Counters for observability (and tests). */
export interface ChatClientStats {
  requests: number;
  retries: number;
  failures: number;
  timeouts: number;
}

/** A reply's text, or why there is none (transient trouble that outlasted the retries, or a 4xx about this input). */
export type ChatOutcome = { ok: true; content: string } | { ok: false; reason: string };

/** Upper bound on one backoff wait. */
export const MAX_BACKOFF_MS = 60_000;

class Retryable extends Error {
  constructor(
    message: string,
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

/** A 4xx about this request's input (e.g. over the context length): no retry, no reply. */
class GaveUp extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Milliseconds a `Retry-After` header asks to wait (seconds or an HTTP date); 0 when absent. */
function retryAfterMs(header: string | null): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 0;
}

/**
 * The one client for OpenAI-compatible `/chat/completions` endpoints (vLLM, Ollama, llama.cpp
 * server, hosted APIs), used by the `openai` backbone and the `openai` judge: a concurrency limit,
 * a per-attempt timeout, and exponential backoff on 429, 5xx, timeouts and network errors (a longer
 * `Retry-After` wins, up to {@link MAX_BACKOFF_MS}). A wrong key, URL or model (401/403/404) throws,
 * since every later call would fail the same way.
 */
export class OpenAiChatClient {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  private readonly counters: ChatClientStats = { requests: 0, retries: 0, failures: 0, timeouts: 0 };
  readonly options: Required<Omit<ChatClientOptions, 'apiKey'>> & { apiKey?: string };
  private readonly url: string;

  constructor(options: ChatClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) {
      throw new MedadError(ErrorCode.BadUserInput, `baseUrl "${options.baseUrl}" is not an http(s) URL`, {
        fix: 'give the endpoint up to /v1, e.g. http://127.0.0.1:8000/v1',
      });
    }
    this.options = {
      concurrency: 4,
      timeoutMs: 60_000,
      maxRetries: 3,
      backoffMs: 500,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    };
    this.url = `${this.options.baseUrl}/chat/completions`;
  }

  stats(): ChatClientStats {
    return { ...this.counters };
  }

  private async acquire(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }

  /** Sends one chat request (retrying transient failures); the first choice's text, or why there is none. */
  async tryComplete(req: ChatRequest): Promise<ChatOutcome> {
    await this.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return { ok: true, content: await this.once(req) };
        } catch (err) {
          if (err instanceof GaveUp) {
            this.counters.failures++;
            return { ok: false, reason: err.message };
          }
          if (!(err instanceof Retryable)) {
            this.counters.failures++;
            throw err;
          }
          if (attempt >= this.options.maxRetries) {
            this.counters.failures++;
            return { ok: false, reason: `${err.message} (after ${attempt + 1} attempts)` };
          }
          this.counters.retries++;
          await sleep(Math.min(MAX_BACKOFF_MS, Math.max(this.options.backoffMs * 2 ** attempt, err.retryAfterMs)));
        }
      }
    } finally {
      this.release();
    }
  }

  /** Like {@link tryComplete}, but a request without a reply is an error naming the endpoint and the reason. */
  async complete(req: ChatRequest): Promise<string> {
    const outcome = await this.tryComplete(req);
    if (outcome.ok) return outcome.content;
    throw new MedadError(ErrorCode.Internal, `${this.url} gave no reply: ${outcome.reason}`, {
      fix: 'check that the server is up and the request fits the model (context length), or raise timeoutMs/maxRetries',
    });
  }

  private async once(req: ChatRequest): Promise<string> {
    this.counters.requests++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    let status: number;
    let body: string;
    let retryAfter: string | null;
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: this.options.model,
          messages: req.messages,
          temperature: req.temperature ?? 0,
          ...(req.topP !== undefined ? { top_p: req.topP } : {}),
          ...(req.maxTokens !== undefined ? { max_tokens: req.maxTokens } : {}),
          ...(req.seed !== undefined ? { seed: req.seed } : {}),
        }),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      body = await res.text();
    } catch (err) {
      if (controller.signal.aborted) {
        this.counters.timeouts++;
        throw new Retryable(`timed out after ${this.options.timeoutMs} ms`);
      }
      throw new Retryable(`network error: ${(err as Error).cause ? String((err as Error).cause) : (err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    const excerpt = body.slice(0, 300);
    if (status === 429 || status >= 500) throw new Retryable(`HTTP ${status}: ${excerpt}`, retryAfterMs(retryAfter));
    if (status === 401 || status === 403 || status === 404) {
      throw new MedadError(ErrorCode.InvalidConfig, `${this.url} answered HTTP ${status}: ${excerpt}`, {
        fix:
          status === 404
            ? `check baseUrl (it must end in /v1) and that model "${this.options.model}" exists on the server (GET ${this.options.baseUrl}/models)`
            : 'put the API key in the environment variable named by apiKeyEnv',
        details: { url: this.url, status },
      });
    }
    if (status >= 400) throw new GaveUp(`HTTP ${status}: ${excerpt}`);
    let json: { choices?: Array<{ message?: { content?: unknown } }> };
    try {
      json = JSON.parse(body) as typeof json;
    } catch {
      throw new Retryable(`reply is not JSON: ${body.slice(0, 120)}`);
    }
    const content = json.choices?.[0]?.message?.content;
    if (typeof content === 'string') return content;
    if (Array.isArray(content)) return content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
    return '';
  }
}
