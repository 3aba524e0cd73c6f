import { OPTION_LETTERS, type JudgeInput, type OptionLetter } from '@medad/core';
import { FeatureVocabulary, optionFeatureKeys, optionFeatures, readThink, type FeatureConfig } from './features.js';
import { optionScores, softmax } from './model.js';

/** Default of `minConfidence`: below this top probability the judge deduces nothing. */
export const DEFAULT_MIN_CONFIDENCE = 0.5;

/** The trained scorer: features of each (reasoning, option) pair, one weight per vocabulary key, softmax over options. */
export class LearnedJudgeModel {
  constructor(
    readonly features: FeatureConfig,
    readonly vocabulary: FeatureVocabulary,
    readonly weights: Float32Array,
  ) {
    if (weights.length !== vocabulary.size) throw new RangeError(`weights has ${weights.length} entries, the vocabulary ${vocabulary.size}`);
  }

  /** Probability of each option being the one the reasoning concludes; null when the reasoning has no words (letters do not count). */
  probabilities(input: JudgeInput): number[] | null {
    if (input.options.length < 2 || input.options.length > OPTION_LETTERS.length) return null;
    const read = readThink(input.think, input.options);
    if (read.tokens.length === 0) return null;
    return softmax(optionScores(this.weights, optionFeatures(input, this.features, this.vocabulary, false, read)));
  }

  /** The option concluded, or null when the reasoning is empty or the top probability is below `minConfidence`. */
  deduce(input: JudgeInput, minConfidence = DEFAULT_MIN_CONFIDENCE): OptionLetter | null {
    const p = this.probabilities(input);
    if (!p) return null;
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
    if (p[best]! < minConfidence) return null;
    return OPTION_LETTERS[best] ?? null;
  }

  /** Each option's score and its largest feature contributions (key, weight), to see why the judge decided as it did. */
  explain(input: JudgeInput, top = 8): Array<{ option: string; score: number; features: Array<[string, number]> }> {
    return optionFeatureKeys(input, this.features).map((keys, i) => {
      const contributions = new Map<string, number>();
      for (const k of keys) {
        const id = this.vocabulary.indexOf(k);
        if (id >= 0) contributions.set(k, (contributions.get(k) ?? 0) + this.weights[id]!);
      }
      const sorted = [...contributions.entries()].sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || a[0].localeCompare(b[0]));
      return { option: String(input.options[i]), score: sorted.reduce((a, e) => a + e[1], 0), features: sorted.slice(0, top) };
    });
  }
}
