import type { BBox, MedAdSample, RawImage } from '../domain.js';

/** One prompt for the policy: the sample (question, options) and its decoded image. */
export interface PolicyPrompt {
  sample: MedAdSample;
  image: RawImage;
}

/** Sampling settings for `generate`. */
export interface GenerateOptions {
  /** Completions per prompt (G). Default 1. */
  groupSize?: number;
  /** 0 or `greedy: true` means argmax decoding. */
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  greedy?: boolean;
}

/** One generated completion. */
export interface Completion {
  text: string;
  /** Token ids of the completion (without the prompt). */
  tokens: number[];
  /** Sum of the token log-probs under the sampling distribution. */
  logProb: number;
  /** True when generation stopped at `</answer>` rather than the token limit. */
  finished: boolean;
}

/** What a backbone says about itself (recorded in run metadata). */
export interface BackboneInfo {
  id: string;
  preset?: string;
  parameters?: number;
  /** Compute backend actually used (`tensorflow`, `wasm`, `cpu`, `ort-cpu`, `ort-cuda`, `http`...). */
  backend: string;
  /** What the backbone can do; `logProbs: false` for remote chat models that cannot score given text. */
  capabilities?: { logProbs: boolean; trainable?: boolean };
  [key: string]: unknown;
}

/** The backbone contract (DESIGN.md §3). Trainable backbones add differentiable variants in `@medad/policy`. */
export interface Backbone {
  describe(): BackboneInfo;
  /** Completions per prompt: result[i] has `groupSize` entries for prompts[i]. */
  generate(prompts: readonly PolicyPrompt[], options?: GenerateOptions): Promise<Completion[][]>;
  /** Per-token log-probs of the given completion texts under the policy (non-differentiable view). */
  logProbs(prompts: readonly PolicyPrompt[], completions: readonly string[]): Promise<Float32Array[]>;
  /**
   * The coarse pass of coarse-to-fine diagnosis (MedReason-R1): the region of interest the model
   * predicts on each prompt's image, in that image's pixels, from the image alone (never a label).
   * Backbones without a region predictor leave it out; `zoom: predicted` then refuses to run.
   */
  locate?(prompts: readonly PolicyPrompt[]): Promise<Array<BBox | null>>;
  save?(dir: string): Promise<void>;
  exportOnnx?(dir: string): Promise<string>;
  dispose?(): void | Promise<void>;
}

/** What the trainers ask a trainable backbone for when a run starts from scratch. */
export interface TrainablePolicyRequest {
  /** The texts its tokenizer must cover (the train split's prompts and target completions). */
  corpus: readonly string[];
  /** Seed of the fresh weights. */
  seed: number;
  /** A grounding head for the lesion grounding loss (SFT `hyper.grounding`). */
  groundingHead: boolean;
}

/**
 * A backbone the trainers can optimise (DESIGN.md §3): besides the inference contract, it creates
 * a fresh trainable policy for a run from its own config. The trainers of `@medad/trainer` train
 * `VlmPolicy` models (`@medad/policy`), so a third-party backbone returns one built with its own
 * shape, initialisation and tokenizer, and SFT and Con-GRPO train it without changes to `packages/`.
 */
export interface TrainableBackbone<P = unknown> extends Backbone {
  createTrainable(request: TrainablePolicyRequest): Promise<P>;
}

/** True when a backbone can be trained (implements {@link TrainableBackbone}). */
export function isTrainableBackbone(b: Backbone): b is TrainableBackbone {
  return typeof (b as Partial<TrainableBackbone>).createTrainable === 'function';
}
