import { readFile } from 'node:fs/promises';
import { ErrorCode, MedadError, REGIONS, definePlugin, z, type Backbone } from '@medad/core';
import { VlmPolicy, WordTokenizer, exportOnnx, renderCompletion, renderPrompt } from '@medad/policy';

/** Config of the `tfjs-vlm` backbone. */
export const tfjsVlmConfig = z.object({
  /** Model size for a fresh model (ignored when `checkpoint` is set). */
  preset: z.enum(['tiny', 'small', 'base']).default('small'),
  /** Checkpoint directory (`model.safetensors`, `config.json`, `tokenizer.json`) to load. */
  checkpoint: z.string().min(1).optional(),
  /** `tokenizer.json` for a fresh model (e.g. trained on the dataset's text); else a built-in one. */
  tokenizer: z.string().min(1).optional(),
  /** tfjs backend; `auto` = tensorflow → wasm → cpu (env `MEDAD_TF_BACKEND` also overrides). */
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** Seed of a fresh model's weights. */
  seed: z.number().int().default(0),
  attention: z.enum(['auto', 'per-sample', 'batched']).default('auto'),
  /** Default new-token budget of `generate`. */
  maxTokens: z.number().int().positive().default(96),
});

/** The backbone plus the policy itself, for trainers that need differentiable log-probs. */
export interface TfjsVlmBackbone extends Backbone {
  readonly policy: VlmPolicy;
}

/** Text a fresh tokenizer is trained on when no `tokenizer` is given: the prompt and completion scaffolding. */
export function builtinTokenizerCorpus(): string[] {
  const words = ['MRI', 'CT', 'OCT', 'Ultrasound', 'Dermoscopy', 'CE-MRI', 'Endoscopy', 'Fundus', 'X-ray', 'Microscopy', ...REGIONS];
  const sample = { question: 'Which option is correct for this image?', options: ['MRI', 'CT', 'X-ray', 'Ultrasound'] as [string, string, string, string] };
  const text: string[] = [];
  for (let i = 0; i < 3; i++) {
    text.push(renderPrompt(sample), ...['A', 'B', 'C', 'D'].map((answer) => renderCompletion({ cot: `The image shows ${words.join(', ')}, so the answer is (${answer}).`, answer })));
  }
  return text;
}

async function readTokenizer(path: string): Promise<WordTokenizer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MedadError(ErrorCode.NotFound, `Cannot read tokenizer file ${path}`, { cause: err, fix: 'set "tokenizer" to a tokenizer.json written by WordTokenizer.toJSON()' });
  }
  return WordTokenizer.fromJSON(JSON.parse(text), path);
}

/** The trainable tfjs vision-language transformer (DESIGN.md §5) behind the core Backbone contract. */
export const tfjsVlmBackbonePlugin = definePlugin({
  kind: 'backbone',
  id: 'tfjs-vlm',
  version: '0.1.0',
  description: 'trainable vision-language transformer in tfjs (tensorflow → wasm → cpu), KV-cache generation, safetensors checkpoints',
  configSchema: tfjsVlmConfig,
  create: async (_deps, config): Promise<TfjsVlmBackbone> => {
    const modelOptions = { backend: config.backend, attention: config.attention } as const;
    const policy = config.checkpoint
      ? await VlmPolicy.load(config.checkpoint, modelOptions)
      : await VlmPolicy.create({
          ...modelOptions,
          preset: config.preset,
          seed: config.seed,
          tokenizer: config.tokenizer ? await readTokenizer(config.tokenizer) : WordTokenizer.train(builtinTokenizerCorpus(), { minCount: 1 }),
        });
    return {
      policy,
      describe: () => ({
        id: 'tfjs-vlm',
        preset: config.checkpoint ? policy.preset : config.preset,
        parameters: policy.model.parameterCount(),
        backend: policy.backend,
        attention: policy.model.attention,
        checkpoint: config.checkpoint ?? null,
        capabilities: { logProbs: true, trainable: true },
      }),
      async generate(prompts, options = {}) {
        return policy.generate(prompts, { ...options, maxTokens: options.maxTokens ?? config.maxTokens });
      },
      async logProbs(prompts, completions) {
        if (prompts.length !== completions.length) {
          throw new MedadError(ErrorCode.BadUserInput, `logProbs got ${prompts.length} prompts and ${completions.length} completions`, {
            fix: 'pass one completion text per prompt',
          });
        }
        return policy.scoreTokens(prompts, completions.map((c) => policy.encodeCompletion(c)));
      },
      save: (dir) => policy.save(dir),
      async exportOnnx(dir) {
        const out = await exportOnnx(policy.model.config, policy.model.weights(), dir, { tokenizer: policy.tokenizer.toJSON() });
        return out.dir;
      },
      dispose: () => policy.dispose(),
    };
  },
});

export default tfjsVlmBackbonePlugin;
