import { gridSize, headDim, imageTokens, type VlmConfig } from '../vlm/config.js';
import { argmax } from '../sampling.js';
import { applyRotaryRows, rotaryTables } from '../vlm/rotary.js';
import { stemOrder } from '../vlm/stem.js';
import { OPTION_COUNT, optionMatchGrid } from '../vlm/option-match.js';
import { MASKED_SCORE } from './graphs.js';
import { checkWeights, type WeightSource } from './weights.js';

type Mat = Float64Array<ArrayBufferLike>; // row-major [rows, cols]

function linear(x: Mat, rows: number, inDim: number, w: Float32Array, b: Float32Array | null, outDim: number): Mat {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    const yo = r * outDim;
    for (let k = 0; k < inDim; k++) {
      const xv = x[r * inDim + k]!;
      if (xv === 0) continue;
      const wo = k * outDim;
      for (let c = 0; c < outDim; c++) y[yo + c]! += xv * w[wo + c]!;
    }
    if (b) for (let c = 0; c < outDim; c++) y[yo + c]! += b[c]!;
  }
  return y;
}

function layerNorm(x: Mat, rows: number, d: number, g: Float32Array, b: Float32Array, eps: number): Mat {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let c = 0; c < d; c++) mean += x[r * d + c]!;
    mean /= d;
    let v = 0;
    for (let c = 0; c < d; c++) v += (x[r * d + c]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let c = 0; c < d; c++) y[r * d + c] = (x[r * d + c]! - mean) * inv * g[c]! + b[c]!;
  }
  return y;
}

function act(x: number, kind: VlmConfig['activation']): number {
  if (kind === 'relu') return Math.max(0, x);
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** The image's `P` token embeddings (patch projection + 2-D positions), ARCHITECTURE.md Forward §1–2. */
function imageEmbeddings(cfg: VlmConfig, w: ReadonlyMap<string, Float32Array>, pixels: Float32Array): Mat {
  const { imageSize: S, patchSize: p, dModel: d } = cfg;
  const g = gridSize(cfg);
  const flat = new Float64Array(g * g * 3 * p * p);
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      const base = (r * g + c) * 3 * p * p;
      for (let py = 0; py < p; py++) {
        for (let px = 0; px < p; px++) {
          for (let ch = 0; ch < 3; ch++) {
            flat[base + (py * p + px) * 3 + ch] = pixels[ch * S * S + (r * p + py) * S + (c * p + px)]!;
          }
        }
      }
    }
  }
  const e = linear(flat, g * g, 3 * p * p, w.get('patch.w')!, w.get('patch.b')!, d);
  if (cfg.patchStem) {
    // ARCHITECTURE.md §1a: quarters → ReLU(· stem.w1 + stem.b1) → concatenated · stem.w2, added.
    const C = cfg.patchStem;
    const q = 3 * (p / 2) ** 2;
    const order = stemOrder(p);
    const quarters = new Float64Array(g * g * 4 * q);
    for (let t = 0; t < g * g; t++) for (let j = 0; j < 4 * q; j++) quarters[t * 4 * q + j] = flat[t * 3 * p * p + order[j]!]!;
    const feats = linear(quarters, g * g * 4, q, w.get('stem.w1')!, w.get('stem.b1')!, C).map((x) => Math.max(0, x));
    const stem = linear(feats, g * g, 4 * C, w.get('stem.w2')!, null, d);
    for (let i = 0; i < e.length; i++) e[i]! += stem[i]!;
  }
  const row = w.get('img_pos.row')!;
  const col = w.get('img_pos.col')!;
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      for (let k = 0; k < d; k++) e[(r * g + c) * d + k]! += row[r * d + k]! + col[c * d + k]!;
    }
  }
  return e;
}

/**
 * The model's forward pass in plain Float64 TypeScript, straight from ARCHITECTURE.md (one
 * sequence, no cache, no padding): returns the text positions' logits `[T, vocabSize]`.
 * `pixels` is one normalised image `[3, S, S]` (NCHW). This is the ground truth for parity tests.
 */
export function referenceForward(config: VlmConfig, weights: WeightSource, pixels: Float32Array, textIds: readonly number[]): Float64Array {
  const w = checkWeights(config, weights, 'referenceForward');
  const cfg = config;
  const { dModel: d, nHeads: H, dFF, vocabSize: V } = cfg;
  const dh = headDim(cfg);
  const P = imageTokens(cfg);
  const T = textIds.length;
  const N = P + T;
  const h = new Float64Array(N * d);
  h.set(imageEmbeddings(cfg, w, pixels));
  const tokEmb = w.get('tok_emb')!;
  const txtPos = w.get('txt_pos')!;
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < d; k++) h[(P + t) * d + k] = tokEmb[textIds[t]! * d + k]! + txtPos[t * d + k]!;
  }
  if (cfg.optionMatch) {
    const match = optionMatchGrid(textIds, 1, T, cfg.optionMatch);
    const optEmb = w.get('opt_emb')!;
    for (let t = 0; t < T; t++)
      for (let L = 0; L < OPTION_COUNT; L++) if (match[t * OPTION_COUNT + L]) for (let k = 0; k < d; k++) h[(P + t) * d + k]! += optEmb[L * d + k]!;
  }
  const scale = 1 / Math.sqrt(dh);
  const scores = new Float64Array(N);
  const rotary = cfg.rotaryDims ? rotaryTables(cfg) : null;
  const textPositions = Array.from({ length: T }, (_, t) => t);
  for (let i = 0; i < cfg.nLayers; i++) {
    const p = `layers.${i}`;
    const x = layerNorm(h, N, d, w.get(`${p}.ln1.g`)!, w.get(`${p}.ln1.b`)!, cfg.normEps);
    const q = linear(x, N, d, w.get(`${p}.attn.wq`)!, w.get(`${p}.attn.bq`)!, d);
    const k = linear(x, N, d, w.get(`${p}.attn.wk`)!, w.get(`${p}.attn.bk`)!, d);
    const v = linear(x, N, d, w.get(`${p}.attn.wv`)!, w.get(`${p}.attn.bv`)!, d);
    if (rotary) {
      // Text queries and keys are rotated by their text position; image rows are not.
      applyRotaryRows(q.subarray(P * d), textPositions, cfg, rotary);
      applyRotaryRows(k.subarray(P * d), textPositions, cfg, rotary);
    }
    const ctx = new Float64Array(N * d);
    for (let head = 0; head < H; head++) {
      const o = head * dh;
      for (let n = 0; n < N; n++) {
        // Image tokens see the image; text token t sees the image and text 0..t.
        let max = -Infinity;
        for (let m = 0; m < N; m++) {
          const allowed = n < P ? m < P : m <= n;
          let s = 0;
          for (let c = 0; c < dh; c++) s += q[n * d + o + c]! * k[m * d + o + c]!;
          scores[m] = allowed ? s * scale : MASKED_SCORE;
          max = Math.max(max, scores[m]!);
        }
        let sum = 0;
        for (let m = 0; m < N; m++) sum += scores[m] = Math.exp(scores[m]! - max);
        for (let m = 0; m < N; m++) {
          const a = scores[m]! / sum;
          if (a === 0) continue;
          for (let c = 0; c < dh; c++) ctx[n * d + o + c]! += a * v[m * d + o + c]!;
        }
      }
    }
    const attn = linear(ctx, N, d, w.get(`${p}.attn.wo`)!, w.get(`${p}.attn.bo`)!, d);
    for (let j = 0; j < N * d; j++) h[j]! += attn[j]!;
    const y = layerNorm(h, N, d, w.get(`${p}.ln2.g`)!, w.get(`${p}.ln2.b`)!, cfg.normEps);
    const hidden = linear(y, N, d, w.get(`${p}.mlp.w1`)!, w.get(`${p}.mlp.b1`)!, dFF);
    for (let j = 0; j < hidden.length; j++) hidden[j] = act(hidden[j]!, cfg.activation);
    const mlp = linear(hidden, N, dFF, w.get(`${p}.mlp.w2`)!, w.get(`${p}.mlp.b2`)!, d);
    for (let j = 0; j < N * d; j++) h[j]! += mlp[j]!;
  }
  const final = layerNorm(h.subarray(P * d), T, d, w.get('ln_f.g')!, w.get('ln_f.b')!, cfg.normEps);
  return linear(final, T, d, w.get('lm_head.w')!, null, V);
}

/** Greedy decoding by repeated full forwards (no cache): the reference for cached generation. */
export function referenceGreedy(
  config: VlmConfig,
  weights: WeightSource,
  pixels: Float32Array,
  promptIds: readonly number[],
  maxTokens: number,
  stopTokenIds: readonly number[] = [],
): number[] {
  const ids = [...promptIds];
  const out: number[] = [];
  const V = config.vocabSize;
  while (out.length < maxTokens && ids.length < config.maxTextLen) {
    const logits = referenceForward(config, weights, pixels, ids);
    const token = argmax(logits.subarray((ids.length - 1) * V, ids.length * V));
    out.push(token);
    ids.push(token);
    if (stopTokenIds.includes(token)) break;
  }
  return out;
}
