import { ErrorCode, MedadError, definePlugin, z, type Backbone, type Completion, urlField, envNameField } from '@medad/core';
// The HTTP client only: plugin discovery does not load the training engines.
import { OpenAiChatClient } from '@medad/policy/remote';
import { SYSTEM_PROMPT, imageDataUrl, questionText } from './prompt.js';

export { SYSTEM_PROMPT, imageDataUrl, questionText } from './prompt.js';

/** Config of the `openai` backbone. */
export const openAiBackboneConfig = z.object({
  /** Endpoint up to `/v1`, e.g. `http://127.0.0.1:8000/v1` (vLLM), `http://127.0.0.1:11434/v1` (Ollama). */
  baseUrl: urlField(z.string().url()),
  model: z.string().min(1),
  /** Name of the environment variable holding the API key (not needed by most local servers). */
  apiKeyEnv: envNameField(z.string().default('OPENAI_API_KEY')),
  concurrency: z.number().int().positive().default(4),
  timeoutMs: z.number().int().positive().default(120_000),
  maxRetries: z.number().int().min(0).default(3),
  backoffMs: z.number().int().min(0).default(500),
  maxTokens: z.number().int().positive().default(512),
});

/** A backbone that asks a remote vision-language model; for evaluation (it cannot be trained or score text). */
export const openAiBackbonePlugin = definePlugin({
  kind: 'backbone',
  id: 'openai',
  version: '0.1.0',
  description: 'any vision-language model behind an OpenAI-compatible /v1/chat/completions endpoint',
  configSchema: openAiBackboneConfig,
  create: (_deps, config): Backbone => {
    const client = new OpenAiChatClient({
      baseUrl: config.baseUrl,
      model: config.model,
      apiKey: process.env[config.apiKeyEnv],
      concurrency: config.concurrency,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
      backoffMs: config.backoffMs,
    });
    return {
      describe: () => ({
        id: `openai:${config.model}`,
        backend: 'http',
        endpoint: config.baseUrl,
        capabilities: { logProbs: false, trainable: false },
        stats: client.stats(),
      }),
      async generate(prompts, options = {}) {
        const groupSize = options.groupSize ?? 1;
        const greedy = options.greedy || (options.temperature ?? 0) <= 0;
        return Promise.all(
          prompts.map((p, i) =>
            Promise.all(
              Array.from({ length: groupSize }, async (_, g): Promise<Completion> => {
                const text = await client.complete({
                  messages: [
                    { role: 'system', content: SYSTEM_PROMPT },
                    {
                      role: 'user',
                      content: [
                        { type: 'image_url', image_url: { url: imageDataUrl(p.image) } },
                        { type: 'text', text: questionText(p.sample) },
                      ],
                    },
                  ],
                  temperature: greedy ? 0 : options.temperature,
                  topP: greedy ? undefined : options.topP,
                  maxTokens: options.maxTokens ?? config.maxTokens,
                  seed: options.seed !== undefined ? options.seed + i * groupSize + g : undefined,
                });
                return { text, tokens: [], logProb: 0, finished: true };
              }),
            ),
          ),
        );
      },
      async logProbs() {
        throw new MedadError(ErrorCode.Unsupported, 'The openai backbone cannot score given completions (chat endpoints return log-probs only for their own samples)', {
          fix: 'use it for evaluation only; train with the tfjs-vlm backbone',
        });
      },
    };
  },
});
