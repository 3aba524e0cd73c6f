import { definePlugin, readingOf, z, type ConclusionReading, type Judge, pathField } from '@medad/core';
import { readCheckpoint, modelOf } from './checkpoint.js';
import { DEFAULT_MIN_CONFIDENCE, type LearnedJudgeModel } from './judge-model.js';

export { LearnedJudgeModel, DEFAULT_MIN_CONFIDENCE } from './judge-model.js';
export { trainLearnedJudge, type TrainLearnedJudgeOptions, type TrainLearnedJudgeResult } from './train.js';
export { evaluateJudgeModel, type HeldOutReport, type VariantAccuracy } from './evaluate.js';
export {
  CHECKPOINT_FILE,
  REPORT_FILE,
  checkpointFile,
  checkpointOf,
  compactModel,
  loadLearnedJudgeModel,
  modelOf,
  readCheckpoint,
  saveCheckpoint,
  type LearnedJudgeCheckpoint,
} from './checkpoint.js';
export { AUGMENTATION_WORDS, EVAL_VARIANTS, VARIANT_DESCRIPTIONS, evaluationCases, trainingCases, type EvalVariant, type JudgeCase } from './variants.js';
export { DEFAULT_FEATURES, FRAME_WORD_MIN_SHARE, FeatureVocabulary, frameWordsOf, optionFeatureKeys, optionFeatures, readThink, type FeatureConfig, type SparseVector } from './features.js';
export { DEFAULT_FIT, fitWeights, type FitSettings, type EpochRecord } from './model.js';
export { conclusionStart, maskLetters, removeConclusion, swapConclusion, tokenize, findOptionMentions } from './text.js';
export { synthesizeJudgeCorpus, type JudgeCorpusOptions } from './corpus.js';

/** Config of the `learned` judge. */
export const learnedJudgeConfig = z.object({
  /** Checkpoint directory written by `medad train judge` (or its judge.json). */
  checkpoint: pathField(
    z
      .string({ error: 'required: the checkpoint directory written by `medad train judge --out DIR` (on the CLI: --judge learned:DIR)' })
      .min(1, 'empty: give the checkpoint directory written by `medad train judge --out DIR`'),
  ),
  /** Below this top probability the judge deduces nothing (null). */
  minConfidence: z.number().min(0).max(1).default(DEFAULT_MIN_CONFIDENCE),
  /**
   * `strip`: the model reads the findings only (`stripConclusion` in @medad/core removes the
   * concluding clause), so a think whose findings fit B but whose last sentence says C is judged
   * B, and a bare restated answer is null. `keep`: the whole think (the judge before issue 19).
   */
  conclusion: z.enum(['strip', 'keep']).default('strip'),
});

/** Wraps a trained model as a {@link Judge}; under `strip` (default) it reads each think without its conclusion. */
export function createLearnedJudge(model: LearnedJudgeModel, minConfidence = DEFAULT_MIN_CONFIDENCE, conclusion: ConclusionReading = 'strip'): Judge {
  return {
    name: 'learned',
    deduce: async (batch) => batch.map((x) => model.deduce({ ...x, think: readingOf(x.think, conclusion) }, minConfidence)),
  };
}

/** The learned judge: a small text model trained on the benchmark's ground-truth CoTs deduces the option a reasoning concludes, never reading option letters. */
export const learnedJudgePlugin = definePlugin({
  kind: 'judge',
  id: 'learned',
  version: '0.1.0',
  description: 'a small text model trained on ground-truth CoTs deduces the option a reasoning concludes (letters masked)',
  configSchema: learnedJudgeConfig,
  create: (_deps, config): Judge => createLearnedJudge(modelOf(readCheckpoint(config.checkpoint)), config.minConfidence, config.conclusion),
});
