import { gridSize, headDim, imageTokens, type VlmConfig } from '../vlm/config.js';
import { rotaryPermutation, rotaryTables } from '../vlm/rotary.js';
import { Tape } from './autodiff.js';
import { GraphBuilder } from './graph-builder.js';
import { Layers } from '../vlm/layers.js';
import type { CheckedWeights } from './weights.js';

/** Score given to masked attention entries before softmax (ARCHITECTURE.md, Forward §6). */
export const MASKED_SCORE = -1e9;

/** Symbolic dimension names (HF/optimum style). */
const BATCH = 'batch_size';
const SEQ = 'sequence_length';
const PAST = 'past_sequence_length';
const TOTAL = 'total_sequence_length';

/**
 * What the inference graphs add to the shared {@link Layers}: weights as initializers or inputs,
 * rotary positions, and attention over a boolean mask or a KV cache.
 */
class Emitter {
  readonly layers: Layers<string, string>;

  constructor(
    readonly g: GraphBuilder,
    readonly cfg: VlmConfig,
    private readonly weights: CheckedWeights | 'inputs',
  ) {
    this.layers = new Layers(new Tape(g), cfg, (name, dims) => this.w(name, dims));
  }

  /** The weight `name` with its ARCHITECTURE.md shape: an initializer, or a graph input of that name. */
  w(name: string, dims: readonly number[]): string {
    return this.weights === 'inputs' ? this.g.input(name, 'float', dims) : this.g.weight(name, this.weights.get(name)!, dims);
  }

  /**
   * Rotary position embedding (ARCHITECTURE.md) of queries or keys `x` `[B, H, T, dHead]`:
   * `x ⊙ cos + (x · R) ⊙ sin` with per-head tables gathered at the text `positions` `[B, T]`
   * (constant initializers `rotary.cos`, `rotary.sin` `[maxTextLen, dHead]`, `rotary.perm`
   * `[dHead, dHead]`; every head uses the same tables).
   */
  rotary(x: string, positions: string): string {
    const g = this.g;
    const { maxTextLen, dModel: d } = this.cfg;
    const dh = headDim(this.cfg);
    const tables = this.rotaryInputs ??= (() => {
      const { cos, sin } = rotaryTables(this.cfg);
      const headCols = (t: Float32Array): Float32Array => {
        const out = new Float32Array(maxTextLen * dh);
        for (let r = 0; r < maxTextLen; r++) out.set(t.subarray(r * d, r * d + dh), r * dh);
        return out;
      };
      const permFull = rotaryPermutation(this.cfg);
      const perm = new Float32Array(dh * dh);
      for (let r = 0; r < dh; r++) perm.set(permFull.subarray(r * d, r * d + dh), r * dh);
      const at = (name: string, t: Float32Array): string =>
        g.op('Unsqueeze', [g.op('Gather', [g.weight(name, headCols(t), [maxTextLen, dh]), positions], { axis: { int: 0 } }), g.int64([1])]);
      return { cos: at('rotary.cos', cos), sin: at('rotary.sin', sin), perm: g.weight('rotary.perm', perm, [dh, dh]) };
    })();
    return g.op('Add', [g.op('Mul', [x, tables.cos]), g.op('Mul', [g.op('MatMul', [x, tables.perm]), tables.sin])]);
  }

  private rotaryInputs: { cos: string; sin: string; perm: string } | undefined;

  /** Scaled dot-product attention over `[B, H, ·, dHead]`; `allowed` (bool) masks with {@link MASKED_SCORE}. */
  attend(q: string, k: string, v: string, allowed: string | null): string {
    const g = this.g;
    const kT = g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } });
    let scores = g.op('Mul', [g.op('MatMul', [q, kT]), g.scalar(1 / Math.sqrt(headDim(this.cfg)))]);
    if (allowed) scores = g.op('Where', [allowed, scores, g.scalar(MASKED_SCORE)]);
    return g.op('MatMul', [g.op('Softmax', [scores], { axis: { int: -1 } }), v]);
  }

  /**
   * {@link attend} over a cache `pastK/pastV` `[B, H, PAST, dHead]` and this call's own `k/v`
   * `[B, H, T, dHead]` without concatenating them: the scores of both are joined (`[B, H, T,
   * PAST + T]`, small), masked and normalised together, and each part's weights multiply its own
   * values. The same numbers as attending over the grown cache, without copying the cache.
   */
  attendSplit(q: string, pastK: string, pastV: string, k: string, v: string, allowed: string, pastLen: string): string {
    const g = this.g;
    const scale = g.scalar(1 / Math.sqrt(headDim(this.cfg)));
    const t = (x: string): string => g.op('Transpose', [x], { perm: { ints: [0, 1, 3, 2] } });
    const scores = g.op('Concat', [g.op('MatMul', [q, t(pastK)]), g.op('MatMul', [q, t(k)])], { axis: { int: -1 } });
    const weights = g.op('Softmax', [g.op('Where', [allowed, g.op('Mul', [scores, scale]), g.scalar(MASKED_SCORE)])], { axis: { int: -1 } });
    const at = g.op('Unsqueeze', [pastLen, g.int64([0])]);
    const axis = g.int64([3]);
    const wPast = g.op('Slice', [weights, g.int64([0]), at, axis]);
    const wOwn = g.op('Slice', [weights, at, g.int64([Number.MAX_SAFE_INTEGER]), axis]);
    return g.op('Add', [g.op('MatMul', [wPast, pastV]), g.op('MatMul', [wOwn, v])]);
  }
}

/**
 * With `weights = 'inputs'` the graphs take every weight as a graph input of its name instead of
 * an initializer, so one session serves weights that change (`OrtPolicy.setWeights`).
 */

/**
 * The image encoder: `pixel_values [B, 3, S, S]` (normalised NCHW) → `present.{i}.key/value
 * [B, nHeads, P, dHead]`, the image prefix's per-layer keys and values.
 */
export function buildImageEncoder(cfg: VlmConfig, weights: CheckedWeights | 'inputs'): Uint8Array {
  const g = new GraphBuilder('medad_image_encoder');
  const e = new Emitter(g, cfg, weights);
  const { patchSize: p, imageSize: S, nHeads: H } = cfg;
  const grid = gridSize(cfg);
  const P = imageTokens(cfg);
  const dh = headDim(cfg);
  const pixels = g.input('pixel_values', 'float', [BATCH, 3, S, S]);
  // [B, 3, g, p, g, p] → [B, g, g, p, p, 3] → [B, P, 3p²]: patches row-major, each in (py, px, c) order.
  const blocks = g.op('Reshape', [pixels, g.int64([0, 3, grid, p, grid, p])]);
  const patches = g.op('Reshape', [g.op('Transpose', [blocks], { perm: { ints: [0, 2, 4, 3, 5, 1] } }), g.int64([0, P, 3 * p * p])]);
  const { kv } = e.layers.imageTower(patches);
  kv.forEach(({ k, v }, i) => {
    g.op('Identity', [k], {}, `present.${i}.key`);
    g.op('Identity', [v], {}, `present.${i}.value`);
    g.output(`present.${i}.key`, 'float', [BATCH, H, P, dh]);
    g.output(`present.${i}.value`, 'float', [BATCH, H, P, dh]);
  });
  return g.toBytes('MedAD image encoder: the image prefix KV cache (packages/policy/ARCHITECTURE.md)');
}

/**
 * `full`: the decoder of the export contract, with `present.*` (the grown cache). `step`: the same
 * inputs, `logits`, `probs` (their softmax) and `new.*` only, attending over the cache and the new entries without
 * building the grown cache — ORT runs every node whatever is fetched, and concatenating the cache
 * was a third of a rollout step's kernel time. A decode loop with its own cache uses `step`.
 */
export type DecoderVariant = 'full' | 'step';

/**
 * The text decoder (HF/optimum convention): `input_ids [B, T]`, `attention_mask [B, pastLen + T]`,
 * `past_key_values.{i}.key/value` → `logits [B, T, V]`, `present.{i}.key/value` (the grown cache) and
 * `new.{i}.key/value` (this call's own entries).
 * A text token's position is the number of attended (mask 1) text tokens up to and including it,
 * minus one; without padding that is `pastLen − P + j` (ARCHITECTURE.md), and with left padding
 * it keeps each row's positions equal to its unpadded run.
 */
export function buildDecoder(cfg: VlmConfig, weights: CheckedWeights | 'inputs', variant: DecoderVariant = 'full'): Uint8Array {
  const step = variant === 'step';
  const g = new GraphBuilder(step ? 'medad_decoder_step' : 'medad_decoder');
  const e = new Emitter(g, cfg, weights);
  const { dModel: d, nHeads: H, nLayers, vocabSize: V, maxTextLen } = cfg;
  const P = imageTokens(cfg);
  const dh = headDim(cfg);
  const ids = g.input('input_ids', 'int64', [BATCH, SEQ]);
  const mask = g.input('attention_mask', 'int64', [BATCH, TOTAL]);
  const past: Array<{ k: string; v: string }> = [];
  for (let i = 0; i < nLayers; i++) {
    past.push({
      k: g.input(`past_key_values.${i}.key`, 'float', [BATCH, H, PAST, dh]),
      v: g.input(`past_key_values.${i}.value`, 'float', [BATCH, H, PAST, dh]),
    });
  }
  // Lengths as 0-d scalars: pastLen from the cache, total from the mask.
  const pastLen = g.op('Gather', [g.op('Shape', [past[0]!.k]), g.int64([2], true)], { axis: { int: 0 } });
  const total = g.op('Gather', [g.op('Shape', [mask]), g.int64([1], true)], { axis: { int: 0 } });
  // Text positions from the mask's running count of text tokens.
  const textMask = g.op('Slice', [mask, g.int64([P]), g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
  const counts = g.op('CumSum', [textMask, g.int64([1], true)]);
  const pastText = g.op('Unsqueeze', [g.op('Sub', [pastLen, g.int64([P], true)]), g.int64([0])]);
  const ownCounts = g.op('Slice', [counts, pastText, g.int64([Number.MAX_SAFE_INTEGER]), g.int64([1])]);
  const positions = g.op('Max', [g.op('Sub', [ownCounts, g.int64([1], true)]), g.int64([0], true)]);
  const tok = g.op('Gather', [e.w('tok_emb', [V, d]), ids], { axis: { int: 0 } });
  const posEmb = g.op('Gather', [e.w('txt_pos', [maxTextLen, d]), positions], { axis: { int: 0 } });
  let embedded = g.op('Add', [tok, posEmb]);
  if (cfg.optionMatch) {
    // Exact-match option features [B, T, 4] · opt_emb [4, d] (ARCHITECTURE.md).
    const match = g.input('option_match', 'float', [BATCH, SEQ, 4]);
    embedded = g.op('Add', [embedded, g.op('MatMul', [match, e.w('opt_emb', [4, d])])]);
  }
  let h = g.op('Reshape', [embedded, g.int64([-1, d])]); // [B·T, d]
  const bt = g.op('Shape', [ids]);
  const shape5 = g.op('Concat', [bt, g.int64([3, H, dh])], { axis: { int: 0 } });
  // allowed[b, 0, j, l] = mask[b, l] ∧ l ≤ pastLen + j (image keys l < P are always ≤ pastLen + j).
  const keyIdx = g.op('Range', [g.int64([0], true), total, g.int64([1], true)]);
  const rowIdx = g.op('Unsqueeze', [g.op('Range', [pastLen, total, g.int64([1], true)]), g.int64([1])]);
  const causal = g.op('LessOrEqual', [keyIdx, rowIdx]);
  const keyOk = g.op('Unsqueeze', [g.op('Cast', [mask], { to: { int: 9 } }), g.int64([1, 2])]);
  const allowed = g.op('And', [keyOk, causal]);
  for (let i = 0; i < nLayers; i++) {
    h = e.layers.block(h, i, shape5, (qkv) => {
      const v = qkv.v;
      const q = cfg.rotaryDims ? e.rotary(qkv.q, positions) : qkv.q;
      const k = cfg.rotaryDims ? e.rotary(qkv.k, positions) : qkv.k;
      let ctx: string;
      if (step) ctx = e.attendSplit(q, past[i]!.k, past[i]!.v, k, v, allowed, pastLen);
      else {
        const kAll = g.op('Concat', [past[i]!.k, k], { axis: { int: 2 } }, `present.${i}.key`);
        const vAll = g.op('Concat', [past[i]!.v, v], { axis: { int: 2 } }, `present.${i}.value`);
        g.output(kAll, 'float', [BATCH, H, TOTAL, dh]);
        g.output(vAll, 'float', [BATCH, H, TOTAL, dh]);
        ctx = e.attend(q, kAll, vAll, allowed);
      }
      // This call's own keys/values alone, so a caller keeping a preallocated cache fetches
      // [B, H, T, dHead] per step instead of the whole grown cache (ORT copies every fetched output).
      g.op('Identity', [k], {}, `new.${i}.key`);
      g.op('Identity', [v], {}, `new.${i}.value`);
      g.output(`new.${i}.key`, 'float', [BATCH, H, SEQ, dh]);
      g.output(`new.${i}.value`, 'float', [BATCH, H, SEQ, dh]);
      return ctx;
    });
  }
  const flatLogits = g.op('MatMul', [e.layers.layerNorm(h, 'ln_f'), e.w('lm_head.w', [d, V])]);
  g.op('Reshape', [flatLogits, g.op('Concat', [bt, g.int64([V])], { axis: { int: 0 } })], {}, 'logits');
  g.output('logits', 'float', [BATCH, SEQ, V]);
  if (step) {
    // The next-token distribution at temperature 1, so a sampling loop draws without an `exp` per token.
    g.op('Softmax', ['logits'], { axis: { int: -1 } }, 'probs');
    g.output('probs', 'float', [BATCH, SEQ, V]);
  }
  return g.toBytes(step ? 'MedAD text decoder, decode-step variant: no grown cache (packages/policy/ARCHITECTURE.md)' : 'MedAD text decoder with KV cache (packages/policy/ARCHITECTURE.md)');
}
