import * as tf from '@tensorflow/tfjs';
import { ErrorCode, MedadError, SeededRng } from '@medad/core';
import { layoutBatch, patchesTensor, type EncodedPrompt } from './logprobs.js';
import { generationRng, sampleToken, type GenerateOptions } from './sampling.js';
import { MASKED_SCORE } from './vlm/attention.js';
import { positionsFromMask, textBias, type LayerKV, type VlmModel } from './vlm/model.js';
import { OPTION_COUNT, optionMatchRows, optionWordSets } from './vlm/option-match.js';
import { SPECIAL_IDS } from './vlm/tokenizer.js';

/** Settings of {@link generateTokens}. */
export interface GenerationOptions extends GenerateOptions {
  /** KV cache (default true); false recomputes the whole sequence each step (reference path). */
  useCache?: boolean;
}

/** One generated completion, as token ids. */
export interface GeneratedSequence {
  tokens: number[];
  /** Log-prob of each token under the policy (temperature 1, no top-p). */
  tokenLogProbs: number[];
  logProb: number;
  /** True when a stop token (or `<eos>`, which is not kept) ended it before the budget. */
  finished: boolean;
}

export { generationRng };

interface Row {
  prompt: number;
  rng: SeededRng;
  promptLen: number;
  out: GeneratedSequence;
  active: boolean;
}

function disposeCache(cache: LayerKV[]): void {
  for (const kv of cache) {
    kv.k.dispose();
    kv.v.dispose();
  }
}

/**
 * Batched sampling (temperature, top-p, seed, G completions per prompt) that stops at `</answer>`;
 * with a KV cache whose image prefix is computed once per prompt, or without (reference path).
 * Token choice goes through `sampleToken`, shared with the ORT runtime, so both pick the same tokens.
 */
export function generateTokens(model: VlmModel, prompts: readonly EncodedPrompt[], options: GenerationOptions = {}): GeneratedSequence[][] {
  const G = options.groupSize ?? 1;
  if (!Number.isInteger(G) || G < 1) {
    throw new MedadError(ErrorCode.BadUserInput, `groupSize must be a positive integer, got ${G}`, { fix: 'use e.g. groupSize: 8 for GRPO' });
  }
  if (prompts.length === 0) return [];
  const cfg = model.config;
  const P = model.imageTokens;
  const layout = layoutBatch(prompts.map((p) => p.promptIds), [], cfg.maxTextLen);
  const Lp = layout.promptLen;
  const longest = Math.max(...prompts.map((p) => p.promptIds.length));
  const budget = Math.min(options.maxNewTokens ?? cfg.maxTextLen, cfg.maxTextLen - longest);
  const sampling = { temperature: options.temperature ?? 1, topP: options.topP ?? 1, greedy: options.greedy };
  const stop = new Set(options.stopIds ?? [SPECIAL_IDS.answerClose]);
  const seed = options.seed ?? 0;
  const rows: Row[] = [];
  prompts.forEach((p, i) => {
    for (let g = 0; g < G; g++) {
      rows.push({ prompt: i, rng: generationRng(seed, i, g), promptLen: p.promptIds.length, out: { tokens: [], tokenLogProbs: [], logProb: 0, finished: false }, active: true });
    }
  });
  const N = rows.length;
  const V = cfg.vocabSize;
  const rowPrompt = tf.tensor1d(rows.map((r) => r.prompt), 'int32');
  // Key visibility per row over the text slots (prompt slots, then one per generated step).
  const keyMask: number[][] = rows.map((r) => [...layout.mask[r.prompt]!]);
  const stepTokens: number[][] = rows.map(() => []);
  let cache: LayerKV[] = [];
  // Each prompt's option words, for the exact-match features of generated tokens.
  const markers = cfg.optionMatch;
  const optionSets = markers ? prompts.map((p) => optionWordSets(p.promptIds, markers)) : undefined;
  let logitRows: Float32Array;

  if (options.useCache ?? true) {
    const first = tf.tidy(() => {
      const patches = patchesTensor(prompts, P);
      const imageKV = model.imagePrefix(patches);
      const ids = tf.tensor2d(layout.ids, [prompts.length, Lp], 'int32');
      const pos = positionsFromMask(layout.mask);
      const positions = tf.tensor2d(pos, [prompts.length, Lp], 'int32');
      const bias = textBias(Lp, P, 0, layout.mask);
      const { hidden, kv } = model.blocks(model.embedText(ids, positions), bias, imageKV, model.rotaryAngles(pos));
      const last = hidden.slice([0, Lp - 1, 0], [prompts.length, 1, cfg.dModel]).reshape([prompts.length, cfg.dModel]);
      const logits = tf.gather(model.logits(last), rowPrompt);
      const full = kv.map((t, i) => ({
        k: tf.gather(tf.concat([imageKV[i]!.k, t.k], 1), rowPrompt) as tf.Tensor3D,
        v: tf.gather(tf.concat([imageKV[i]!.v, t.v], 1), rowPrompt) as tf.Tensor3D,
      }));
      return { logits, full };
    });
    cache = first.full;
    logitRows = first.logits.dataSync() as Float32Array;
    first.logits.dispose();
  } else {
    logitRows = noCacheLogits(model, prompts, rowPrompt, layout.ids, Lp, keyMask, stepTokens);
  }

  try {
    for (let step = 0; step < budget; step++) {
      const fed: number[] = new Array<number>(N).fill(SPECIAL_IDS.pad);
      for (let n = 0; n < N; n++) {
        const r = rows[n]!;
        if (!r.active) continue;
        const { token, logProb } = sampleToken(logitRows.subarray(n * V, (n + 1) * V), sampling, r.rng);
        if (token === SPECIAL_IDS.eos) {
          r.active = false;
          r.out.finished = true;
          continue;
        }
        r.out.tokens.push(token);
        r.out.tokenLogProbs.push(logProb);
        r.out.logProb += logProb;
        fed[n] = token;
        if (stop.has(token)) {
          r.active = false;
          r.out.finished = true;
        }
      }
      if (step === budget - 1 || rows.every((r) => !r.active)) break;
      // Rows that stopped still get a (masked) slot so the grid stays rectangular.
      rows.forEach((r, n) => {
        keyMask[n]!.push(r.active ? 1 : 0);
        stepTokens[n]!.push(r.active ? fed[n]! : SPECIAL_IDS.pad);
      });
      if (options.useCache ?? true) {
        const positions = rows.map((r) => (r.active ? r.promptLen + step : 0));
        const next = tf.tidy(() => {
          const fedIds = stepTokens.map((t) => t[step]!);
          const ids = tf.tensor2d(fedIds, [N, 1], 'int32');
          let match: tf.Tensor2D | undefined;
          if (optionSets) {
            const m = new Float32Array(N * OPTION_COUNT);
            rows.forEach((r, n) => optionMatchRows([fedIds[n]!], optionSets[r.prompt]!, m, n * OPTION_COUNT));
            match = tf.tensor2d(m, [N, OPTION_COUNT]);
          }
          const e = model.embedText(ids, tf.tensor2d(positions, [N, 1], 'int32'), match).reshape([N, cfg.dModel]) as tf.Tensor2D;
          const S = P + keyMask[0]!.length;
          const biasData = new Float32Array(N * S);
          keyMask.forEach((m, n) => m.forEach((on, s) => { if (!on) biasData[n * S + P + s] = MASKED_SCORE; }));
          const { hidden, kv } = model.decodeStep(e, cache, tf.tensor2d(biasData, [N, S]), model.rotaryAngles(positions));
          const logits = model.logits(hidden);
          const full = kv.map((t, i) => ({ k: tf.concat([cache[i]!.k, t.k], 1) as tf.Tensor3D, v: tf.concat([cache[i]!.v, t.v], 1) as tf.Tensor3D }));
          return { logits, full };
        });
        disposeCache(cache);
        cache = next.full;
        logitRows = next.logits.dataSync() as Float32Array;
        next.logits.dispose();
      } else {
        logitRows = noCacheLogits(model, prompts, rowPrompt, layout.ids, Lp, keyMask, stepTokens);
      }
    }
  } finally {
    disposeCache(cache);
    rowPrompt.dispose();
  }
  const out: GeneratedSequence[][] = prompts.map(() => []);
  for (const r of rows) out[r.prompt]!.push(r.out);
  return out;
}

/** Logits of the last slot of every row, recomputing the whole sequence (no cache). */
function noCacheLogits(
  model: VlmModel,
  prompts: readonly EncodedPrompt[],
  rowPrompt: tf.Tensor1D,
  promptIds: Int32Array,
  Lp: number,
  keyMask: number[][],
  stepTokens: number[][],
): Float32Array {
  const N = keyMask.length;
  const T = keyMask[0]!.length;
  const rowOf = rowPrompt.dataSync();
  const ids = new Int32Array(N * T);
  for (let n = 0; n < N; n++) {
    const p = rowOf[n]!;
    ids.set(promptIds.subarray(p * Lp, (p + 1) * Lp), n * T);
    stepTokens[n]!.forEach((t, s) => { ids[n * T + Lp + s] = t; });
  }
  const logits = tf.tidy(() => {
    const patches = tf.gather(patchesTensor(prompts, model.imageTokens), rowPrompt) as tf.Tensor3D;
    const hidden = model.forward(patches, tf.tensor2d(ids, [N, T], 'int32'), keyMask);
    const last = hidden.slice([0, T - 1, 0], [N, 1, model.config.dModel]).reshape([N, model.config.dModel]);
    return tf.matMul(last as tf.Tensor2D, model.p('lm_head.w') as tf.Variable<tf.Rank.R2>);
  });
  const data = logits.dataSync() as Float32Array;
  logits.dispose();
  return data;
}
