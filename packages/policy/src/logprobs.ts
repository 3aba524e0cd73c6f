import * as tf from '@tensorflow/tfjs';
import { ErrorCode, MedadError } from '@medad/core';
import { linear } from './ops/linear.js';
import type { VlmModel } from './vlm/model.js';
import { SPECIAL_IDS } from './vlm/tokenizer.js';

/** One prompt as the model sees it: image patches `[P·3p²]` and prompt token ids. */
export interface EncodedPrompt {
  patches: Float32Array;
  promptIds: readonly number[];
}

/** Per-token log-probs of completions: `[B, Tc]`, zero where `mask` is 0. */
export interface SequenceLogProbs {
  logProbs: tf.Tensor2D;
  /** 1 for completion tokens, 0 for padding. */
  mask: tf.Tensor2D;
  /** Greedy prediction at each completion position (only with `withArgmax`), int32 `[B, Tc]`. */
  argmax?: tf.Tensor2D;
}

/** Token layout shared by log-probs and generation: prompts left-padded to `Lp`, completions right-padded to `Lc`. */
export interface BatchLayout {
  ids: Int32Array;
  mask: number[][];
  promptLen: number;
  completionLen: number;
}

/** Lays out prompts (left-padded) and completions (right-padded) in one `[B, Lp + Lc]` grid. */
export function layoutBatch(prompts: readonly (readonly number[])[], completions: readonly (readonly number[])[], maxTextLen: number): BatchLayout {
  const Lp = Math.max(1, ...prompts.map((p) => p.length));
  const Lc = Math.max(0, ...completions.map((c) => c.length));
  const { ids, mask } = fillGrid(prompts, completions, maxTextLen, Lp + Lc, (p) => Lp - p.length, () => Lp);
  return { ids, mask, promptLen: Lp, completionLen: Lc };
}

/**
 * Rows of width `T`: row b's prompt from slot `promptAt(p)`, its completion from `completionAt(p)`,
 * padding elsewhere (mask 0). Checks each row's length against `maxTextLen`.
 */
function fillGrid(
  prompts: readonly (readonly number[])[],
  completions: readonly (readonly number[])[],
  maxTextLen: number,
  T: number,
  promptAt: (p: readonly number[]) => number,
  completionAt: (p: readonly number[]) => number,
): { ids: Int32Array; mask: number[][] } {
  const ids = new Int32Array(prompts.length * T).fill(SPECIAL_IDS.pad);
  const mask = prompts.map((p, b) => {
    const c = completions[b] ?? [];
    checkRow(b, p.length, c.length, maxTextLen);
    const row = new Array<number>(T).fill(0);
    const [ps, cs] = [promptAt(p), completionAt(p)];
    ids.set(p, b * T + ps);
    ids.set(c, b * T + cs);
    row.fill(1, ps, ps + p.length);
    row.fill(1, cs, cs + c.length);
    return row;
  });
  return { ids, mask };
}

/** A packed batch: row `b` holds its prompt, then its completion, then padding, in `[B, T]`. */
export interface PackedLayout {
  ids: Int32Array;
  mask: number[][];
  /** Row width: the longest prompt + completion. */
  T: number;
  /** Prompt length of each row (its completion starts there). */
  promptLens: number[];
}

/**
 * Lays out each row as `[prompt ; completion ; padding]` (right-padded to the longest row), the
 * tightest grid for teacher forcing: `T = max(prompt + completion)` instead of {@link layoutBatch}'s
 * `max(prompt) + max(completion)`. Positions and attention follow the mask, so a row's real tokens
 * see exactly what they see in {@link layoutBatch}'s grid.
 */
export function packBatch(prompts: readonly (readonly number[])[], completions: readonly (readonly number[])[], maxTextLen: number): PackedLayout {
  const T = Math.max(1, ...prompts.map((p, b) => p.length + (completions[b]?.length ?? 0)));
  const { ids, mask } = fillGrid(prompts, completions, maxTextLen, T, () => 0, (p) => p.length);
  return { ids, mask, T, promptLens: prompts.map((p) => p.length) };
}

function checkRow(b: number, promptLen: number, completionLen: number, maxTextLen: number): void {
  if (promptLen === 0) {
    throw new MedadError(ErrorCode.BadUserInput, `Prompt ${b} has no tokens`, { fix: 'encode renderPrompt(sample), which starts with <image>' });
  }
  if (promptLen + completionLen > maxTextLen) {
    throw new MedadError(ErrorCode.BadUserInput, `Row ${b} has ${promptLen} prompt + ${completionLen} completion tokens, more than maxTextLen ${maxTextLen}`, {
      fix: 'shorten the text (fewer max tokens) or use a config with a larger maxTextLen',
    });
  }
}

/** Stacks per-prompt patches into a `[B, P, 3p²]` tensor. */
export function patchesTensor(prompts: readonly { patches: Float32Array }[], P: number): tf.Tensor3D {
  const patchLen = prompts[0]!.patches.length / P;
  const data = new Float32Array(prompts.length * P * patchLen);
  prompts.forEach((p, b) => {
    if (p.patches.length !== P * patchLen) {
      throw new MedadError(ErrorCode.BadUserInput, `Prompt ${b} has ${p.patches.length} patch values, expected ${P * patchLen}`, {
        fix: 'make patches with imageToPatches(image, model.config)',
      });
    }
    data.set(p.patches, b * P * patchLen);
  });
  return tf.tensor3d(data, [prompts.length, P, patchLen]);
}

/**
 * Differentiable per-token log-probs of `completions[b]` given image + prompt `b` (teacher
 * forcing): what SFT's cross-entropy and GRPO's ratio need. Call inside `tf.tidy` / a gradient
 * function; returns `[B, Tc]` log-probs and mask.
 */
export function sequenceLogProbs(
  model: VlmModel,
  prompts: readonly EncodedPrompt[],
  completions: readonly (readonly number[])[],
  options: { withArgmax?: boolean } = {},
): SequenceLogProbs {
  if (prompts.length === 0 || prompts.length !== completions.length) {
    throw new MedadError(ErrorCode.BadUserInput, `sequenceLogProbs got ${prompts.length} prompts and ${completions.length} completions`, {
      fix: 'pass one completion per prompt (repeat a prompt G times for a group)',
    });
  }
  const B = prompts.length;
  const layout = layoutBatch(prompts.map((p) => p.promptIds), completions, model.config.maxTextLen);
  const { promptLen: Lp, completionLen: Lc } = layout;
  const maskData = new Float32Array(B * Lc);
  const targets = new Int32Array(B * Lc);
  completions.forEach((c, b) => c.forEach((id, j) => {
    maskData[b * Lc + j] = 1;
    targets[b * Lc + j] = id;
  }));
  const mask = tf.tensor2d(maskData, [B, Lc]);
  if (Lc === 0) return { logProbs: tf.zeros([B, 0]) as tf.Tensor2D, mask, argmax: options.withArgmax ? (tf.zeros([B, 0], 'int32') as tf.Tensor2D) : undefined };
  const patches = patchesTensor(prompts, model.imageTokens);
  const ids = tf.tensor2d(layout.ids, [B, Lp + Lc], 'int32');
  const hidden = model.forward(patches, ids, layout.mask);
  // The hidden state at slot j predicts the token at slot j + 1.
  const predicting = hidden.slice([0, Lp - 1, 0], [B, Lc, model.config.dModel]);
  const logits = linear(predicting, model.p('lm_head.w') as tf.Variable<tf.Rank.R2>).reshape([B * Lc, model.config.vocabSize]) as tf.Tensor2D;
  const picked = pickLogProbs(logits, tf.tensor1d(targets, 'int32')).reshape([B, Lc]);
  const out: SequenceLogProbs = { logProbs: picked.mul(mask) as tf.Tensor2D, mask };
  if (options.withArgmax) out.argmax = logits.argMax(-1).reshape([B, Lc]) as tf.Tensor2D;
  return out;
}

/**
 * `log softmax(logits)[target]` per row, as `x_t − x_a + log softmax(x)_a` with `a` the argmax:
 * exact, stable (softmax at the argmax is ≥ 1/V), and built on wasm's fast softmax kernel instead
 * of a full-vocabulary exp/log; `a` is a constant, so no slow max/equal gradient is needed.
 */
export function pickLogProbs(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const V = logits.shape[1];
  const atMax = tf.oneHot(logits.argMax(-1), V);
  const shift = logits.mul(tf.oneHot(targets, V).sub(atMax)).sum(-1);
  return shift.add(tf.softmax(logits).mul(atMax).sum(-1).log()) as tf.Tensor1D;
}
