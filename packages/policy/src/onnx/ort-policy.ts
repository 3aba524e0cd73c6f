import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ErrorCode, MedadError, SeededRng } from '@medad/core';
import type { GeneratedSequence } from '../generate.js';
import { imageTokens, validateConfig, weightShapes, type VlmConfig } from '../vlm/config.js';
import { SPECIAL_IDS } from '../vlm/tokenizer.js';
import { OPTION_COUNT, optionMatchGrid, optionMatchRows, optionWordSets } from '../vlm/option-match.js';
import { argmax, generationRng, logSoftmax, sampleFromProbs, sampleToken, type GenerateOptions } from '../sampling.js';
import { ONNX_FILES, type OnnxModels } from './export.js';
import { DecodeCache, disposeKv, kvFeeds, kvFromOutputs, type DecodeStorage, type KvCache } from './kv-cache.js';
import { openSessions, type OrtSessionOptions, type ProviderChoice } from './session.js';
import { checkWeights, type WeightSource } from './weights.js';

/**
 * Sampling settings for {@link OrtPolicy.generate}: those of the tfjs `generateTokens`
 * ({@link GenerateOptions}), so both runtimes are interchangeable, and the special ids.
 */
export interface OrtGenerateOptions extends GenerateOptions {
  /** The token that ends a completion without being kept; default `<eos>`. */
  eosId?: number;
  /** Id fed at left-padded prompt positions (never attended); default `<pad>`. */
  padId?: number;
}

/** The random stream of a completion: `generationRng`, the tfjs runtime's (one formula, so both draw the same samples). */
export const ortGenerationRng = generationRng;

/** Which outputs a decode step fetches. */
type StepOutputs = 'logits' | 'probs' | 'both';

/** Rows of a forward-only batch: one prompt, one completion and one image per row. */
interface ForwardRows {
  prompts: readonly (readonly number[])[];
  completions: readonly (readonly number[])[];
  /** Normalised NCHW pixels `[rows, 3, S, S]`. */
  pixels: Float32Array;
}

/**
 * The exported policy running on onnxruntime-node: image encoding into the KV cache, cached
 * batched generation with groups sharing a prefill, and forward-only logits and log-probs.
 */
export class OrtPolicy {
  private constructor(
    readonly config: VlmConfig,
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
    /** The execution provider in use (and why CUDA was skipped, if it was). */
    readonly provider: ProviderChoice,
    /** The decode-step variant of the decoder (no grown cache), when the models include it. */
    private readonly stepDecoder?: ort.InferenceSession,
  ) {}

  /** Loads `image_encoder.onnx`, `decoder_model.onnx` and `config.json` from a directory. */
  static async load(dir: string, options: OrtSessionOptions = {}): Promise<OrtPolicy> {
    const configPath = join(dir, ONNX_FILES.config);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(configPath, 'utf8'));
    } catch (err) {
      throw new MedadError(ErrorCode.NotFound, `Cannot read the model config ${configPath}: ${(err as Error).message}`, {
        cause: err,
        fix: 'point at a directory written by exportOnnx (image_encoder.onnx, decoder_model.onnx, config.json)',
      });
    }
    const config = validateConfig(raw, configPath);
    const models = { encoder: join(dir, ONNX_FILES.imageEncoder), decoder: join(dir, ONNX_FILES.decoder) };
    const { sessions, provider } = await openSessions(models, options);
    return new OrtPolicy(config, sessions.encoder, sessions.decoder, provider);
  }

  /** Opens in-memory models (as `buildOnnxModels` returns them). */
  static async fromModels(config: VlmConfig, models: OnnxModels, options: OrtSessionOptions = {}): Promise<OrtPolicy> {
    const cfg = validateConfig(config, 'OrtPolicy.fromModels config');
    const files: Record<string, Uint8Array> = { encoder: models.imageEncoder, decoder: models.decoder };
    if (models.decoderStep) files.step = models.decoderStep;
    const { sessions, provider } = await openSessions(files, options);
    return new OrtPolicy(cfg, sessions.encoder!, sessions.decoder!, provider, sessions.step);
  }

  /**
   * Feeds new weights to models built with `buildOnnxModels(config, 'inputs')`: the sessions stay
   * open, so a trainer updates its rollout engine each step without re-exporting. The arrays are
   * read in place at every run; do not change them while a call is running.
   */
  setWeights(weights: WeightSource): void {
    const checked = checkWeights(this.config, weights, 'OrtPolicy.setWeights');
    const shapes = new Map(weightShapes(this.config));
    const feedsOf = (session: ort.InferenceSession): Record<string, ort.Tensor> =>
      Object.fromEntries(session.inputNames.filter((n) => shapes.has(n)).map((n) => [n, new ort.Tensor('float32', checked.get(n)!, shapes.get(n)!)]));
    this.weightFeeds = { encoder: feedsOf(this.encoder), decoder: feedsOf(this.decoder), step: this.stepDecoder ? feedsOf(this.stepDecoder) : {} };
  }

  private weightFeeds: Record<'encoder' | 'decoder' | 'step', Record<string, ort.Tensor>> | undefined;

  /** The weight feeds of a session (none for models with the weights built in). */
  private weightsFor(which: 'encoder' | 'decoder' | 'step'): Record<string, ort.Tensor> {
    const session = which === 'encoder' ? this.encoder : which === 'step' ? this.stepDecoder! : this.decoder;
    if (this.weightFeeds) return this.weightFeeds[which];
    if (session.inputNames.includes(which === 'encoder' ? 'patch.w' : 'tok_emb')) {
      throw new MedadError(ErrorCode.BadUserInput, 'These ONNX models take their weights as inputs and none were given', {
        fix: "call setWeights(weights) after OrtPolicy.fromModels(config, buildOnnxModels(config, 'inputs'))",
      });
    }
    return {};
  }

  /** Number of image-prefix tokens P. */
  get imageTokens(): number {
    return imageTokens(this.config);
  }

  /** The image prefix's per-layer keys/values for `batch` normalised NCHW images `[batch, 3, S, S]`. */
  async encodeImages(pixels: Float32Array, batch: number): Promise<KvCache> {
    const S = this.config.imageSize;
    if (pixels.length !== batch * 3 * S * S) {
      throw new MedadError(ErrorCode.BadUserInput, `encodeImages got ${pixels.length} pixel values for ${batch} images of [3, ${S}, ${S}]`, {
        fix: `pass ${batch * 3 * S * S} normalised values in NCHW order (resize images to ${S}×${S} first)`,
      });
    }
    const out = await this.encoder.run({ pixel_values: new ort.Tensor('float32', pixels, [batch, 3, S, S]), ...this.weightsFor('encoder') });
    return kvFromOutputs(out, this.config.nLayers);
  }

  /**
   * One decoder call: `inputIds [batch, T]` and `mask [batch, past.length + T]` (row-major) after
   * the cache `past`; returns `logits [batch, T, vocab]` and the grown cache (`past` is not disposed).
   * With `config.optionMatch` the graph also takes `option_match [batch, T, 4]`: pass it for decoding
   * steps; when omitted it is computed from `inputIds`, which must then be whole rows from the prompt.
   */
  async decode(inputIds: BigInt64Array, batch: number, T: number, mask: BigInt64Array, past: KvCache, optionMatch?: Float32Array): Promise<{ logits: Float32Array; present: KvCache }> {
    if (inputIds.length !== batch * T || mask.length !== batch * (past.length + T) || past.batch !== batch) {
      throw new MedadError(ErrorCode.BadUserInput, `decode shapes disagree: ${inputIds.length} ids for [${batch}, ${T}], mask ${mask.length} for [${batch}, ${past.length + T}], cache batch ${past.batch}`, {
        fix: 'give input_ids [batch, T], attention_mask [batch, pastLen + T] and a cache of the same batch',
      });
    }
    const out = await this.decoder.run({
      ...this.weightsFor('decoder'),
      input_ids: new ort.Tensor('int64', inputIds, [batch, T]),
      attention_mask: new ort.Tensor('int64', mask, [batch, past.length + T]),
      ...kvFeeds(past),
      ...(this.config.optionMatch
        ? { option_match: new ort.Tensor('float32', optionMatch ?? optionMatchGrid(Array.from(inputIds, Number), batch, T, this.config.optionMatch), [batch, T, OPTION_COUNT]) }
        : {}),
    });
    const logits = out.logits as ort.Tensor;
    const data = logits.data as Float32Array;
    return { logits: data, present: kvFromOutputs(out, this.config.nLayers) };
  }

  /**
   * Samples `groupSize` completions per prompt, built like an inference server's decode loop:
   * - one prefill per prompt (left padded, so every row keeps its unpadded positions), copied
   *   into its group's rows of a preallocated cache of fixed capacity;
   * - one batched decoder call per token over all running rows, fetching only the logits and the
   *   new token's keys/values (written into the cache in place), never the grown cache;
   * - finished rows leave the batch when enough of them have (the cache is compacted in place).
   * `pixels` holds one normalised image per prompt.
   */
  async generate(prompts: readonly (readonly number[])[], pixels: Float32Array, options: OrtGenerateOptions = {}): Promise<GeneratedSequence[][]> {
    const cfg = this.config;
    const V = cfg.vocabSize;
    const P = this.imageTokens;
    const G = options.groupSize ?? 1;
    const maxNew = options.maxNewTokens ?? cfg.maxTextLen;
    const stop = new Set(options.stopIds ?? [SPECIAL_IDS.answerClose]);
    const eos = options.eosId ?? SPECIAL_IDS.eos;
    const sampling = { temperature: options.temperature ?? 1, topP: options.topP ?? 1, greedy: options.greedy ?? false };
    const seed = options.seed ?? 0;
    if (!Number.isInteger(G) || G < 1 || !Number.isInteger(maxNew) || maxNew < 0) {
      throw new MedadError(ErrorCode.BadUserInput, `generate needs a positive integer groupSize and a non-negative maxNewTokens, got ${G} and ${maxNew}`, {
        fix: 'set groupSize ≥ 1 (e.g. 8 for GRPO) and maxNewTokens ≥ 0',
      });
    }
    this.checkTokens(prompts, 'prompt', 1);
    const B = prompts.length;
    if (B === 0) return [];
    type Row = { prompt: number; out: GeneratedSequence; limit: number; rng: SeededRng };
    const rows: Row[] = [];
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < G; k++) {
        rows.push({
          prompt: b,
          out: { tokens: [], tokenLogProbs: [], logProb: 0, finished: false },
          limit: Math.min(maxNew, cfg.maxTextLen - prompts[b]!.length),
          rng: ortGenerationRng(seed, b, k),
        });
      }
    }
    const markers = cfg.optionMatch;
    const optionSets = markers ? prompts.map((p) => optionWordSets(p, markers)) : undefined;
    // Prefill every prompt once, left-padded to the longest.
    const Lmax = Math.max(...prompts.map((p) => p.length));
    const ids = new BigInt64Array(B * Lmax).fill(BigInt(options.padId ?? SPECIAL_IDS.pad));
    const prefillMask = new BigInt64Array(B * (P + Lmax));
    prompts.forEach((p, b) => {
      const off = Lmax - p.length;
      p.forEach((t, j) => (ids[b * Lmax + off + j] = BigInt(t)));
      prefillMask.fill(1n, b * (P + Lmax), b * (P + Lmax) + P);
      prefillMask.fill(1n, b * (P + Lmax) + P + off, (b + 1) * (P + Lmax));
    });
    const image = await this.encodeImages(pixels, B);
    const prefill = await this.decode(ids, B, Lmax, prefillMask, image);
    disposeKv(image);
    // Slots: image | prompt | one per fed token (the last sampled token is never fed).
    const steps = Math.max(0, ...rows.map((r) => r.limit - 1));
    // The previous call's buffers, taken so that a concurrent call on this policy allocates its own.
    const recycled = this.decodeStorage;
    this.decodeStorage = undefined;
    const cache = new DecodeCache(cfg, rows.length, P + Lmax + steps, recycled);
    const logits = new Float32Array(rows.length * V);
    rows.forEach((r, a) => {
      if (a % G === 0) cache.fillPrefix(a, prefill.present, r.prompt, prefillMask.subarray(r.prompt * (P + Lmax), (r.prompt + 1) * (P + Lmax)));
      else cache.copyRow(a - (a % G), a);
      logits.set(prefill.logits.subarray((r.prompt * Lmax + Lmax - 1) * V, (r.prompt * Lmax + Lmax) * V), a * V);
    });
    disposeKv(prefill.present);
    // slot[a] = row index at batch position a; `running` marks the rows still decoding.
    let slot = rows.map((_, i) => i);
    let stepLogits: Float32Array = logits;
    // After the prefill, the step decoder's softmax spares an `exp` per vocabulary entry: plain
    // sampling (T = 1, no nucleus cut) draws from it, greedy decoding reads its token's log-prob there.
    const hasProbs = this.stepDecoder?.outputNames.includes('probs') ?? false;
    const greedy = sampling.greedy || sampling.temperature <= 0;
    const read: StepOutputs = !hasProbs ? 'logits' : greedy ? 'both' : sampling.temperature === 1 && sampling.topP >= 1 ? 'probs' : 'logits';
    let stepProbs: Float32Array | undefined;
    const fed = new BigInt64Array(rows.length);
    for (let t = 0; ; t++) {
      let running = 0;
      slot.forEach((i, a) => {
        if (i < 0) return;
        const { out, limit, rng } = rows[i]!;
        if (out.tokens.length >= limit) {
          slot[a] = -1;
          fed[a] = BigInt(options.padId ?? SPECIAL_IDS.pad);
          return;
        }
        const probRow = stepProbs?.subarray(a * V, (a + 1) * V);
        let drawn: { token: number; logProb: number };
        if (probRow && greedy) {
          const token = argmax(stepLogits.subarray(a * V, (a + 1) * V));
          drawn = { token, logProb: Math.log(probRow[token]!) };
        } else drawn = probRow ? sampleFromProbs(probRow, rng) : sampleToken(stepLogits.subarray(a * V, (a + 1) * V), sampling, rng);
        const { token, logProb } = drawn;
        let done = token === eos;
        if (!done) {
          out.tokens.push(token);
          out.tokenLogProbs.push(logProb);
          out.logProb += logProb;
          done = stop.has(token) || out.tokens.length >= limit;
        }
        if (token === eos || stop.has(token)) out.finished = true;
        if (done) slot[a] = -1;
        else running++;
        fed[a] = BigInt(done ? (options.padId ?? SPECIAL_IDS.pad) : token);
      });
      if (running === 0) break;
      // Compact when a quarter of the batch has finished: their rows cost a full decode each.
      if (running <= (slot.length * 3) / 4) {
        const keep = slot.flatMap((i, a) => (i >= 0 ? [a] : []));
        cache.keepRows(keep);
        keep.forEach((a, r) => (fed[r] = fed[a]!));
        slot = keep.map((a) => slot[a]!);
      }
      const n = slot.length;
      let stepMatch: Float32Array | undefined;
      if (optionSets) {
        stepMatch = new Float32Array(n * OPTION_COUNT);
        slot.forEach((i, r) => { if (i >= 0) optionMatchRows([Number(fed[r])], optionSets[rows[i]!.prompt]!, stepMatch!, r * OPTION_COUNT); });
      }
      const step = await this.decodeInto(cache, fed.subarray(0, n), t, stepMatch, (r) => slot[r]! >= 0, read);
      stepLogits = step.logits ?? stepLogits;
      stepProbs = step.probs;
    }
    this.decodeStorage = cache.storage;
    const results: GeneratedSequence[][] = prompts.map(() => []);
    for (const row of rows) results[row.prompt]!.push(row.out);
    return results;
  }

  /** The last decode loop's cache buffers, reused by the next one (see {@link DecodeCache}). */
  private decodeStorage: DecodeStorage | undefined;

  /**
   * One decoding step over the cache's rows: feeds token `ids` at step `t` (slot `prefix + t`),
   * writes their keys/values into the cache, and returns what `read` asks for: the logits
   * `[rows, vocab]`, their softmax `probs` (only the step decoder has it), or both.
   */
  private async decodeInto(cache: DecodeCache, ids: BigInt64Array, t: number, optionMatch: Float32Array | undefined, running: (row: number) => boolean, read: StepOutputs = 'logits'): Promise<{ logits?: Float32Array; probs?: Float32Array }> {
    const n = cache.rows;
    const session = this.stepDecoder ?? this.decoder;
    const own = this.decoderHasNewKv ??= session.outputNames.includes('new.0.key');
    const heads = read === 'both' ? ['logits', 'probs'] : [read];
    const fetches = [...heads, ...Array.from({ length: this.config.nLayers }, (_, i) => (own ? [`new.${i}.key`, `new.${i}.value`] : [`present.${i}.key`, `present.${i}.value`])).flat()];
    const out = await session.run(
      {
        ...this.weightsFor(this.stepDecoder ? 'step' : 'decoder'),
        input_ids: new ort.Tensor('int64', ids, [n, 1]),
        attention_mask: new ort.Tensor('int64', cache.stepMask(), [n, cache.capacity + 1]),
        ...cache.feeds(),
        ...(this.config.optionMatch ? { option_match: new ort.Tensor('float32', optionMatch!, [n, 1, OPTION_COUNT]) } : {}),
      },
      fetches,
    );
    cache.writeStep(t, (layer, kind) => {
      const tensor = out[own ? `new.${layer}.${kind}` : `present.${layer}.${kind}`] as ort.Tensor;
      return { data: tensor.data as Float32Array, at: own ? 0 : cache.capacity, length: own ? 1 : cache.capacity + 1 };
    }, running);
    for (const name of fetches.slice(heads.length)) (out[name] as ort.Tensor).dispose();
    const data = (name: string): Float32Array | undefined => (heads.includes(name) ? ((out[name] as ort.Tensor).data as Float32Array) : undefined);
    return { logits: data('logits'), probs: data('probs') };
  }

  private decoderHasNewKv: boolean | undefined;

  /** Logits `[promptLen + completionLen, vocab]` of every text position of each row (forward only). */
  async sequenceLogits(rows: ForwardRows, chunkSize = 16): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    await this.forward(rows, chunkSize, (_r, logits, T) => out.push(logits.slice(0, T * this.config.vocabSize)));
    return out;
  }

  /** Per-token log-probs of each row's completion given its prompt and image (forward only, no sampling). */
  async logProbs(rows: ForwardRows, chunkSize = 16): Promise<Float32Array[]> {
    const V = this.config.vocabSize;
    const out: Float32Array[] = [];
    await this.forward(rows, chunkSize, (r, logits) => {
      const prompt = rows.prompts[r]!;
      const completion = rows.completions[r]!;
      const lp = new Float32Array(completion.length);
      completion.forEach((token, k) => {
        const t = prompt.length + k - 1;
        lp[k] = logSoftmax(logits.subarray(t * V, (t + 1) * V))[token]!;
      });
      out.push(lp);
    });
    return out;
  }

  /** Frees both ORT sessions. */
  async dispose(): Promise<void> {
    this.decodeStorage = undefined;
    await this.encoder.release();
    await this.decoder.release();
    await this.stepDecoder?.release();
  }

  /** Runs rows in chunks (right padded; padding never changes the real positions) and hands each row's logits to `onRow`. */
  private async forward(rows: ForwardRows, chunkSize: number, onRow: (row: number, logits: Float32Array, T: number) => void): Promise<void> {
    const { prompts, completions, pixels } = rows;
    const n = prompts.length;
    const S = this.config.imageSize;
    const V = this.config.vocabSize;
    const P = this.imageTokens;
    if (completions.length !== n) {
      throw new MedadError(ErrorCode.BadUserInput, `${n} prompts but ${completions.length} completions`, { fix: 'pass one completion per prompt row' });
    }
    this.checkTokens(prompts, 'prompt', 1);
    this.checkTokens(completions, 'completion', 0);
    prompts.forEach((p, r) => {
      if (p.length + completions[r]!.length > this.config.maxTextLen) {
        throw new MedadError(ErrorCode.BadUserInput, `row ${r}: prompt (${p.length}) + completion (${completions[r]!.length}) tokens exceed maxTextLen ${this.config.maxTextLen}`, {
          fix: 'shorten the prompt or the completion, or use a model with a larger maxTextLen',
        });
      }
    });
    const px = 3 * S * S;
    for (let start = 0; start < n; start += chunkSize) {
      const m = Math.min(chunkSize, n - start);
      const lens = Array.from({ length: m }, (_, r) => prompts[start + r]!.length + completions[start + r]!.length);
      const T = Math.max(...lens);
      const ids = new BigInt64Array(m * T);
      const mask = new BigInt64Array(m * (P + T));
      for (let r = 0; r < m; r++) {
        const seq = [...prompts[start + r]!, ...completions[start + r]!];
        seq.forEach((t, j) => (ids[r * T + j] = BigInt(t)));
        mask.fill(1n, r * (P + T), r * (P + T) + P + seq.length);
      }
      const image = await this.encodeImages(pixels.subarray(start * px, (start + m) * px), m);
      const { logits, present } = await this.decode(ids, m, T, mask, image);
      disposeKv(image);
      disposeKv(present);
      for (let r = 0; r < m; r++) onRow(start + r, logits.subarray(r * T * V, (r + 1) * T * V), lens[r]!);
    }
  }

  private checkTokens(seqs: readonly (readonly number[])[], what: string, minLength: number): void {
    const V = this.config.vocabSize;
    seqs.forEach((seq, r) => {
      if (seq.length < minLength || seq.length >= this.config.maxTextLen + (what === 'prompt' ? 0 : 1)) {
        throw new MedadError(ErrorCode.BadUserInput, `${what} ${r} has ${seq.length} tokens; the model takes ${minLength}–${this.config.maxTextLen - (what === 'prompt' ? 1 : 0)}`, {
          fix: `shorten the ${what} (maxTextLen ${this.config.maxTextLen} counts prompt and completion together)`,
        });
      }
      const bad = seq.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= V);
      if (bad >= 0) {
        throw new MedadError(ErrorCode.BadUserInput, `${what} ${r} has token ${seq[bad]} at index ${bad}, outside the vocabulary [0, ${V})`, {
          fix: 'encode text with the tokenizer saved beside this model (tokenizer.json)',
        });
      }
    });
  }
}
