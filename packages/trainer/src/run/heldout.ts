import { scoreOutputs, summarize, type EvalSummary } from '@medad/evaluator';
import { DEFAULT_DECODE_THREADS, type Judge } from '@medad/core';
import { OrtPolicy, buildOnnxModels, generateTokens, type VlmPolicy } from '@medad/policy';
import type { EncodedSample } from './data.js';

/** An ONNX Runtime copy of the policy with its current weights (in-memory graphs, `threads` intra-op threads; dispose it). */
export async function ortCopy(policy: VlmPolicy, threads = DEFAULT_DECODE_THREADS): Promise<OrtPolicy> {
  return OrtPolicy.fromModels(policy.model.config, buildOnnxModels(policy.model.config, policy.model.weights()), { intraOpNumThreads: threads });
}

/** The NCHW pixels of a batch, back to back, for ONNX Runtime. */
export function batchPixels(items: readonly EncodedSample[]): Float32Array {
  const pixels = new Float32Array(items.reduce((a, b) => a + b.nchw.length, 0));
  let off = 0;
  for (const b of items) {
    pixels.set(b.nchw, off);
    off += b.nchw.length;
  }
  return pixels;
}

/** Token budget of a greedy batch: the longest target + 8 (or `maxTokens`), within `maxTextLen`. */
function greedyBudget(policy: VlmPolicy, batch: readonly EncodedSample[], maxTokens?: number): number {
  const room = policy.model.config.maxTextLen - Math.max(...batch.map((b) => b.prompt.promptIds.length));
  return Math.min(maxTokens ?? Math.max(...batch.map((b) => b.target.length)) + 8, room);
}

/**
 * Greedy completions through ONNX Runtime (the policy's current weights exported in memory, KV
 * cache, `threads` intra-op threads): the same tokens as {@link greedyTexts} (parity-tested in
 * @medad/policy), faster.
 */
export async function greedyTextsOrt(policy: VlmPolicy, items: readonly EncodedSample[], batchSize = 32, maxTokens?: number, threads = DEFAULT_DECODE_THREADS): Promise<string[]> {
  const ort = await ortCopy(policy, threads);
  try {
    const out: string[] = [];
    for (let i = 0; i < items.length; i += batchSize) {
      const batch = items.slice(i, i + batchSize);
      const groups = await ort.generate(batch.map((b) => b.prompt.promptIds), batchPixels(batch), { greedy: true, maxNewTokens: greedyBudget(policy, batch, maxTokens) });
      out.push(...groups.map((g) => policy.tokenizer.decode(g[0]?.tokens ?? [])));
    }
    return out;
  } finally {
    await ort.dispose();
  }
}

/** Greedy completions (tfjs, KV cache) of already-encoded prompts, as text. */
export function greedyTexts(policy: VlmPolicy, items: readonly EncodedSample[], batchSize = 32, maxTokens?: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    const batch = items.slice(i, i + batchSize);
    const groups = generateTokens(policy.model, batch.map((b) => b.prompt), { greedy: true, maxNewTokens: greedyBudget(policy, batch, maxTokens), useCache: true });
    out.push(...groups.map((g) => policy.tokenizer.decode(g[0]?.tokens ?? [])));
  }
  return out;
}

/**
 * Greedy answers on held-out samples: letter accuracy per task, think-correctness, format and,
 * with a judge, consistency. Used for periodic evaluation during training; decodes through ONNX
 * Runtime by default, on `decodeThreads` intra-op threads (`engine: 'tfjs'` for the tfjs KV-cache
 * generator).
 */
export async function heldOutEval(
  policy: VlmPolicy,
  items: readonly EncodedSample[],
  options: { batchSize?: number; judge?: Judge; engine?: 'ort' | 'tfjs'; decodeThreads?: number } = {},
): Promise<EvalSummary> {
  const outputs = options.engine === 'tfjs' ? greedyTexts(policy, items, options.batchSize) : await greedyTextsOrt(policy, items, options.batchSize, undefined, options.decodeThreads);
  return summarize(await scoreOutputs(items.map((x) => x.sample), outputs, 0, options.judge), { judged: options.judge !== undefined });
}

/** Flattens a summary into metric keys (`eval_overall`, `eval_acc_<task>`, `eval_think`...). */
export function summaryMetrics(s: EvalSummary, prefix = 'eval'): Record<string, number> {
  const out: Record<string, number> = {
    [`${prefix}_overall`]: s.overall,
    [`${prefix}_think`]: s.thinkCorrectness,
    [`${prefix}_format`]: s.formatRate,
    [`${prefix}_invalid`]: s.invalidRate,
  };
  if (Number.isFinite(s.consistency)) out[`${prefix}_consistency`] = s.consistency;
  for (const [task, v] of Object.entries(s.perTask)) out[`${prefix}_acc_${task}`] = v!;
  for (const [task, v] of Object.entries(s.perTaskThink)) out[`${prefix}_think_${task}`] = v!;
  return out;
}
