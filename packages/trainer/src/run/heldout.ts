import { scoreOutputs, summarize, type EvalSummary } from '@medad/evaluator';
import type { Judge } from '@medad/core';
import { generateTokens, type VlmPolicy } from '@medad/policy';
import type { EncodedSample } from './data.js';

/** Greedy completions (tfjs, KV cache) of already-encoded prompts, as text. */
export function greedyTexts(policy: VlmPolicy, items: readonly EncodedSample[], batchSize = 32, maxTokens?: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += batchSize) {
    const batch = items.slice(i, i + batchSize);
    const room = policy.model.config.maxTextLen - Math.max(...batch.map((b) => b.prompt.promptIds.length));
    const budget = Math.min(maxTokens ?? Math.max(...batch.map((b) => b.target.length)) + 8, room);
    const groups = generateTokens(policy.model, batch.map((b) => b.prompt), { greedy: true, maxNewTokens: budget, useCache: true });
    out.push(...groups.map((g) => policy.tokenizer.decode(g[0]?.tokens ?? [])));
  }
  return out;
}

/**
 * Greedy answers on held-out samples: letter accuracy per task, think-correctness, format and,
 * with a judge, consistency. Used for periodic evaluation during training.
 */
export async function heldOutEval(policy: VlmPolicy, items: readonly EncodedSample[], options: { batchSize?: number; judge?: Judge } = {}): Promise<EvalSummary> {
  const outputs = greedyTexts(policy, items, options.batchSize);
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
