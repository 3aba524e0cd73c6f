import { gridSize, headDim, imageTokens, type VlmConfig } from '../vlm/config.js';
import { stemOrder } from '../vlm/stem.js';
import type { Tape } from './autodiff.js';

/** A weight by its ARCHITECTURE.md name and shape: an initializer, a graph input, or a watched input of a gradient graph. */
export type WeightRef = (name: string, dims: readonly number[]) => string;

/** Keys and values of one attention layer, `[B, H, N, dHead]`. */
export interface LayerKv {
  k: string;
  v: string;
}

/**
 * The MedAD transformer's layers (packages/policy/ARCHITECTURE.md), written once for every ONNX
 * graph: the inference graphs (image encoder, decoder) and the gradient graph build their model
 * from these, through a {@link Tape}. A tape with nothing watched emits the forward nodes only; the
 * gradient graph watches the weights, so the same calls also record the backward pass. What
 * differs between graphs stays with them: where the weights come from ({@link WeightRef}), how
 * text attends (cache, mask or bias: the `attend` callback of {@link block}) and the embeddings.
 */
export class Layers {
  private readonly fusedQkv = new Map<number, { w: string; b: string }>();

  constructor(
    readonly t: Tape,
    readonly cfg: VlmConfig,
    readonly w: WeightRef,
  ) {}

  /** `x · W + b` on 2-D tokens `x` `[M, inDim]`, W `[inDim, outDim]`. */
  linear(x: string, wName: string, bName: string, inDim: number, outDim: number): string {
    return this.t.addBroadcast(this.t.matmul(x, this.w(wName, [inDim, outDim])), this.w(bName, [outDim]));
  }

  layerNorm(x: string, prefix: string): string {
    const d = this.cfg.dModel;
    return this.t.layerNorm(x, this.w(`${prefix}.g`, [d]), this.w(`${prefix}.b`, [d]), this.cfg.normEps);
  }

  /** The tanh-approximated GELU of ARCHITECTURE.md (in the shape ORT's FastGeluFusion matches), or ReLU. */
  activation(x: string): string {
    return this.cfg.activation === 'gelu' ? this.t.gelu(x) : this.t.relu(x);
  }

  /**
   * Queries, keys and values `[B, H, N, dHead]` of layer `i` from pre-normed tokens `x` `[B·N, d]`:
   * one fused `[d, 3d]` projection (the Concat of wq|wk|wv, made once per layer and constant-folded
   * by ORT when the weights are initializers) split by a reshape to `shape5` = `[B, N, 3, H, dHead]`.
   */
  qkv(x: string, i: number, shape5: string): { q: string; k: string; v: string } {
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
  attention(q: string, k: string, v: string, bias: string | null): string {
    return this.t.attention(q, k, v, bias, 1 / Math.sqrt(headDim(this.cfg)));
  }

  /**
   * One pre-norm block on tokens `h` `[B·N, d]`: `h + wo·attend(LN1(h))`, then `+ MLP(LN2(h))`.
   * `attend` gets the layer's queries, keys and values and returns the attended context
   * `[B, H, N, dHead]` (over a cache, a mask or a bias: the graph's choice).
   */
  block(h: string, i: number, shape5: string, attend: (qkv: { q: string; k: string; v: string }) => string): string {
    const t = this.t;
    const { dModel: d, dFF } = this.cfg;
    const ctx = attend(this.qkv(this.layerNorm(h, `layers.${i}.ln1`), i, shape5));
    h = t.add(h, this.linear(t.reshape(t.transpose(ctx, [0, 2, 1, 3]), t.g.int64([-1, d])), `layers.${i}.attn.wo`, `layers.${i}.attn.bo`, d, d));
    const hidden = this.activation(this.linear(this.layerNorm(h, `layers.${i}.ln2`), `layers.${i}.mlp.w1`, `layers.${i}.mlp.b1`, d, dFF));
    return t.add(h, this.linear(hidden, `layers.${i}.mlp.w2`, `layers.${i}.mlp.b2`, dFF, d));
  }

  /**
   * The image tower (ARCHITECTURE.md §1–2) from patches `[B, P, 3p²]`: the patch projection (and
   * the nonlinear stem), the 2-D positions, then the layers. Returns every layer's keys and values
   * (the image prefix the text attends to) and `lastInput`, the tokens `[B·P, d]` entering the last
   * layer (its outputs reach no text token, so that layer only makes keys and values; the grounding
   * head reads them).
   */
  imageTower(patches: string): { kv: LayerKv[]; lastInput: string } {
    const t = this.t;
    const g = t.g;
    const cfg = this.cfg;
    const { dModel: d, patchSize: p, nHeads: H, nLayers } = cfg;
    const P = imageTokens(cfg);
    const grid = gridSize(cfg);
    let projected = this.linear(t.reshape(patches, g.int64([-1, 3 * p * p])), 'patch.w', 'patch.b', 3 * p * p, d);
    if (cfg.patchStem) {
      // Nonlinear stem (ARCHITECTURE.md §1a): quarters [B·P·4, 3(p/2)²] → ReLU [B·P, 4C] → + [B·P, d].
      const C = cfg.patchStem;
      const quarters = g.op('Reshape', [g.op('Gather', [patches, g.int64(stemOrder(p))], { axis: { int: 2 } }), g.int64([-1, 3 * (p / 2) ** 2])]);
      const feats = t.reshape(t.relu(this.linear(quarters, 'stem.w1', 'stem.b1', 3 * (p / 2) ** 2, C)), g.int64([-1, 4 * C]));
      projected = t.add(projected, t.matmul(feats, this.w('stem.w2', [4 * C, d])));
    }
    const pos = t.gridPositions(this.w('img_pos.row', [grid, d]), this.w('img_pos.col', [grid, d]), grid, d);
    // Tokens stay 2-D ([B·P, d]) between attention blocks, so every linear layer is one plain GEMM.
    let h = t.reshape(t.addBroadcast(t.reshape(projected, g.int64([-1, P, d])), pos), g.int64([-1, d]));
    const shape5 = g.int64([-1, P, 3, H, headDim(cfg)]);
    const kv: LayerKv[] = [];
    for (let i = 0; i < nLayers; i++) {
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
