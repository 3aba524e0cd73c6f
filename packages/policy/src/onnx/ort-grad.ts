import * as ort from 'onnxruntime-node';
import { ErrorCode, MedadError } from '@medad/core';
import { packBatch, type EncodedPrompt } from '../logprobs.js';
import { imageTokens, weightShapes, type VlmConfig } from '../vlm/config.js';
import { positionsFromMask, textBiasData } from '../vlm/model.js';
import { OPTION_COUNT, optionMatchGrid } from '../vlm/option-match.js';
import { openSessions, selectedDevice, type OrtSessionOptions, type ProviderChoice } from './session.js';
import { buildGradientGraph } from './train-graph.js';

/** What {@link OrtGradients.run} returns: the gradient of `Σ coef · log p` per weight, and each target's log-prob. */
export interface OrtGradientResult {
  grads: Map<string, Float32Array>;
  /** Per completion, the log-prob of each of its tokens under the given weights. */
  logProbs: Float32Array[];
  /** Grounding logits `[B·P]` (only for a config with `groundingHead`). */
  groundLogits?: Float32Array;
}

/**
 * The grounding term of an objective (ARCHITECTURE.md step 8): per prompt, its patch targets `[P]`
 * (null = not annotated) and its coefficient, so the objective adds `Σ_b coef_b · Σ_p BCE`.
 */
export interface GroundingTerm {
  targets: readonly (Float32Array | null)[];
  coefs: readonly number[];
}

/**
 * Gradients of a teacher-forced objective through ONNX Runtime: the forward of ARCHITECTURE.md
 * and its reverse mode as one ONNX graph ({@link buildGradientGraph}), weights fed as inputs, so a
 * training step runs on ORT's multi-threaded kernels instead of tfjs. The caller chooses the
 * objective through per-token coefficients: `coef = −w / Σw` gives weighted cross-entropy.
 */
export class OrtGradients {
  private constructor(
    readonly config: VlmConfig,
    private readonly sessions: { grad?: ort.InferenceSession; logp: ort.InferenceSession },
    readonly provider: ProviderChoice,
  ) {}

  /**
   * Builds the gradient graph of `config` and opens it (2 threads by default; on the CPU unless
   * {@link selectDevice} chose CUDA). `forwardOnly`: only the log-prob graph ({@link logProbs}),
   * e.g. to score completions under a frozen reference.
   */
  static async create(config: VlmConfig, options: OrtSessionOptions & { forwardOnly?: boolean } = {}): Promise<OrtGradients> {
    const { forwardOnly = false, ...sessionOptions } = options;
    const logp = buildGradientGraph(config, { forwardOnly: true });
    const models: Record<string, Uint8Array> = forwardOnly ? { logp } : { grad: buildGradientGraph(config), logp };
    const { sessions, provider } = await openSessions(models, { executionProvider: selectedDevice() ?? 'cpu', ...sessionOptions });
    return new OrtGradients(config, { grad: sessions['grad'], logp: sessions['logp']! }, provider);
  }

  /**
   * Gradients of `Σ_b Σ_j coefs[b][j] · log p(completions[b][j] | image, prompt, completion<j)`
   * with respect to every weight, at `weights` (contract names and shapes).
   */
  async run(
    weights: ReadonlyMap<string, Float32Array>,
    prompts: readonly EncodedPrompt[],
    completions: readonly (readonly number[])[],
    coefs: readonly ArrayLike<number>[],
    grounding?: GroundingTerm,
  ): Promise<OrtGradientResult> {
    const batch = this.feeds(weights, prompts, completions, coefs);
    if (this.config.groundingHead) Object.assign(batch.feeds, this.groundingFeeds(prompts.length, grounding));
    else if (grounding) {
      throw new MedadError(ErrorCode.BadUserInput, 'A grounding term was given for a model without a grounding head', { fix: 'create the model with config { groundingHead: true }' });
    }
    if (!this.sessions.grad) {
      throw new MedadError(ErrorCode.Internal, 'OrtGradients.run on a forward-only instance', { fix: 'create it without forwardOnly to compute gradients' });
    }
    const out = await this.sessions.grad.run(batch.feeds);
    const grads = new Map<string, Float32Array>();
    for (const [name] of weightShapes(this.config)) {
      const t = out[`grad.${name}`];
      if (t) grads.set(name, t.data as Float32Array);
    }
    this.scatterEmbeddingGrads(weights, batch, out['grad.text_embedded']!.data as Float32Array, grads);
    const result: OrtGradientResult = { grads, logProbs: splitRows(out.logp!.data as Float32Array, completions) };
    if (out.ground_logit) result.groundLogits = out.ground_logit.data as Float32Array;
    return result;
  }

  /** The grounding inputs of B prompts (zero coefficients where there is no term or no target). */
  private groundingFeeds(B: number, grounding: GroundingTerm | undefined): Record<string, ort.Tensor> {
    const P = imageTokens(this.config);
    const targets = new Float32Array(B * P);
    const coef = new Float32Array(B);
    if (grounding) {
      if (grounding.targets.length !== B || grounding.coefs.length !== B) {
        throw new MedadError(ErrorCode.BadUserInput, `The grounding term has ${grounding.targets.length} targets and ${grounding.coefs.length} coefficients for ${B} prompts`, { fix: 'pass one target (or null) and one coefficient per prompt' });
      }
      grounding.targets.forEach((t, b) => {
        if (!t) return;
        if (t.length !== P) throw new MedadError(ErrorCode.BadUserInput, `Grounding target ${b} has ${t.length} values, expected ${P} (one per image token)`, { fix: 'make it with groundingTargets(bbox, width, height, config)' });
        targets.set(t, b * P);
        coef[b] = grounding.coefs[b]!;
      });
    }
    return { ground_target: new ort.Tensor('float32', targets, [B, P]), ground_coef: new ort.Tensor('float32', coef, [B]) };
  }

  /** The log-prob of every completion token (teacher forcing), forward only. */
  async logProbs(weights: ReadonlyMap<string, Float32Array>, prompts: readonly EncodedPrompt[], completions: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const { feeds } = this.feeds(weights, prompts, completions, null);
    const out = await this.sessions.logp.run(feeds);
    return splitRows(out.logp!.data as Float32Array, completions);
  }

  private feeds(
    weights: ReadonlyMap<string, Float32Array>,
    prompts: readonly EncodedPrompt[],
    completions: readonly (readonly number[])[],
    coefs: readonly ArrayLike<number>[] | null,
  ): { feeds: Record<string, ort.Tensor>; ids: Int32Array; positions: Int32Array; match: Float32Array | null } {
    const cfg = this.config;
    const { dModel: d, maxTextLen } = cfg;
    if (prompts.length === 0 || prompts.length !== completions.length || (coefs && coefs.length !== completions.length)) {
      throw new MedadError(ErrorCode.BadUserInput, `OrtGradients got ${prompts.length} prompts, ${completions.length} completions and ${coefs?.length ?? 'no'} coefficient rows`, {
        fix: 'pass one completion and one coefficient row per prompt',
      });
    }
    const B = prompts.length;
    const P = imageTokens(cfg);
    const layout = packBatch(prompts.map((p) => p.promptIds), completions, maxTextLen);
    const { T, promptLens } = layout;
    const positions = positionsFromMask(layout.mask);
    const match = cfg.optionMatch ? optionMatchGrid(layout.ids, B, T, cfg.optionMatch) : null;
    const tok = weights.get('tok_emb')!;
    const pos = weights.get('txt_pos')!;
    const opt = weights.get('opt_emb');
    const embedded = new Float32Array(B * T * d);
    for (let r = 0; r < B * T; r++) {
      const out = r * d;
      const ti = layout.ids[r]! * d;
      const pi = positions[r]! * d;
      for (let c = 0; c < d; c++) embedded[out + c] = tok[ti + c]! + pos[pi + c]!;
      if (match && opt) {
        for (let L = 0; L < OPTION_COUNT; L++) {
          const m = match[r * OPTION_COUNT + L]!;
          if (m !== 0) for (let c = 0; c < d; c++) embedded[out + c] += m * opt[L * d + c]!;
        }
      }
    }
    const R = completions.reduce((a, c) => a + c.length, 0);
    const rows = new BigInt64Array(R);
    const targets = new BigInt64Array(R);
    const coef = new Float32Array(R);
    let k = 0;
    completions.forEach((c, b) => {
      if (coefs && coefs[b]!.length < c.length) {
        throw new MedadError(ErrorCode.BadUserInput, `Completion ${b} has ${c.length} tokens but ${coefs[b]!.length} coefficients`, { fix: 'pass one coefficient per completion token' });
      }
      for (let j = 0; j < c.length; j++, k++) {
        rows[k] = BigInt(b * T + promptLens[b]! - 1 + j);
        targets[k] = BigInt(c[j]!);
        if (coefs) coef[k] = coefs[b]![j]!;
      }
    });
    const patchLen = prompts[0]!.patches.length;
    const patches = new Float32Array(B * patchLen);
    prompts.forEach((p, b) => patches.set(p.patches, b * patchLen));
    const feeds: Record<string, ort.Tensor> = {
      patches: new ort.Tensor('float32', patches, [B, P, patchLen / P]),
      text_embedded: new ort.Tensor('float32', embedded, [B * T, d]),
      bias: new ort.Tensor('float32', textBiasData(T, P, 0, layout.mask), [B, 1, T, P + T]),
      rows: new ort.Tensor('int64', rows, [R]),
      targets: new ort.Tensor('int64', targets, [R]),
    };
    if (coefs) feeds.coef = new ort.Tensor('float32', coef, [R]);
    for (const [name, shape] of weightShapes(cfg)) feeds[name] = new ort.Tensor('float32', weights.get(name)!, shape);
    return { feeds, ids: layout.ids, positions, match };
  }

  /** Scatters the text embeddings' gradients back to the rows of tok_emb, txt_pos and opt_emb they were looked up from. */
  private scatterEmbeddingGrads(
    weights: ReadonlyMap<string, Float32Array>,
    batch: { ids: Int32Array; positions: Int32Array; match: Float32Array | null },
    gEmb: Float32Array,
    grads: Map<string, Float32Array>,
  ): void {
    const d = this.config.dModel;
    const { ids, positions, match } = batch;
    const gTok = new Float32Array(weights.get('tok_emb')!.length);
    const gPos = new Float32Array(weights.get('txt_pos')!.length);
    const opt = weights.get('opt_emb');
    const gOpt = opt && match ? new Float32Array(opt.length) : null;
    for (let r = 0; r < ids.length; r++) {
      const src = r * d;
      const ti = ids[r]! * d;
      const pi = positions[r]! * d;
      for (let c = 0; c < d; c++) {
        const v = gEmb[src + c]!;
        gTok[ti + c] += v;
        gPos[pi + c] += v;
      }
      if (match && gOpt) {
        for (let L = 0; L < OPTION_COUNT; L++) {
          const m = match[r * OPTION_COUNT + L]!;
          if (m !== 0) for (let c = 0; c < d; c++) gOpt[L * d + c] += m * gEmb[src + c]!;
        }
      }
    }
    grads.set('tok_emb', gTok);
    grads.set('txt_pos', gPos);
    if (gOpt) grads.set('opt_emb', gOpt);
  }

  /** Ends profiling of an instance opened with `profileFilePrefix`: ORT writes its profile files then. */
  endProfiling(): void {
    this.sessions.grad?.endProfiling();
    this.sessions.logp.endProfiling();
  }

  /** Frees the sessions. */
  async release(): Promise<void> {
    await this.sessions.grad?.release();
    await this.sessions.logp.release();
  }
}

/** Splits per-target values back into one row per completion. */
function splitRows(values: Float32Array, completions: readonly (readonly number[])[]): Float32Array[] {
  const out: Float32Array[] = [];
  let k = 0;
  for (const c of completions) {
    out.push(values.slice(k, k + c.length));
    k += c.length;
  }
  return out;
}
