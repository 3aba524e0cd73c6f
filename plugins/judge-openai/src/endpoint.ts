import { ErrorCode, MedadError } from '@medad/core';
import type { JudgeMessage } from './prompt.js';

/** Settings of a {@link ChatEndpoint}. */
export interface ChatEndpointOptions {
  /** Base URL up to and including `/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Most requests in flight at once. */
  concurrency: number;
  /** Per-attempt limit, covering connect, headers and body. */
  timeoutMs: number;
  /** Retries after the first attempt, for 429, 5xx, timeouts and network errors. */
  maxRetries: number;
  /** First backoff delay; doubles each retry (a longer `Retry-After` wins, up to {@link MAX_BACKOFF_MS}). */
  backoffMs: number;
  temperature: number;
  maxTokens: number;
}

/** HTTP-level counters. */
export interface ChatEndpointCounters {
  /** HTTP requests sent, retries included. */
  requests: number;
  retries: number;
  /** Calls that gave no reply after all attempts (or a non-retryable error). */
  failures: number;
  /** Attempts aborted by `timeoutMs`. */
  timeouts: number;
}

/** A reply's text, or why there is none. */
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

class GaveUp extends Error {}

/** A counting semaphore: `run` waits for a free slot. */
class Slots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function retryAfterMs(header: string | null): number {
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 0;
}

/**
 * One OpenAI-compatible `/chat/completions` endpoint with a concurrency limit, a per-attempt
 * timeout and exponential backoff. Transient trouble (429, 5xx, timeouts, network errors) is
 * retried and finally reported as an outcome; a wrong key or model (401/403/404) throws, since
 * every later call would fail the same way.
 */
export class ChatEndpoint {
  private readonly slots: Slots;
  private readonly url: string;
  private readonly counters: ChatEndpointCounters = { requests: 0, retries: 0, failures: 0, timeouts: 0 };

  constructor(private readonly options: ChatEndpointOptions) {
    this.slots = new Slots(options.concurrency);
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  /** A copy of the counters. */
  stats(): ChatEndpointCounters {
    return { ...this.counters };
  }

  /** Sends one chat request (retrying transient failures) and returns the first choice's text. */
  complete(messages: JudgeMessage[]): Promise<ChatOutcome> {
    return this.slots.run(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return { ok: true, content: await this.once(messages) };
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
    });
  }

  private async once(messages: JudgeMessage[]): Promise<string> {
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
          messages,
          temperature: this.options.temperature,
          max_tokens: this.options.maxTokens,
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
      throw new MedadError(ErrorCode.InvalidConfig, `Judge endpoint ${this.url} answered HTTP ${status}: ${excerpt}`, {
        fix:
          status === 404
            ? `check baseUrl (it must end in /v1) and that model "${this.options.model}" exists on the server (GET ${this.options.baseUrl}/models)`
            : 'put the API key in the environment variable named by apiKeyEnv',
        details: { url: this.url, status },
      });
    }
    // Other 4xx are about this input (e.g. a reasoning over the context length): no retry, no deduction.
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
