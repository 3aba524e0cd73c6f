import * as tf from '@tensorflow/tfjs';
import { DEFAULT_DECODE_THREADS, ErrorCode, MedadError, type BBox, type Completion, type GenerateOptions, type PolicyPrompt } from '@medad/core';
import { selectBackend, type ComputeBackend } from './backend.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { generateTokens, type GeneratedSequence } from './generate.js';
import { patchesTensor, sequenceLogProbs, type EncodedPrompt, type SequenceLogProbs } from './logprobs.js';
import { optionMarkers } from './vlm/option-match.js';
import { presetConfig, type VlmConfig, type VlmPreset } from './vlm/config.js';
import { VlmModel, type VlmModelOptions } from './vlm/model.js';
import { groundingBox, imageToPatches, imageToPixels, pixelsToNCHW, renderCompletion, renderPrompt } from './vlm/processor.js';
import { buildOnnxModels } from './onnx/export.js';
import { OrtPolicy } from './onnx/ort-policy.js';
import { SPECIAL_IDS, WordTokenizer } from './vlm/tokenizer.js';

/** Options of {@link VlmPolicy.create}. */
export interface CreatePolicyOptions extends VlmModelOptions {
  preset?: VlmPreset;
  tokenizer: WordTokenizer;
  seed?: number;
  backend?: ComputeBackend | 'auto';
  /** Overrides of preset fields (e.g. `maxTextLen`). */
  config?: Partial<VlmConfig>;
  /** Exact-match option features (`config.optionMatch`, markers read from the tokenizer); default off. */
  optionMatch?: boolean;
}

/** Generation settings of the core contract plus the cache switch. */
export interface PolicyGenerateOptions extends GenerateOptions {
  useCache?: boolean;
}

/**
 * The trainable policy: model + tokenizer + prompt format. Generates contract `Completion`s and
 * gives differentiable completion log-probs for SFT and GRPO.
 */
export class VlmPolicy {
  private constructor(
    readonly model: VlmModel,
    readonly tokenizer: WordTokenizer,
    readonly backend: ComputeBackend,
    readonly preset: string,
  ) {}

  /** A freshly initialised policy (selects the compute backend first). */
  static async create(options: CreatePolicyOptions): Promise<VlmPolicy> {
    const { backend } = await selectBackend({ backend: options.backend });
    const preset = options.preset ?? 'small';
    const overrides = options.optionMatch ? { ...options.config, optionMatch: optionMarkers(options.tokenizer) } : options.config;
    const config = presetConfig(preset, options.tokenizer.vocabSize, overrides);
    return new VlmPolicy(VlmModel.create(config, options.seed ?? 0, options), options.tokenizer, backend, preset);
  }

  /** A policy from a checkpoint directory (`model.safetensors`, `config.json`, `tokenizer.json`). */
  static async load(dir: string, options: VlmModelOptions & { backend?: ComputeBackend | 'auto' } = {}): Promise<VlmPolicy> {
    const { backend } = await selectBackend({ backend: options.backend });
    const { model, tokenizer, metadata } = await loadCheckpoint(dir, options);
    return new VlmPolicy(model, tokenizer, backend, metadata.preset ?? 'custom');
  }

  /** Writes the checkpoint into `dir`. */
  async save(dir: string): Promise<void> {
    await saveCheckpoint(dir, this.model, this.tokenizer, { preset: this.preset });
  }

  /** Image patches and prompt ids of a contract prompt. */
  encodePrompt(prompt: PolicyPrompt): EncodedPrompt {
    return { patches: imageToPatches(prompt.image, this.model.config), promptIds: this.tokenizer.encode(renderPrompt(prompt.sample)) };
  }

  /** Token ids of a completion text, optionally followed by `<eos>` (SFT targets end with it). */
  encodeCompletion(text: string, options: { eos?: boolean } = {}): number[] {
    const ids = this.tokenizer.encode(text);
    if (options.eos) ids.push(SPECIAL_IDS.eos);
    return ids;
  }

  /** The SFT target ids of a sample: `<think> cot </think> <answer> X </answer> <eos>`. */
  targetIds(sample: { cot: string; answer: string }): number[] {
    return this.encodeCompletion(renderCompletion(sample), { eos: true });
  }

  /** `groupSize` completions per prompt (contract semantics; `maxTokens` is the new-token budget). */
  generate(prompts: readonly PolicyPrompt[], options: PolicyGenerateOptions = {}): Completion[][] {
    const encoded = prompts.map((p) => this.encodePrompt(p));
    return this.completions(generateTokens(this.model, encoded, { ...samplingOf(options), useCache: options.useCache }));
  }

  /**
   * The same completions through ONNX Runtime (batched KV-cache decoding, the same random streams;
   * tokens equal `generate`'s up to float rounding), several times faster on a CPU. The weights are
   * exported once, on first use: call {@link releaseRuntime} after changing them.
   */
  async generateOrt(prompts: readonly PolicyPrompt[], options: GenerateOptions = {}): Promise<Completion[][]> {
    if (prompts.length === 0) return [];
    const cfg = this.model.config;
    this.ort ??= OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, this.model.weights()), { intraOpNumThreads: DEFAULT_DECODE_THREADS });
    const runtime = await this.ort;
    const S = cfg.imageSize;
    const one = 3 * S * S;
    const pixels = new Float32Array(prompts.length * one);
    prompts.forEach((p, i) => pixels.set(pixelsToNCHW(imageToPixels(p.image, S), S), i * one));
    return this.completions(await runtime.generate(prompts.map((p) => this.tokenizer.encode(renderPrompt(p.sample))), pixels, samplingOf(options)));
  }

  /**
   * The coarse pass of coarse-to-fine zoom: the region of interest the grounding head predicts on
   * each prompt's image, in its pixels ({@link groundingBox}); reads the image only.
   */
  locate(prompts: readonly PolicyPrompt[]): BBox[] {
    if (!this.model.config.groundingHead) {
      throw new MedadError(ErrorCode.BadUserInput, 'This policy has no grounding head, so it cannot predict a region to zoom into', {
        fix: 'train the SFT with hyper.grounding > 0 on a dataset with lesion boxes (a fresh model then gets the head), or evaluate with zoom none or oracle',
      });
    }
    if (prompts.length === 0) return [];
    const P = this.model.imageTokens;
    const logits = tf.tidy(() => this.model.groundingLogits(patchesTensor(prompts.map((p) => ({ patches: imageToPatches(p.image, this.model.config) })), P)).dataSync() as Float32Array);
    return prompts.map((p, b) => groundingBox(logits.subarray(b * P, (b + 1) * P), p.image.width, p.image.height, this.model.config));
  }

  /** Generated token sequences as contract completions. */
  private completions(groups: GeneratedSequence[][]): Completion[][] {
    return groups.map((g) => g.map((s) => ({ text: this.tokenizer.decode(s.tokens), tokens: s.tokens, logProb: s.logProb, finished: s.finished })));
  }

  /** Frees the ONNX Runtime copy {@link generateOrt} made (the next call exports the current weights). */
  async releaseRuntime(): Promise<void> {
    const ort = this.ort;
    this.ort = undefined;
    if (ort) await (await ort).dispose();
  }

  private ort: Promise<OrtPolicy> | undefined;

  /** Differentiable per-token log-probs `[B, Tc]` (+ mask) of completion ids; call inside `tf.tidy`. */
  logProbs(prompts: readonly PolicyPrompt[] | readonly EncodedPrompt[], completions: readonly (readonly number[])[], options: { withArgmax?: boolean } = {}): SequenceLogProbs {
    const encoded = prompts.map((p) => ('patches' in p ? p : this.encodePrompt(p)));
    return sequenceLogProbs(this.model, encoded, completions, options);
  }

  /** Per-token log-probs as plain arrays (one per completion, its own length); no gradient. */
  scoreTokens(prompts: readonly PolicyPrompt[] | readonly EncodedPrompt[], completions: readonly (readonly number[])[]): Float32Array[] {
    const lp = tf.tidy(() => this.logProbs(prompts, completions).logProbs);
    const data = lp.dataSync() as Float32Array;
    const width = lp.shape[1];
    lp.dispose();
    return completions.map((c, b) => data.slice(b * width, b * width + c.length));
  }

  /** Frees the weights (and the ONNX Runtime copy, if any). */
  dispose(): void {
    void this.releaseRuntime();
    this.model.dispose();
  }
}

/** The contract's generation options in the runtimes' names (`maxTokens` is `maxNewTokens`). */
function samplingOf(o: GenerateOptions): { groupSize?: number; temperature?: number; topP?: number; greedy?: boolean; maxNewTokens?: number; seed?: number } {
  return { groupSize: o.groupSize, temperature: o.temperature, topP: o.topP, greedy: o.greedy, maxNewTokens: o.maxTokens, seed: o.seed };
}
