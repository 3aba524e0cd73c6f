import { definePlugin, readingOf, z, type Judge, type JudgeInput, type OptionLetter, pathField, urlField, envNameField } from '@medad/core';
import { JudgeCache, judgeCacheKey } from './cache.js';
import { OpenAiChatClient } from '@medad/policy/remote';
import { buildJudgeMessages, parseJudgeReply } from '@medad/core';

export { JudgeCache, judgeCacheKey } from './cache.js';
export {
  FINDINGS_PROMPT_VERSION,
  FINDINGS_SYSTEM_PROMPT,
  JUDGE_PROMPT_VERSION,
  JUDGE_SYSTEM_PROMPT,
  buildJudgeMessages,
  parseJudgeReply,
  promptVersion,
  type JudgeReply,
  type JudgeMessage,
} from '@medad/core';

/** Config of the `openai` judge. */
export const openAiJudgeConfig = z.object({
  /** Endpoint up to `/v1`, e.g. `https://api.openai.com/v1`, `http://127.0.0.1:8000/v1` (vLLM), `http://127.0.0.1:11434/v1` (Ollama). */
  baseUrl: urlField(z.string().regex(/^https?:\/\/[^\s/]+/, 'must be an http(s) URL such as http://127.0.0.1:8000/v1')),
  model: z.string().min(1),
  /** Name of the environment variable holding the API key; unset is fine for local servers. */
  apiKeyEnv: envNameField(z.string().min(1).default('OPENAI_API_KEY')),
  concurrency: z.number().int().positive().default(4),
  timeoutMs: z.number().int().positive().default(30_000),
  maxRetries: z.number().int().min(0).default(3),
  /** First retry delay in ms; doubles per retry. */
  backoffMs: z.number().int().min(0).default(500),
  temperature: z.number().min(0).max(2).default(0),
  /** Room for "Answer: B"; raise it for models that think aloud before answering. */
  maxTokens: z.number().int().positive().default(16),
  /** JSON file to keep definite deductions in across runs (created when missing). */
  cacheFile: pathField(z.string().min(1)).optional(),
  /**
   * `strip` (default): send only the findings (`stripConclusion` in @medad/core: the concluding
   * clause removed) and ask which option they support, ignoring any concluding statement; a think
   * with no findings is null without a request. `keep`: send the whole think and ask which option it concludes.
   */
  conclusion: z.enum(['strip', 'keep']).default('strip'),
});

/** Counters of an {@link OpenAiJudge}. */
export interface OpenAiJudgeStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Deductions served from the cache (or shared with an identical input already in flight). */
  cacheHits: number;
  /** Replies that named no letter and no NONE; their deduction is null. */
  unparseable: number;
  /** Replies that said NONE: a definite "no option". */
  abstained: number;
  /** Inputs left without a reply after all retries (timeouts, 5xx, network errors, other 4xx). */
  failures: number;
  retries: number;
  timeouts: number;
}

/** A judge behind an OpenAI-compatible endpoint, with its counters. */
export interface OpenAiJudge extends Judge {
  stats(): OpenAiJudgeStats;
}

/** Creates the judge from a parsed config (the plugin's `create`, usable without a registry). */
export function createOpenAiJudge(config: z.output<typeof openAiJudgeConfig>, env: NodeJS.ProcessEnv = process.env): OpenAiJudge {
  const endpoint = new OpenAiChatClient({ baseUrl: config.baseUrl, model: config.model, concurrency: config.concurrency, timeoutMs: config.timeoutMs, maxRetries: config.maxRetries, backoffMs: config.backoffMs, apiKey: env[config.apiKeyEnv] || undefined });
  const cache = new JudgeCache(config.cacheFile);
  const inFlight = new Map<string, Promise<OptionLetter | null>>();
  const counts = { cacheHits: 0, unparseable: 0, abstained: 0 };

  async function ask(key: string, input: JudgeInput): Promise<OptionLetter | null> {
    const outcome = await endpoint.tryComplete({ messages: buildJudgeMessages(input, config.conclusion), temperature: config.temperature, maxTokens: config.maxTokens });
    if (!outcome.ok) return null;
    const reply = parseJudgeReply(outcome.content, input.options.length);
    if (reply.kind === 'unparseable') {
      counts.unparseable++;
      return null;
    }
    // Only definite answers are cached; failures and unreadable replies are asked again next time.
    const value = reply.kind === 'letter' ? reply.letter : null;
    if (reply.kind === 'none') counts.abstained++;
    cache.set(key, value);
    return value;
  }

  function deduceOne(whole: JudgeInput): Promise<OptionLetter | null> {
    const input = { ...whole, think: readingOf(whole.think, config.conclusion) };
    if (config.conclusion === 'strip' && !input.think.trim()) return Promise.resolve(null);
    const key = judgeCacheKey(config.model, input, config.conclusion);
    if (cache.has(key)) {
      counts.cacheHits++;
      return Promise.resolve(cache.get(key));
    }
    const pending = inFlight.get(key);
    if (pending) {
      counts.cacheHits++;
      return pending;
    }
    const p = ask(key, input).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
    return p;
  }

  return {
    name: 'openai',
    stats: () => {
      const http = endpoint.stats();
      return { requests: http.requests, cacheHits: counts.cacheHits, unparseable: counts.unparseable, abstained: counts.abstained, failures: http.failures, retries: http.retries, timeouts: http.timeouts };
    },
    async deduce(batch) {
      try {
        return await Promise.all(batch.map(deduceOne));
      } finally {
        cache.save();
      }
    },
  };
}

/** The HTTP judge: asks any OpenAI-compatible chat model which option a reasoning's findings support (default) or which it concludes. */
export const openAiJudgePlugin = definePlugin({
  kind: 'judge',
  id: 'openai',
  version: '0.1.0',
  description: 'asks any OpenAI-compatible /v1/chat/completions model which option a reasoning concludes',
  configSchema: openAiJudgeConfig,
  create: (_deps, config): OpenAiJudge => createOpenAiJudge(config),
});
