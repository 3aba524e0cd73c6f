import { definePlugin, z, type Judge } from '@medad/core';
import { deduceConclusion, type ConclusionOptions } from './conclusion.js';

export { deduceConclusion, type ConclusionOptions } from './conclusion.js';
export { BUILTIN_ALIASES, findMentions, isNegated, type OptionMention, type ConflictPolicy } from './mentions.js';
export { startRuleJudgeServer, type RuleJudgeServer, type RuleJudgeServerOptions } from './server.js';
export { parseJudgePrompt, type ParsedJudgePrompt } from './chat-prompt.js';

/** Config of the `rule` judge. */
export const ruleJudgeConfig = z.object({
  /** Recognise common synonyms of option texts ("radiograph" for X-ray, "sonographic" for ultrasound). */
  builtinAliases: z.boolean().default(true),
  /** Extra synonyms: lower-case option text → other names for it. */
  aliases: z.record(z.string(), z.array(z.string().min(1))).default({}),
  /** Ignore negated mentions ("not MRI", "rather than CT", "CT is ruled out"). */
  negation: z.boolean().default(true),
  /** When a letter and the option text beside it disagree ("(A) CT" with A = MRI): trust the text, the letter, or deduce nothing. */
  onConflict: z.enum(['text', 'letter', 'null']).default('text'),
});

/** Builds a rule judge from a parsed config (for callers outside the registry, e.g. the reference server). */
export function createRuleJudge(config: ConclusionOptions = {}): Judge {
  return {
    name: 'rule',
    deduce: async (batch) => batch.map((x) => deduceConclusion(x, config)),
  };
}

/** The rule judge: deduces the option a reasoning concludes from option letters and option texts, deterministically and without a model. */
export const ruleJudgePlugin = definePlugin({
  kind: 'judge',
  id: 'rule',
  version: '0.1.0',
  description: 'deduces the option a reasoning concludes from option letters and option texts',
  configSchema: ruleJudgeConfig,
  create: (_deps, config): Judge => createRuleJudge(config),
});
