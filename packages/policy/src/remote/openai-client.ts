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
  /** Retries after the first attempt, for 429, 5xx and network errors. */
  maxRetries?: number;
  /** First backoff delay; doubles per retry. */
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

class RetryableError extends Error {}

/**
 * A small client for OpenAI-compatible chat endpoints (vLLM, Ollama, llama.cpp server, hosted
 * APIs): a concurrency limit, per-request timeout, and exponential backoff on 429/5xx/network errors.
 */
export class OpenAiChatClient {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  private readonly counters: ChatClientStats = { requests: 0, retries: 0, failures: 0, timeouts: 0 };
  readonly options: Required<Omit<ChatClientOptions, 'apiKey'>> & { apiKey?: string };

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
    this.active++;
  }

  private release(): void {
    this.active--;
    this.queue.shift()?.();
  }

  /** Sends one chat request (with retries); returns the first choice's text. */
  async complete(req: ChatRequest): Promise<string> {
    await this.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          return await this.once(req);
        } catch (err) {
          if (!(err instanceof RetryableError) || attempt >= this.options.maxRetries) {
            this.counters.failures++;
            throw err instanceof RetryableError
              ? new MedadError(ErrorCode.Internal, `${this.options.baseUrl}/chat/completions failed after ${attempt + 1} attempts: ${err.message}`, {
                  fix: 'check that the server is up and the model name is right, or raise timeoutMs/maxRetries',
                })
              : err;
          }
          this.counters.retries++;
          await new Promise((r) => setTimeout(r, this.options.backoffMs * 2 ** attempt));
        }
      }
    } finally {
      this.release();
    }
  }

  private async once(req: ChatRequest): Promise<string> {
    this.counters.requests++;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    let res: Response;
    try {
      res = await fetch(`${this.options.baseUrl}/chat/completions`, {
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
    } catch (err) {
      if (controller.signal.aborted) {
        this.counters.timeouts++;
        throw new RetryableError(`timed out after ${this.options.timeoutMs} ms`);
      }
      throw new RetryableError(`network error: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    const body = await res.text();
    if (res.status === 429 || res.status >= 500) throw new RetryableError(`HTTP ${res.status}: ${body.slice(0, 200)}`);
    if (!res.ok) {
      throw new MedadError(ErrorCode.BadUserInput, `${this.options.baseUrl}/chat/completions answered HTTP ${res.status}: ${body.slice(0, 300)}`, {
        fix: res.status === 401 || res.status === 403 ? 'set the API key (apiKeyEnv) for this endpoint' : 'check the model name and request settings',
      });
    }
    let json: { choices?: Array<{ message?: { content?: string | null } }> };
    try {
      json = JSON.parse(body) as typeof json;
    } catch {
      throw new RetryableError(`reply is not JSON: ${body.slice(0, 120)}`);
    }
    return json.choices?.[0]?.message?.content ?? '';
  }
}
