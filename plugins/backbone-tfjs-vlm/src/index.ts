import { readFile } from 'node:fs/promises';
import { ErrorCode, MedadError, REGIONS, definePlugin, z, type PolicyPrompt, type TrainableBackbone, pathField } from '@medad/core';
// The engines (tfjs, ONNX Runtime) load when a backbone is created, not when the plugin is discovered.
import type { VlmPolicy, WordTokenizer } from '@medad/policy';

const dim = (max: number) => z.number().int('must be an integer').min(1, 'must be ≥ 1').max(max, `must be ≤ ${max}`);

/** Shape fields of the model a config may override (ARCHITECTURE.md); checked again against each other when the model is built. */
const modelOverrides = z
  .object({
    dModel: dim(4096).describe('model width'),
    nLayers: dim(64).describe('transformer layers'),
    nHeads: dim(64).describe('attention heads (divides dModel)'),
    dFF: dim(16384).describe('feed-forward width'),
    imageSize: dim(1024).describe('input image side in pixels (a multiple of patchSize)'),
    patchSize: dim(64).describe('patch side in pixels'),
    maxTextLen: dim(8192).describe('longest prompt + completion in tokens'),
    rotaryDims: z.number().int().min(0).max(1024).describe('rotary positions on N columns per head (even; 0 = none)'),
    patchStem: z.number().int().min(0).max(4096).describe('nonlinear patch stem channels per quarter patch (0 = linear patches)'),
    posInitStd: z.number().gt(0).max(10).describe('init std of the positional and token embeddings'),
  })
  .partial()
  .strict();

/** Config of the `tfjs-vlm` backbone. */
export const tfjsVlmConfig = z.object({
  /** Model size for a fresh model (ignored when `checkpoint` is set). */
  preset: z.enum(['tiny', 'small', 'base']).default('small'),
  /** Checkpoint directory (`model.safetensors`, `config.json`, `tokenizer.json`) to load. */
  checkpoint: pathField(z.string().min(1)).optional(),
  /** `tokenizer.json` for a fresh model (e.g. trained on the dataset's text); else a built-in one. */
  tokenizer: pathField(z.string().min(1)).optional(),
  /** tfjs backend; `auto` = tensorflow → wasm → cpu (env `MEDAD_TF_BACKEND` also overrides). */
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** Seed of a fresh model's weights. */
  seed: z.number().int().default(0),
  attention: z.enum(['auto', 'per-sample', 'batched']).default('auto'),
  /**
   * Generation runtime: `ort` exports the weights to ONNX Runtime once and decodes there (batched,
   * KV cache; several times faster on a CPU), `tfjs` decodes in the tfjs graph. Same random streams.
   */
  runtime: z.enum(['ort', 'tfjs']).default('ort'),
  /** Default new-token budget of `generate`. */
  maxTokens: z.number().int().positive().default(96),
  /** Overrides of the preset's shape for a fresh model (ignored when loading a checkpoint: its config.json decides). */
  model: modelOverrides.default({}),
  /** Exact-match option features for a fresh model (each token knows which options contain it). */
  optionMatch: z.boolean().default(true),
});

/** The tfjs-vlm backbone's settings. */
export type TfjsVlmConfig = z.output<typeof tfjsVlmConfig>;

/** The backbone plus the policy itself, for trainers that need differentiable log-probs; trainable from scratch. */
export interface TfjsVlmBackbone extends TrainableBackbone<VlmPolicy> {
  readonly policy: VlmPolicy;
}

/** Text a fresh tokenizer is trained on when no `tokenizer` is given: the prompt and completion scaffolding. */
export async function builtinTokenizerCorpus(): Promise<string[]> {
  const { renderCompletion, renderPrompt } = await import('@medad/policy');
  const words = ['MRI', 'CT', 'OCT', 'Ultrasound', 'Dermoscopy', 'CE-MRI', 'Endoscopy', 'Fundus', 'X-ray', 'Microscopy', ...REGIONS];
  const sample = { question: 'Which option is correct for this image?', options: ['MRI', 'CT', 'X-ray', 'Ultrasound'] as [string, string, string, string] };
  const text: string[] = [];
  for (let i = 0; i < 3; i++) {
    text.push(renderPrompt(sample), ...['A', 'B', 'C', 'D'].map((answer) => renderCompletion({ cot: `The image shows ${words.join(', ')}, so the answer is (${answer}).`, answer })));
  }
  return text;
}

async function readTokenizer(path: string): Promise<WordTokenizer> {
  const { WordTokenizer } = await import('@medad/policy');
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
    const { VlmPolicy, WordTokenizer, exportOnnx } = await import('@medad/policy');
    const modelOptions = { backend: config.backend, attention: config.attention } as const;
    const policy = config.checkpoint
      ? await VlmPolicy.load(config.checkpoint, modelOptions)
      : await VlmPolicy.create({
          ...modelOptions,
          preset: config.preset,
          seed: config.seed,
          config: config.model,
          optionMatch: config.optionMatch,
          tokenizer: config.tokenizer ? await readTokenizer(config.tokenizer) : WordTokenizer.train(await builtinTokenizerCorpus(), { minCount: 1 }),
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
        runtime: config.runtime,
        capabilities: { logProbs: true, trainable: true },
      }),
      async generate(prompts, options = {}) {
        const opts = { ...options, maxTokens: options.maxTokens ?? config.maxTokens };
        return config.runtime === 'ort' ? policy.generateOrt(prompts, opts) : policy.generate(prompts, opts);
      },
      async logProbs(prompts, completions) {
        if (prompts.length !== completions.length) {
          throw new MedadError(ErrorCode.BadUserInput, `logProbs got ${prompts.length} prompts and ${completions.length} completions`, {
            fix: 'pass one completion text per prompt',
          });
        }
        return policy.scoreTokens(prompts, completions.map((c) => policy.encodeCompletion(c)));
      },
      // The coarse pass of zoom: only a model with a grounding head predicts a region.
      ...(policy.model.config.groundingHead ? { locate: async (prompts: readonly PolicyPrompt[]) => policy.locate(prompts) } : {}),
      // A fresh policy of this config for a training run: its tokenizer covers the run's texts.
      createTrainable: (request) =>
        VlmPolicy.create({
          ...modelOptions,
          preset: config.preset,
          seed: request.seed,
          config: request.groundingHead ? { groundingHead: true, ...config.model } : config.model,
          optionMatch: config.optionMatch,
          tokenizer: WordTokenizer.train(request.corpus),
        }),
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
