import { stripConclusion, type ConclusionReading, type JudgeInput, type OptionLetter } from '@medad/core';
import { BUILTIN_FINDINGS, deduceFromFindings, phraseCues } from './findings.js';
import { BUILTIN_ALIASES, findMentions, type MentionOptions, type OptionMention } from './mentions.js';

/** Settings of {@link deduceConclusion} and {@link deduceRule}; every field has a default. */
export interface ConclusionOptions extends Partial<MentionOptions> {
  /** Use {@link BUILTIN_ALIASES} (default true); `aliases` are added on top. */
  builtinAliases?: boolean;
  /** {@link deduceRule}: `strip` (default) judges the findings with the conclusion removed, `keep` the option the whole think concludes. */
  conclusion?: ConclusionReading;
  /** Use {@link BUILTIN_FINDINGS} under `strip` (default true); `findings` are added on top. */
  builtinFindings?: boolean;
  /** Extra findings phrases per lower-case option text ("ct": ["hounsfield units"]), read under `strip`. */
  findings?: Readonly<Record<string, readonly string[]>>;
}

function mergeLists(base: Readonly<Record<string, readonly string[]>>, extra: Readonly<Record<string, readonly string[]>> = {}): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(base)) out[k] = [...v];
  for (const [k, v] of Object.entries(extra)) {
    const key = k.trim().toLowerCase();
    out[key] = [...(out[key] ?? []), ...v];
  }
  return out;
}

function mentionSettings(options: ConclusionOptions): MentionOptions {
  return {
    aliases: mergeLists(options.builtinAliases === false ? {} : BUILTIN_ALIASES, options.aliases),
    negation: options.negation ?? true,
    onConflict: options.onConflict ?? 'text',
  };
}

/**
 * The rule judge's deduction. Under `conclusion: 'strip'` (the default) the concluding clause is
 * removed (`stripConclusion` in @medad/core) and the findings decide ({@link deduceFromFindings}):
 * a think whose findings fit B but whose last sentence says C is judged B, and a think that only
 * restates an answer is null. Under `keep` it is {@link deduceConclusion} on the whole think.
 */
export function deduceRule(input: JudgeInput, options: ConclusionOptions = {}): OptionLetter | null {
  if (options.conclusion === 'keep') return deduceConclusion(input, options);
  const findings = mergeLists(options.builtinFindings === false ? {} : BUILTIN_FINDINGS, phraseCues(options.findings ?? {}));
  return deduceFromFindings({ ...input, think: stripConclusion(input.think) }, { ...mentionSettings(options), findings });
}

// "the answer is", "final answer:", "I choose": the sentence that declares the answer.
const STRONG_CUE = /(?<![\p{L}\p{N}])(?:(?:final|correct|best)\s+)?(?:answer|option|choice)\s*(?:is|would\s+be|should\s+be|must\s+be|will\s+be|[:=])|(?<![\p{L}\p{N}])(?:i\s+)?(?:choose|chose|select|pick|opt\s+for)(?![\p{L}\p{N}])/giu;
// "so", "consistent with", "indicates": a sentence that concludes something.
const WEAK_CUE = /(?<![\p{L}\p{N}])(?:so|therefore|thus|hence|consequently|overall|in\s+conclusion|conclude[sd]?|consistent\s+with|indicat(?:es?|ing|ive\s+of)|suggest(?:s|ing|ive\s+of)?|typical\s+of|characteristic\s+of|compatible\s+with|diagnos[ie]s|most\s+likely|likely|represents?|this\s+is|it\s+is|points?\s+to|favou?rs?)(?![\p{L}\p{N}])/giu;
const ENUMERATION_SIZE = 3;

interface Sentence {
  start: number;
  end: number;
}

function sentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  const re = /[.!?]+(?=\s|$)|\n+/g;
  let start = 0;
  for (const m of text.matchAll(re)) {
    const end = m.index + m[0].length;
    if (text.slice(start, end).trim()) out.push({ start, end });
    start = end;
  }
  if (text.slice(start).trim()) out.push({ start, end: text.length });
  return out;
}

function lastCueEnd(text: string, s: Sentence, cue: RegExp): number | null {
  let end: number | null = null;
  for (const m of text.slice(s.start, s.end).matchAll(cue)) end = s.start + m.index + m[0].length;
  return end;
}

/** The mention a sentence concludes: the first live one after its last cue, else its last live one. */
function pickInSentence(live: OptionMention[], cueEnd: number | null): OptionMention {
  const after = cueEnd === null ? undefined : live.find((m) => m.start >= cueEnd);
  return after ?? live[live.length - 1]!;
}

/**
 * The option a reasoning concludes, or null when it names none (or only negated ones).
 * Sentences are tried in this order: the last one that declares an answer ("the answer is …"),
 * else the last one with a conclusion word ("so", "consistent with" …), else the last one that
 * names an option; a sentence that merely lists three or more options is skipped unless it
 * declares an answer.
 */
export function deduceConclusion(input: JudgeInput, options: ConclusionOptions = {}): OptionLetter | null {
  const text = input.think.normalize('NFKC');
  if (!text.trim()) return null;
  const mentions = findMentions(text, input.options, mentionSettings(options));
  const live = mentions.filter((m) => !m.negated);
  if (live.length === 0) return null;

  const ranked: Array<{ level: number; pick: OptionMention }> = [];
  for (const s of sentences(text)) {
    const inside = live.filter((m) => m.start >= s.start && m.start < s.end);
    if (inside.length === 0) continue;
    const strong = lastCueEnd(text, s, STRONG_CUE);
    const strongPick = strong === null ? undefined : inside.find((m) => m.start >= strong);
    if (strongPick) {
      ranked.push({ level: 3, pick: strongPick });
      continue;
    }
    if (new Set(inside.map((m) => m.letter)).size >= ENUMERATION_SIZE) continue;
    const weak = lastCueEnd(text, s, WEAK_CUE);
    ranked.push({ level: weak === null ? 1 : 2, pick: pickInSentence(inside, weak) });
  }
  if (ranked.length === 0) return null;
  const best = Math.max(...ranked.map((r) => r.level));
  return ranked.filter((r) => r.level === best).pop()!.pick.letter;
}
