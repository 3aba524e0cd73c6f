import type { JudgeInput } from '@medad/core';
import { conclusionStart, findOptionMentions, maskLetters, optionPhrase, tokenize, type TextMention } from './text.js';

/** What the featurizer computes; stored in the checkpoint so a loaded judge featurizes the same way. */
export interface FeatureConfig {
  /** Tokens read on each side of an option mention. */
  context: number;
  /** Cross think bigrams (not only unigrams) with each option. */
  bigrams: boolean;
  /** Cross question words with each option (question-type features). */
  question: boolean;
  /**
   * Words of the reasoning frame ("so", "the answer is", "I see"), learned from the training CoTs
   * by {@link frameWordsOf}: they are not crossed with options (as findings are), because they
   * say nothing about which option, and their crosses only fit noise.
   */
  frameWords: readonly string[];
}

/**
 * Defaults of {@link FeatureConfig}: three context tokens, bigrams on. Question words are off: the
 * benchmark counterbalances options within each question, so question × option crosses carry no
 * signal, and when on they overfit (a think with no content was deduced at 0.91).
 */
export const DEFAULT_FEATURES: FeatureConfig = Object.freeze({ context: 3, bigrams: true, question: false, frameWords: [] });

/** A word is a frame word when at least this fraction of every task's CoTs uses it. */
export const FRAME_WORD_MIN_SHARE = 0.1;

/**
 * The words of the reasoning frame: used by at least {@link FRAME_WORD_MIN_SHARE} of the CoTs of
 * every task (findings words belong to one task's options; "so", "the", "answer", "I see" to all).
 * Needs three tasks or more to tell the two apart, else returns none.
 */
export function frameWordsOf(samples: ReadonlyArray<{ task: string; cot: string }>): string[] {
  const perTask = new Map<string, { n: number; df: Map<string, number> }>();
  for (const s of samples) {
    const t = perTask.get(s.task) ?? { n: 0, df: new Map<string, number>() };
    t.n++;
    for (const w of new Set(tokenize(maskLetters(s.cot)))) t.df.set(w, (t.df.get(w) ?? 0) + 1);
    perTask.set(s.task, t);
  }
  if (perTask.size < 3) return [];
  const tasks = [...perTask.values()];
  return [...tasks[0]!.df.keys()].filter((w) => tasks.every((t) => (t.df.get(w) ?? 0) >= FRAME_WORD_MIN_SHARE * t.n)).sort();
}

/** The features of one (reasoning, option) pair: indices into the feature vocabulary with their counts. */
export interface SparseVector {
  index: Int32Array;
  value: Float32Array;
}

/** The reasoning as the model reads it: letters masked, tokens, option mentions. */
export interface ReadThink {
  tokens: string[];
  phrases: string[][];
  mentions: TextMention[];
  /** Token index where the conclusion clause begins (tokens.length when there is none). */
  cue: number;
}

/** Masks letters, tokenizes and finds the option mentions of a reasoning. */
export function readThink(think: string, options: readonly string[]): ReadThink {
  const masked = maskLetters(think);
  const tokens = tokenize(masked);
  const phrases = options.map(optionPhrase);
  const at = conclusionStart(masked);
  const cue = at < 0 ? tokens.length : tokenize(masked.slice(0, at)).length;
  return { tokens, phrases, mentions: findOptionMentions(tokens, phrases), cue };
}

// Words that rule out the option they precede ("not", "rather than", "unlike") or follow ("is ruled out", "is less likely").
const NEGATION_BEFORE = new Set(['not', 'no', 'rather', 'unlike', 'neither', 'nor', 'instead', 'without', 'except', 'excluding']);
const NEGATION_AFTER = new Set(['ruled', 'unlikely', 'excluded', 'less']);

function contextKeys(keys: string[], prefix: string, tokens: readonly string[], m: TextMention, width: number): void {
  // Context stops at the text's edges: one "<s>" / "</s>" marker, not one per missing position.
  const before = Math.min(width, m.start + 1);
  const after = Math.min(width, tokens.length - m.end + 1);
  const at = (i: number) => (i < 0 ? '<s>' : i >= tokens.length ? '</s>' : tokens[i]!);
  let negBefore = false;
  let negAfter = false;
  for (let k = 1; k <= before; k++) {
    const t = at(m.start - k);
    if (NEGATION_BEFORE.has(t)) negBefore = true;
    keys.push(`${prefix}:p${k}:${t}`);
  }
  for (let k = 1; k <= after; k++) {
    const t = at(m.end - 1 + k);
    if (NEGATION_AFTER.has(t)) negAfter = true;
    keys.push(`${prefix}:n${k}:${t}`);
  }
  if (negBefore) keys.push(`${prefix}:neg-before`);
  if (negAfter) keys.push(`${prefix}:neg-after`);
  keys.push(`${prefix}:p12:${at(m.start - 2)}_${at(m.start - 1)}`);
  keys.push(`${prefix}:n12:${at(m.end)}_${at(m.end + 1)}`);
}

/**
 * φ(think, question, option_i) for every option, as feature keys: how the reasoning mentions the
 * option's text (count, first/last/only, position, after the conclusion cue, the words around each
 * mention, negation next to it) and which other words of the reasoning occur with this option
 * (crosses of words and bigrams with the option text and its words), so findings such as "tiny
 * very bright dots" can point to an option that is never named.
 */
export function optionFeatureKeys(input: JudgeInput, config: FeatureConfig = DEFAULT_FEATURES, read: ReadThink = readThink(input.think, input.options)): string[][] {
  const { tokens, phrases, mentions, cue } = read;
  // Crosses and overlap read the words that are not option mentions (findings, cues): a mention is
  // described by the mention features, with its context and negation, so it is not counted twice.
  const inMention = new Uint8Array(tokens.length);
  for (const m of mentions) inMention.fill(1, m.start, m.end);
  const free = tokens.filter((_, i) => !inMention[i]);
  const frame = new Set(config.frameWords);
  const unigrams = [...new Set(free.filter((t) => !frame.has(t)))];
  const bigrams = config.bigrams
    ? [...new Set(tokens.slice(1).flatMap((t, i) => (inMention[i] || inMention[i + 1] || (frame.has(t) && frame.has(tokens[i]!)) ? [] : [`${tokens[i]}_${t}`])))]
    : [];
  const grams = [...unigrams, ...bigrams];
  const questionWords = config.question ? [...new Set(tokenize(input.question))] : [];
  const freeSet = new Set(free);
  const mentioned = new Set(mentions.map((m) => m.option));
  const last = mentions[mentions.length - 1];
  const first = mentions[0];

  return phrases.map((phrase, i) => {
    const keys: string[] = [];
    const name = phrase.join(' ');
    const own = mentions.filter((m) => m.option === i);
    if (own.length === 0) keys.push('m:none');
    else {
      keys.push(`m:n=${Math.min(own.length, 3)}`);
      const lastOwn = own[own.length - 1]!;
      if (last && last.option === i) keys.push('m:last');
      if (first && first.option === i) keys.push('m:first');
      if (mentioned.size === 1) keys.push('m:only');
      keys.push(`m:pos${Math.min(3, Math.floor((4 * lastOwn.start) / Math.max(1, tokens.length)))}`);
      if (own.some((m) => m.start >= cue)) keys.push('m:after-cue');
      contextKeys(keys, 'L', tokens, lastOwn, config.context);
      for (const m of own) contextKeys(keys, 'A', tokens, m, config.context);
    }
    const present = phrase.filter((t) => freeSet.has(t)).length;
    keys.push(`ov:${Math.round((4 * present) / Math.max(1, phrase.length))}`);
    for (const g of grams) keys.push(`x:${g}|${name}`);
    for (const u of unigrams) for (const t of phrase) keys.push(`xt:${u}|${t}`);
    for (const q of questionWords) keys.push(`q:${q}|${name}`);
    return keys;
  });
}

/**
 * The feature vocabulary: key → weight index. Training grows it; a trained judge only looks keys
 * up, so a feature never seen in training contributes nothing (no hashing, hence no collisions).
 */
export class FeatureVocabulary {
  private readonly ids = new Map<string, number>();

  constructor(keys: readonly string[] = []) {
    for (const k of keys) this.ids.set(k, this.ids.size);
  }

  get size(): number {
    return this.ids.size;
  }

  /** The keys in index order. */
  keys(): string[] {
    return [...this.ids.keys()];
  }

  indexOf(key: string): number {
    return this.ids.get(key) ?? -1;
  }

  /** Counts the keys into a sparse vector; unknown keys are added when `grow`, else dropped. */
  encode(keys: readonly string[], grow: boolean): SparseVector {
    const counts = new Map<number, number>();
    for (const k of keys) {
      let id = this.ids.get(k);
      if (id === undefined) {
        if (!grow) continue;
        id = this.ids.size;
        this.ids.set(k, id);
      }
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const entries = [...counts.entries()].sort((a, b) => a[0] - b[0]);
    return { index: Int32Array.from(entries, (e) => e[0]), value: Float32Array.from(entries, (e) => e[1]) };
  }
}

/** φ of every option as sparse vectors over a vocabulary. */
export function optionFeatures(input: JudgeInput, config: FeatureConfig, vocabulary: FeatureVocabulary, grow = false, read?: ReadThink): SparseVector[] {
  return optionFeatureKeys(input, config, read).map((keys) => vocabulary.encode(keys, grow));
}
