import * as tf from '@tensorflow/tfjs';
import { ErrorCode, MedadError, SeededRng } from '@medad/core';
import { embeddingLookup } from '../ops/embedding.js';
import { linear } from '../ops/linear.js';
import { layerNorm } from '../ops/norm.js';
import { MASKED_SCORE, attentionSingleQuery, headMasks, type AttentionImpl } from './attention.js';
import { headDim, imageTokens, weightShapes, type VlmConfig } from './config.js';
import { Layers } from './layers.js';
import { OPTION_COUNT, optionMatchGrid } from './option-match.js';
import { Rotary, type RotaryAngles } from './rotary.js';
import { TfOps } from './tf-ops.js';

/** Keys and values of one layer, heads concatenated: `[rows, positions, dModel]`. */
export interface LayerKV {
  k: tf.Tensor3D;
  v: tf.Tensor3D;
}

/** Runtime options of a model (not part of the weights or `config.json`). */
export interface VlmModelOptions {
  /** Full-sequence attention implementation; default `batched` on the tensorflow backend, else `per-sample`. */
  attention?: AttentionImpl | 'auto';
}

let modelCounter = 0;

function initStd(cfg: VlmConfig, name: string, shape: number[]): number | 'zeros' | 'ones' {
  if (name.endsWith('.g')) return 'ones';
  if (shape.length === 1) return 'zeros';
  if (name === 'patch.w' || name === 'stem.w1') return 1 / Math.sqrt(shape[0]!);
  if (name === 'stem.w2') return 0.5 / Math.sqrt(shape[0]!);
  if (name.startsWith('img_pos') || name === 'txt_pos' || name === 'tok_emb' || name === 'opt_emb') return cfg.posInitStd;
  if (name.endsWith('attn.wo') || name.endsWith('mlp.w2')) return 0.02 / Math.sqrt(2 * cfg.nLayers);
  return 0.02;
}

/** Seeded initial weights under the names of ARCHITECTURE.md. */
export function initWeights(cfg: VlmConfig, seed: number): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of weightShapes(cfg)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const std = initStd(cfg, name, shape);
    if (std === 'ones') data.fill(1);
    else if (std !== 'zeros') {
      const rng = new SeededRng(`${seed}:${name}`);
      for (let i = 0; i < size; i++) data[i] = rng.normal(0, std);
    }
    out.set(name, data);
  }
  return out;
}

/**
 * The MedAD vision-language transformer (ARCHITECTURE.md): patch embeddings with 2-D positions as
 * a prefix to a pre-norm decoder; weights are `tf.Variable`s named as in the contract. The image
 * tower and the blocks are the shared {@link Layers} over tfjs ({@link TfOps}), the same
 * description the ONNX graphs are built from; this class adds the embeddings, the KV cache and
 * rotary positions.
 */
export class VlmModel {
  readonly params = new Map<string, tf.Variable>();
  readonly attention: AttentionImpl;
  private readonly heads: tf.Tensor3D;
  private readonly rotary: Rotary | null;
  private readonly ops: TfOps;

  private constructor(readonly config: VlmConfig, weights: Map<string, Float32Array>, options: VlmModelOptions) {
    this.attention = options.attention && options.attention !== 'auto' ? options.attention : tf.getBackend() === 'tensorflow' ? 'batched' : 'per-sample';
    const id = ++modelCounter;
    for (const [name, shape] of weightShapes(config)) {
      const data = weights.get(name);
      const size = shape.reduce((a, b) => a * b, 1);
      if (!data || data.length !== size) {
        this.dispose();
        throw new MedadError(ErrorCode.InvalidData, `Weight "${name}" ${data ? `has ${data.length} values` : 'is missing'}, expected shape [${shape.join(', ')}]`, {
          fix: 'load weights written for this config (check config.json beside model.safetensors)',
        });
      }
      const init = tf.tensor(data, shape, 'float32');
      this.params.set(name, tf.variable(init, true, `vlm${id}/${name}`));
      init.dispose(); // the variable keeps its own reference to the data
    }
    this.heads = tf.keep(headMasks(config.nHeads, config.dModel));
    this.rotary = config.rotaryDims ? new Rotary(config) : null;
    this.ops = new TfOps(config.nHeads, this.attention, this.heads);
  }

  /** The shared layers over this model's variables (one per forward: its fused-projection cache lives in the caller's tidy). */
  private layers(): Layers<tf.Tensor, number[]> {
    return new Layers(this.ops, this.config, (name) => this.p(name));
  }

  /** A freshly initialised model (seeded: same seed, same weights). */
  static create(config: VlmConfig, seed: number, options: VlmModelOptions = {}): VlmModel {
    return new VlmModel(config, initWeights(config, seed), options);
  }

  /** A model holding the given weights (e.g. read from safetensors). */
  static fromWeights(config: VlmConfig, weights: Map<string, Float32Array>, options: VlmModelOptions = {}): VlmModel {
    return new VlmModel(config, weights, options);
  }

  /** The variable of a weight name. */
  p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new MedadError(ErrorCode.Internal, `No weight named "${name}"`, { fix: `use one of ${[...this.params.keys()].slice(0, 6).join(', ')}…` });
    return v;
  }

  /** Number of scalar parameters. */
  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }

  /**
   * Text tokens `[B, T, d]`: `tok_emb[id] + txt_pos[position]` (lookups with a working wasm gradient),
   * plus `optionMatch · opt_emb` when the config has `optionMatch`. `optionMatch` `[B·T, 4]` holds the
   * exact-match features ({@link optionMatchGrid}); when omitted they are computed from `ids`, which
   * must then be whole rows (prompt, then completion).
   */
  embedText(ids: tf.Tensor2D, positions: tf.Tensor2D, optionMatch?: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = ids.shape;
    const d = this.config.dModel;
    const tok = embeddingLookup(this.p('tok_emb') as tf.Variable<tf.Rank.R2>, ids.reshape([-1]) as tf.Tensor1D);
    const pos = embeddingLookup(this.p('txt_pos') as tf.Variable<tf.Rank.R2>, positions.reshape([-1]) as tf.Tensor1D);
    let x = tok.add(pos);
    const markers = this.config.optionMatch;
    if (markers) {
      const match = optionMatch ?? tf.tensor2d(optionMatchGrid(ids.dataSync(), B, T, markers), [B * T, OPTION_COUNT]);
      x = x.add(tf.matMul(match, this.p('opt_emb') as tf.Variable<tf.Rank.R2>));
    }
    return x.reshape([B, T, d]);
  }

  private ln(x: tf.Tensor, name: string): tf.Tensor {
    return layerNorm(x, this.p(`${name}.g`) as tf.Variable<tf.Rank.R1>, this.p(`${name}.b`) as tf.Variable<tf.Rank.R1>, this.config.normEps);
  }

  /**
   * Runs all blocks on query tokens `h` `[B, Lq, d]` whose keys/values are `[past ; h]`
   * (`past[i]` per layer, or none); `bias` `[B, Lq, Lpast + Lq]`. `rotary` holds the rotary angles of
   * `h`'s text positions ({@link rotaryAngles}; omit for image tokens, which are not rotated).
   * Returns the final hidden states (before `ln_f`) and each layer's keys/values of `h` (keys rotated).
   * `layers` runs only the first blocks (default all).
   */
  blocks(h: tf.Tensor3D, bias: tf.Tensor3D, past?: readonly LayerKV[], rotary?: RotaryAngles, layers = this.config.nLayers): { hidden: tf.Tensor3D; kv: LayerKV[] } {
    const [B, Lq, d] = h.shape;
    const L = this.layers();
    const kv: LayerKV[] = [];
    const shape5 = [-1, Lq, 3, this.config.nHeads, headDim(this.config)];
    let x: tf.Tensor = h.reshape([B * Lq, d]);
    for (let i = 0; i < layers; i++) {
      x = L.block(x, i, shape5, ({ q, k, v }) => {
        if (this.rotary && rotary) {
          q = this.rotary.apply(q, rotary);
          k = this.rotary.apply(k, rotary);
        }
        kv.push({ k: k as tf.Tensor3D, v: v as tf.Tensor3D });
        const pk = past?.[i];
        return L.attention(q, pk ? tf.concat([pk.k, k], 1) : k, pk ? tf.concat([pk.v, v], 1) : v, bias);
      });
    }
    return { hidden: x.reshape([B, Lq, d]) as tf.Tensor3D, kv };
  }

  /**
   * One decoding step for `N` rows: token embeddings `e` `[N, d]` attend to the cache plus
   * themselves; `bias` `[N, S + 1]`; `rotary` the rotary angles of their text positions
   * ({@link rotaryAngles}; required when the config has `rotaryDims`). Returns hidden `[N, d]`
   * (before `ln_f`) and the new keys/values.
   */
  decodeStep(e: tf.Tensor2D, cache: readonly LayerKV[], bias: tf.Tensor2D, rotary?: RotaryAngles): { hidden: tf.Tensor2D; kv: LayerKV[] } {
    const [N, d] = e.shape;
    const L = this.layers();
    const kv: LayerKV[] = [];
    const shape5 = [-1, 1, 3, this.config.nHeads, headDim(this.config)];
    let h: tf.Tensor = e;
    for (let i = 0; i < this.config.nLayers; i++) {
      h = L.block(h, i, shape5, ({ q, k, v }) => {
        // One query per row [N, 1, d]: elementwise attention over the cache (no matMul).
        let q2 = q.reshape([N, d]) as tf.Tensor2D;
        if (this.rotary) {
          if (!rotary) throw new MedadError(ErrorCode.Internal, 'decodeStep needs the rotary angles of its rows', { fix: 'pass model.rotaryAngles(positions)' });
          q2 = this.rotary.apply(q2, rotary) as tf.Tensor2D;
          k = this.rotary.apply(k, rotary);
        }
        kv.push({ k: k as tf.Tensor3D, v: v as tf.Tensor3D });
        const keys = tf.concat([cache[i]!.k, k], 1) as tf.Tensor3D;
        const values = tf.concat([cache[i]!.v, v], 1) as tf.Tensor3D;
        return attentionSingleQuery(q2, keys, values, bias, this.config.nHeads);
      });
    }
    return { hidden: h as tf.Tensor2D, kv };
  }

  /** Rotary angles of text positions (row-major over tokens), or undefined without `rotaryDims`. */
  rotaryAngles(positions: ArrayLike<number>): RotaryAngles | undefined {
    return this.rotary?.angles(positions);
  }

  /** Logits `[..., V]` = `LN_f(hidden) · lm_head.w` from hidden states before `ln_f`. */
  logits(hidden: tf.Tensor): tf.Tensor {
    return linear(this.ln(hidden, 'ln_f'), this.p('lm_head.w') as tf.Variable<tf.Rank.R2>);
  }

  /** Image keys/values per layer for image tokens `[B, P, d]`: computed once, the head of every KV cache. */
  imagePrefix(patches: tf.Tensor3D): LayerKV[] {
    return this.layers().imageTower(patches).kv as LayerKV[];
  }

  /**
   * Teacher-forced forward over `[image prefix ; text]`: hidden states `[B, T, d]` of the text
   * positions after `ln_f`. `mask` `[B][T]` is the text attention mask (1 real, 0 padding);
   * positions count real text tokens from 0 (so left padding does not shift them).
   */
  forward(patches: tf.Tensor3D, ids: tf.Tensor2D, mask: readonly (readonly number[])[]): tf.Tensor3D {
    const imageKV = this.imagePrefix(patches);
    const pos = positionsFromMask(mask);
    const positions = tf.tensor2d(pos, ids.shape, 'int32');
    const bias = textBias(ids.shape[1], this.imageTokens, 0, mask);
    const { hidden } = this.blocks(this.embedText(ids, positions), bias, imageKV, this.rotaryAngles(pos));
    return this.ln(hidden, 'ln_f') as tf.Tensor3D;
  }

  /**
   * Grounding logits `[B, P]` (ARCHITECTURE.md step 8; needs `config.groundingHead`): each image
   * token's hidden state entering the last block, times `ground.w`, plus `ground.b`.
   */
  groundingLogits(patches: tf.Tensor3D): tf.Tensor2D {
    if (!this.config.groundingHead) {
      throw new MedadError(ErrorCode.BadUserInput, 'This model has no grounding head', { fix: 'create it with config { groundingHead: true } (SFT --grounding does this for a fresh model)' });
    }
    const [B, P] = patches.shape;
    const L = this.layers();
    const { lastInput } = L.imageTower(patches, this.config.nLayers - 1);
    return L.linear(lastInput, 'ground.w', 'ground.b', this.config.dModel, 1).reshape([B, P]) as tf.Tensor2D;
  }

  /** Logits `[B, T, V]` for text positions (ARCHITECTURE.md step 7). */
  forwardLogits(patches: tf.Tensor3D, ids: tf.Tensor2D, mask: readonly (readonly number[])[]): tf.Tensor3D {
    return linear(this.forward(patches, ids, mask), this.p('lm_head.w') as tf.Variable<tf.Rank.R2>) as tf.Tensor3D;
  }

  /** Weight values as plain arrays (for safetensors), in the contract's order. */
  weights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name] of weightShapes(this.config)) out.set(name, this.p(name).dataSync() as Float32Array);
    return out;
  }

  /** Overwrites every weight with the values of another model of the same config. */
  copyFrom(other: VlmModel): void {
    for (const [name, v] of this.params) v.assign(other.p(name));
  }

  /** Number of image tokens P. */
  get imageTokens(): number {
    return imageTokens(this.config);
  }

  /** Frees the variables. */
  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
    this.heads?.dispose();
    this.rotary?.dispose();
  }
}

/** Text positions per slot: the count of real tokens before it (0 for padding). */
export function positionsFromMask(mask: readonly (readonly number[])[]): Int32Array {
  const T = mask[0]?.length ?? 0;
  const out = new Int32Array(mask.length * T);
  mask.forEach((row, b) => {
    let n = 0;
    for (let t = 0; t < T; t++) if (row[t]) out[b * T + t] = n++;
  });
  return out;
}

/**
 * Attention bias `[B, Tq, P + Tk]` for `Tq` text queries: image keys always visible; text key `s` visible
 * to query `t` when `keyMask[b][s]` is 1 and `s ≤ t + offset` (queries sit at key slots `offset..`).
 */
export function textBias(Tq: number, P: number, offset: number, keyMask: readonly (readonly number[])[]): tf.Tensor3D {
  return tf.tensor3d(textBiasData(Tq, P, offset, keyMask), [keyMask.length, Tq, P + (keyMask[0]?.length ?? 0)]);
}

/** The values of {@link textBias}, row-major `[B, Tq, P + Tk]`. */
export function textBiasData(Tq: number, P: number, offset: number, keyMask: readonly (readonly number[])[]): Float32Array {
  const B = keyMask.length;
  const Tk = keyMask[0]?.length ?? 0;
  const L = P + Tk;
  const data = new Float32Array(B * Tq * L);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < Tq; t++) {
      const row = (b * Tq + t) * L;
      const limit = Math.min(t + offset, Tk - 1);
      for (let s = 0; s < Tk; s++) if (s > limit || !keyMask[b]![s]) data[row + P + s] = MASKED_SCORE;
    }
  return data;
}
