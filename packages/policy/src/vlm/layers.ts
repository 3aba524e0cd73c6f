import { gridSize, headDim, imageTokens, type VlmConfig } from './config.js';
import { stemOrder } from './stem.js';

/**
 * The tensor operations the MedAD layers are written in, over values `T` and shapes `S`: ONNX
 * graph values through the autodiff `Tape` (`T` a value name, `S` the name of an int64 shape value)
 * or tfjs tensors (`TfOps`: `T` a tensor, `S` a number array). Tokens between blocks are 2-D
 * `[B·N, d]`; the per-head layout of queries, keys and values is the backend's own (ONNX
 * `[B, H, N, dHead]`, tfjs `[B, N, d]`), made by {@link splitQkv} and undone by {@link mergeHeads}.
 */
export interface LayerOps<T, S> {
  /** A static shape (`-1` = inferred). */
  shape(dims: readonly number[]): S;
  /** `a · b` for 2-D `a` `[M, K]` and `b` `[K, N]`. */
  matmul(a: T, b: T): T;
  /** `x + b` for `x` `[M, N]` and a row vector `b` `[N]` (also `x` `[B, M, N]` + `b` `[M, N]`). */
  addBroadcast(x: T, b: T): T;
  /** `a + b`, same shapes. */
  add(a: T, b: T): T;
  reshape(x: T, shape: S): T;
  /** Concatenation along `axis`; `sizes` are the inputs' static extents on it (the last may be null). */
  concat(inputs: readonly T[], axis: number, sizes: ReadonlyArray<number | null>): T;
  /** LayerNorm over the last axis. */
  layerNorm(x: T, gamma: T, beta: T, eps: number): T;
  /** The tanh-approximated GELU of ARCHITECTURE.md. */
  gelu(x: T): T;
  relu(x: T): T;
  /** Fused projections `[B·N, 3d]` → queries, keys and values in the backend's per-head layout; `shape5` = `[B, N, 3, H, dHead]`. */
  splitQkv(fused: T, shape5: S): [T, T, T];
  /** An attention context in the per-head layout → tokens `[B·N, d]`. */
  mergeHeads(ctx: T, d: number): T;
  /** Scaled dot-product attention in the per-head layout, optional additive `bias` (not differentiated). */
  attention(q: T, k: T, v: T, bias: T | null, scale: number): T;
  /** The 2-D image position table `[g·g, d]` = `row[r] + col[c]`. */
  gridPositions(row: T, col: T, grid: number, d: number): T;
  /** Entries `indices` of `x` along `axis` (inputs only: not differentiated). */
  gatherInput(x: T, indices: readonly number[], axis: number): T;
}

/** A weight by its ARCHITECTURE.md name and shape (an initializer, a graph input, a watched input of a gradient graph, or a tfjs variable). */
export type WeightRef<T> = (name: string, dims: readonly number[]) => T;

/** Keys and values of one attention layer, in the backend's per-head layout. */
export interface LayerKv<T> {
  k: T;
  v: T;
}

/**
 * The MedAD transformer's layers (packages/policy/ARCHITECTURE.md), written once: the ONNX
 * inference graphs (image encoder, decoder) and the ONNX gradient graph build their model from
 * these through a `Tape`, and the tfjs model through `TfOps`. A tape with nothing watched emits
 * the forward nodes only; the gradient graph watches the weights, so the same calls also record
 * the backward pass (tfjs differentiates its own ops). What differs between models stays with
 * them: where the weights come from ({@link WeightRef}), how text attends (cache, mask or bias: the
 * `attend` callback of {@link block}) and the embeddings.
 */
export class Layers<T, S> {
  private readonly fusedQkv = new Map<number, { w: T; b: T }>();

  constructor(
    readonly t: LayerOps<T, S>,
    readonly cfg: VlmConfig,
    readonly w: WeightRef<T>,
  ) {}

  /** `x · W + b` on 2-D tokens `x` `[M, inDim]`, W `[inDim, outDim]`. */
  linear(x: T, wName: string, bName: string, inDim: number, outDim: number): T {
    return this.t.addBroadcast(this.t.matmul(x, this.w(wName, [inDim, outDim])), this.w(bName, [outDim]));
  }

  layerNorm(x: T, prefix: string): T {
    const d = this.cfg.dModel;
    return this.t.layerNorm(x, this.w(`${prefix}.g`, [d]), this.w(`${prefix}.b`, [d]), this.cfg.normEps);
  }

  /** The tanh-approximated GELU of ARCHITECTURE.md (in the shape ORT's FastGeluFusion matches), or ReLU. */
  activation(x: T): T {
    return this.cfg.activation === 'gelu' ? this.t.gelu(x) : this.t.relu(x);
  }

  /**
   * Queries, keys and values (per-head layout) of layer `i` from pre-normed tokens `x` `[B·N, d]`:
   * one fused `[d, 3d]` projection (the Concat of wq|wk|wv, made once per layer and constant-folded
   * by ORT when the weights are initializers) split by `shape5` = `[B, N, 3, H, dHead]`.
   */
  qkv(x: T, i: number, shape5: S): { q: T; k: T; v: T } {
    const t = this.t;
    const d = this.cfg.dModel;
    const a = `layers.${i}.attn`;
    let fused = this.fusedQkv.get(i);
    if (!fused) {
      fused = {
        w: t.concat(['wq', 'wk', 'wv'].map((m) => this.w(`${a}.${m}`, [d, d])), 1, [d, d, d]),
        b: t.concat(['bq', 'bk', 'bv'].map((m) => this.w(`${a}.${m}`, [d])), 0, [d, d, d]),
      };
      this.fusedQkv.set(i, fused);
    }
    const [q, k, v] = t.splitQkv(t.addBroadcast(t.matmul(x, fused.w), fused.b), shape5);
    return { q, k, v };
  }

  /** Scaled dot-product attention over `[B, H, ·, dHead]` with an optional additive `bias` `[B, 1, T, L]`. */
  attention(q: T, k: T, v: T, bias: T | null): T {
    return this.t.attention(q, k, v, bias, 1 / Math.sqrt(headDim(this.cfg)));
  }

  /**
   * One pre-norm block on tokens `h` `[B·N, d]`: `h + wo·attend(LN1(h))`, then `+ MLP(LN2(h))`.
   * `attend` gets the layer's queries, keys and values and returns the attended context
   * `[B, H, N, dHead]` (over a cache, a mask or a bias: the graph's choice).
   */
  block(h: T, i: number, shape5: S, attend: (qkv: { q: T; k: T; v: T }) => T): T {
    const t = this.t;
    const { dModel: d, dFF } = this.cfg;
    const ctx = attend(this.qkv(this.layerNorm(h, `layers.${i}.ln1`), i, shape5));
    h = t.add(h, this.linear(t.mergeHeads(ctx, d), `layers.${i}.attn.wo`, `layers.${i}.attn.bo`, d, d));
    const hidden = this.activation(this.linear(this.layerNorm(h, `layers.${i}.ln2`), `layers.${i}.mlp.w1`, `layers.${i}.mlp.b1`, d, dFF));
    return t.add(h, this.linear(hidden, `layers.${i}.mlp.w2`, `layers.${i}.mlp.b2`, dFF, d));
  }

  /**
   * The image tower (ARCHITECTURE.md §1–2) from patches `[B, P, 3p²]`: the patch projection (and
   * the nonlinear stem), the 2-D positions, then the layers. Returns every layer's keys and values
   * (the image prefix the text attends to) and `lastInput`, the tokens `[B·P, d]` entering the last
   * layer (its outputs reach no text token, so that layer only makes keys and values; the grounding
   * head reads them). `layers` < nLayers stops before the last layer's keys and values (what the
   * grounding head alone needs).
   */
  imageTower(patches: T, layers = this.cfg.nLayers): { kv: LayerKv<T>[]; lastInput: T } {
    const t = this.t;
    const cfg = this.cfg;
    const { dModel: d, patchSize: p, nHeads: H, nLayers } = cfg;
    const P = imageTokens(cfg);
    const grid = gridSize(cfg);
    let projected = this.linear(t.reshape(patches, t.shape([-1, 3 * p * p])), 'patch.w', 'patch.b', 3 * p * p, d);
    if (cfg.patchStem) {
      // Nonlinear stem (ARCHITECTURE.md §1a): quarters [B·P·4, 3(p/2)²] → ReLU [B·P, 4C] → + [B·P, d].
      const C = cfg.patchStem;
      const quarters = t.reshape(t.gatherInput(patches, stemOrder(p), 2), t.shape([-1, 3 * (p / 2) ** 2]));
      const feats = t.reshape(t.relu(this.linear(quarters, 'stem.w1', 'stem.b1', 3 * (p / 2) ** 2, C)), t.shape([-1, 4 * C]));
      projected = t.add(projected, t.matmul(feats, this.w('stem.w2', [4 * C, d])));
    }
    const pos = t.gridPositions(this.w('img_pos.row', [grid, d]), this.w('img_pos.col', [grid, d]), grid, d);
    // Tokens stay 2-D ([B·P, d]) between attention blocks, so every linear layer is one plain GEMM.
    let h = t.reshape(t.addBroadcast(t.reshape(projected, t.shape([-1, P, d])), pos), t.shape([-1, d]));
    const shape5 = t.shape([-1, P, 3, H, headDim(cfg)]);
    const kv: LayerKv<T>[] = [];
    for (let i = 0; i < layers; i++) {
      if (i === nLayers - 1) {
        const { k, v } = this.qkv(this.layerNorm(h, `layers.${i}.ln1`), i, shape5);
        kv.push({ k, v });
        break;
      }
      h = this.block(h, i, shape5, ({ q, k, v }) => {
        kv.push({ k, v });
        return this.attention(q, k, v, null);
      });
    }
    return { kv, lastInput: h };
  }
}
