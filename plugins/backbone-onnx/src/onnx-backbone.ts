import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_DECODE_THREADS,
  ErrorCode,
  MedadError,
  type Backbone,
  type BackboneInfo,
  type Completion,
  type GenerateOptions,
  type PolicyPrompt,
} from '@medad/core';
import {
  ONNX_FILES,
  OrtPolicy,
  SPECIAL_IDS,
  WordTokenizer,
  imageToPixels,
  pixelsToNCHW,
  renderPrompt,
  type OrtExecutionProvider,
} from '@medad/policy';

/** Settings of an {@link OnnxBackbone}. */
export interface OnnxBackboneOptions {
  /** Directory with `image_encoder.onnx`, `decoder_model.onnx`, `config.json`, `tokenizer.json`. */
  dir: string;
  intraOpNumThreads?: number;
  executionProvider?: OrtExecutionProvider;
  /** Default new-token budget when `generate` is not given `maxTokens`. */
  maxTokens?: number;
  /** Rows per forward-only batch in `logProbs`. */
  batchSize?: number;
}

/**
 * The `Backbone` contract over an exported model: prompts are rendered and tokenized exactly as
 * for the tfjs model (ARCHITECTURE.md), images resized and normalised the same way, and
 * generation runs on onnxruntime-node with the KV cache.
 */
export class OnnxBackbone implements Backbone {
  private constructor(
    private readonly policy: OrtPolicy,
    private readonly tokenizer: WordTokenizer,
    private readonly options: OnnxBackboneOptions,
  ) {}

  /** Opens the model directory; fails naming the file when something is missing or inconsistent. */
  static async open(options: OnnxBackboneOptions): Promise<OnnxBackbone> {
    const tokPath = join(options.dir, ONNX_FILES.tokenizer);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(tokPath, 'utf8'));
    } catch (err) {
      throw new MedadError(ErrorCode.NotFound, `Cannot read the tokenizer ${tokPath}: ${(err as Error).message}`, {
        cause: err,
        fix: 'export the model with its tokenizer (exportOnnx(..., { tokenizer })) or copy tokenizer.json beside the ONNX files',
      });
    }
    const tokenizer = WordTokenizer.fromJSON(json, tokPath);
    const policy = await OrtPolicy.load(options.dir, {
      intraOpNumThreads: options.intraOpNumThreads ?? DEFAULT_DECODE_THREADS,
      executionProvider: options.executionProvider,
    });
    if (tokenizer.vocabSize !== policy.config.vocabSize) {
      await policy.dispose();
      throw new MedadError(ErrorCode.InvalidData, `${tokPath} has ${tokenizer.vocabSize} tokens but config.json says vocabSize ${policy.config.vocabSize}`, {
        fix: 'use the tokenizer.json the model was trained and exported with',
      });
    }
    return new OnnxBackbone(policy, tokenizer, options);
  }

  describe(): BackboneInfo {
    return {
      id: 'onnx',
      backend: this.policy.provider.backend,
      dir: this.options.dir,
      vocabSize: this.policy.config.vocabSize,
      intraOpNumThreads: this.options.intraOpNumThreads ?? DEFAULT_DECODE_THREADS,
      ...(this.policy.provider.skipped ? { cudaSkipped: this.policy.provider.skipped } : {}),
      capabilities: { logProbs: true, trainable: false },
    };
  }

  async generate(prompts: readonly PolicyPrompt[], options: GenerateOptions = {}): Promise<Completion[][]> {
    const out = await this.policy.generate(this.promptIds(prompts), this.pixels(prompts), {
      groupSize: options.groupSize,
      temperature: options.temperature,
      topP: options.topP,
      greedy: options.greedy,
      seed: options.seed,
      maxNewTokens: options.maxTokens ?? this.options.maxTokens,
      stopIds: [SPECIAL_IDS.answerClose],
      eosId: SPECIAL_IDS.eos,
      padId: SPECIAL_IDS.pad,
    });
    return out.map((group) =>
      group.map((seq) => ({ text: this.tokenizer.decode(seq.tokens), tokens: seq.tokens, logProb: seq.logProb, finished: seq.finished })),
    );
  }

  async logProbs(prompts: readonly PolicyPrompt[], completions: readonly string[]): Promise<Float32Array[]> {
    if (completions.length !== prompts.length) {
      throw new MedadError(ErrorCode.BadUserInput, `logProbs got ${prompts.length} prompts and ${completions.length} completions`, {
        fix: 'pass one completion per prompt (repeat a prompt G times for a group)',
      });
    }
    return this.policy.logProbs(
      { prompts: this.promptIds(prompts), completions: completions.map((c) => this.tokenizer.encode(c)), pixels: this.pixels(prompts) },
      this.options.batchSize ?? 16,
    );
  }

  /** Copies the model directory's four files to `dir` (the model is already ONNX). */
  async exportOnnx(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    for (const file of Object.values(ONNX_FILES)) await copyFile(join(this.options.dir, file), join(dir, file));
    return dir;
  }

  async dispose(): Promise<void> {
    await this.policy.dispose();
  }

  private promptIds(prompts: readonly PolicyPrompt[]): number[][] {
    return prompts.map((p) => this.tokenizer.encode(renderPrompt(p.sample)));
  }

  /** Normalised NCHW pixels `[n, 3, S, S]` of the prompts' images. */
  private pixels(prompts: readonly PolicyPrompt[]): Float32Array {
    const S = this.policy.config.imageSize;
    const out = new Float32Array(prompts.length * 3 * S * S);
    prompts.forEach((p, i) => out.set(pixelsToNCHW(imageToPixels(p.image, S), S), i * 3 * S * S));
    return out;
  }
}
