import { definePlugin, z, type Judge } from '@medad/core';
import { deduceRule, type ConclusionOptions } from './conclusion.js';

export { deduceConclusion, deduceRule, type ConclusionOptions } from './conclusion.js';
export { BUILTIN_FINDINGS, deduceFromFindings } from './findings.js';
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
  /**
   * `strip`: remove the concluding clause ("…, so the answer is CT (B).") and deduce from the
   * findings (modality, organ, lesion look and position); null when they point to no one option.
   * `keep`: the option the whole think concludes (the judge before issue 19).
   */
  conclusion: z.enum(['strip', 'keep']).default('strip'),
  /** Under `strip`, read the built-in findings cues (BUILTIN_FINDINGS); `findings` are added on top. */
  builtinFindings: z.boolean().default(true),
  /** Extra findings phrases: lower-case option text → phrases that point to it ("ct": ["hounsfield units"]). */
  findings: z.record(z.string(), z.array(z.string().min(1))).default({}),
});

/** Builds a rule judge from a parsed config (for callers outside the registry, e.g. the reference server). */
export function createRuleJudge(config: ConclusionOptions = {}): Judge {
  return {
    name: 'rule',
    deduce: async (batch) => batch.map((x) => deduceRule(x, config)),
  };
}

/** The rule judge: deduces the option a reasoning's findings point to (default) or the option it concludes, deterministically and without a model. */
export const ruleJudgePlugin = definePlugin({
  kind: 'judge',
  id: 'rule',
  version: '0.1.0',
  description: 'deduces the option a reasoning\'s findings point to (conclusion: strip, default) or the option it concludes (keep)',
  configSchema: ruleJudgeConfig,
  create: (_deps, config): Judge => createRuleJudge(config),
});
