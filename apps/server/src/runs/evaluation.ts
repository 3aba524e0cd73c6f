import type { Evaluation, Score } from './run.type.js';
import { TASKS } from '@medad/core';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The evaluation table from an `eval.json` (the evaluator's EvaluationResult: means over seeds
 * in percent, `std` holding each metric's sample std); tasks in the paper's order.
 */
export function toEvaluation(raw: Record<string, unknown>): Evaluation {
  const std = (raw.std ?? {}) as Record<string, unknown>;
  const stdPerTask = (std.perTask ?? {}) as Record<string, unknown>;
  const perTask = (raw.perTask ?? {}) as Record<string, unknown>;
  const score = (key: string): Score | null => (raw[key] === undefined ? null : { mean: num(raw[key]), std: num(std[key]) });
  const order = [...TASKS, ...Object.keys(perTask).filter((t) => !(TASKS as readonly string[]).includes(t))];
  return {
    overall: score('overall') ?? { mean: null, std: null },
    perTask: order.filter((t) => t in perTask).map((task) => ({ task, mean: num(perTask[task]), std: num(stdPerTask[task]) })),
    consistency: score('consistency'),
    formatRate: score('formatRate'),
    invalidRate: num(raw.invalidRate),
    thinkCorrectness: score('thinkCorrectness'),
    seeds: Array.isArray(raw.seeds) ? raw.seeds.filter((s): s is number => Number.isInteger(s)) : [],
    n: Number.isInteger(raw.n) ? (raw.n as number) : null,
    raw,
  };
}
