import { resolve } from 'node:path';
import { ErrorCode, MedadError, SeededRng, silentProgress, type MedAdSample, type ProgressReporter } from '@medad/core';
import { JsonlDataset } from '@medad/dataset';
import { checkpointOf, compactModel, saveCheckpoint, type LearnedJudgeCheckpoint } from './checkpoint.js';
import { evaluateJudgeModel, type HeldOutReport } from './evaluate.js';
import { DEFAULT_FEATURES, FeatureVocabulary, frameWordsOf, optionFeatures, type FeatureConfig } from './features.js';
import { DEFAULT_MIN_CONFIDENCE, LearnedJudgeModel } from './judge-model.js';
import { DEFAULT_FIT, fitWeights, lossAndAccuracy, type EpochRecord, type Example, type FitSettings } from './model.js';
import { AUGMENTATION_WORDS, evaluationCases, trainingCases, type JudgeCase, type TrainingCase } from './variants.js';

/** Options of {@link trainLearnedJudge}. */
export interface TrainLearnedJudgeOptions {
  /** Dataset directory (samples.jsonl with question, options, answer, cot, split). */
  dataDir: string;
  /** Checkpoint directory to write (`judge.json`, `report.json`). */
  outDir: string;
  /** Seeds the validation slice, the augmentation and the example order (default 0). */
  seed?: number;
  /** Maximum epochs (default 20; early stopping usually ends sooner). */
  epochs?: number;
  /** Fraction of the train split held back for early stopping (default 0.1). */
  valFraction?: number;
  /** Threshold used by the held-out report (default 0.5, the plugin's default). */
  minConfidence?: number;
  features?: Partial<FeatureConfig>;
  fit?: Partial<Omit<FitSettings, 'seed' | 'epochs'>>;
  progress?: ProgressReporter;
}

/** What {@link trainLearnedJudge} produced. */
export interface TrainLearnedJudgeResult {
  /** The checkpoint file (`<outDir>/judge.json`). */
  file: string;
  model: LearnedJudgeModel;
  checkpoint: LearnedJudgeCheckpoint;
  report: HeldOutReport;
  bestEpoch: number;
  history: EpochRecord[];
  seconds: number;
}

function featurize(sample: MedAdSample, c: JudgeCase | TrainingCase, features: FeatureConfig, vocabulary: FeatureVocabulary, grow: boolean): Example {
  const target = typeof c.target === 'number' ? sample.options.map((_, i) => (i === c.target ? 1 : 0)) : c.target;
  return { features: optionFeatures({ question: sample.question, options: sample.options, think: c.think }, features, vocabulary, grow), target };
}

/** A sample of another task than `sample`, drawn from `pool` (undefined when there is none). */
function unrelatedTo(sample: MedAdSample, pool: readonly MedAdSample[], rng: SeededRng): MedAdSample | undefined {
  for (let tries = 0; tries < 20; tries++) {
    const other = pool[rng.int(pool.length)]!;
    if (other.task !== sample.task) return other;
  }
  return undefined;
}

// The variants early stopping looks at: the text with no letter, the findings alone, a swapped conclusion.
const VALIDATION_VARIANTS = ['lettersMasked', 'conclusionRemoved', 'swappedConclusion'] as const;

/**
 * Trains the learned judge on a dataset's ground-truth CoTs (train split, letters masked, with
 * findings-only, swapped-conclusion and negated-distractor variants), early-stops on a seeded
 * validation slice of train, measures the held-out split and saves the checkpoint with its report.
 */
export async function trainLearnedJudge(options: TrainLearnedJudgeOptions): Promise<TrainLearnedJudgeResult> {
  const started = Date.now();
  const seed = options.seed ?? 0;
  const epochs = options.epochs ?? DEFAULT_FIT.epochs;
  const valFraction = options.valFraction ?? 0.1;
  if (!Number.isInteger(seed) || seed < 0) throw new MedadError(ErrorCode.BadUserInput, `seed must be a non-negative integer, got ${seed}`, { fix: 'pass e.g. --seed 0' });
  if (!Number.isInteger(epochs) || epochs < 1) throw new MedadError(ErrorCode.BadUserInput, `epochs must be a positive integer, got ${epochs}`, { fix: 'pass e.g. --epochs 20' });
  if (!(valFraction > 0 && valFraction < 0.5)) throw new MedadError(ErrorCode.BadUserInput, `valFraction must be in (0, 0.5), got ${valFraction}`, { fix: 'use e.g. 0.1' });
  const fit: FitSettings = { ...DEFAULT_FIT, ...options.fit, seed, epochs };

  const dataset = JsonlDataset.open(options.dataDir);
  const train = dataset.list('train');
  const test = dataset.list('test');
  if (train.length < 20 || test.length === 0) {
    throw new MedadError(ErrorCode.BadUserInput, `Dataset ${dataset.root} has ${train.length} train and ${test.length} test samples; the learned judge needs at least 20 train and 1 test`, {
      fix: 'make one with `medad data synth --out DIR --samples 2000`',
    });
  }

  const rng = new SeededRng(seed);
  const shuffled = rng.fork('validation').shuffle(train);
  const nVal = Math.max(1, Math.round(shuffled.length * valFraction));
  const valSamples = shuffled.slice(0, nVal);
  const fitSamples = shuffled.slice(nVal);
  const frameWords = [...new Set([...frameWordsOf(fitSamples), ...AUGMENTATION_WORDS])].sort();
  const features: FeatureConfig = { ...DEFAULT_FEATURES, frameWords, ...options.features };
  const augment = rng.fork('augment');
  const vocabulary = new FeatureVocabulary();
  const examples = fitSamples.flatMap((s) => trainingCases(s, augment, unrelatedTo(s, fitSamples, augment)).map((c) => featurize(s, c, features, vocabulary, true)));
  const valSets = VALIDATION_VARIANTS.map((v) => valSamples.map((s) => featurize(s, evaluationCases(s)[v], features, vocabulary, false)));

  const progress = options.progress ?? silentProgress;
  progress.start(epochs, 'judge');
  const result = fitWeights(
    examples,
    vocabulary.size,
    (w) => {
      const parts = valSets.map((set) => lossAndAccuracy(w, set));
      return { score: parts.reduce((a, p) => a + p.accuracy, 0) / parts.length, loss: parts.reduce((a, p) => a + p.loss, 0) / parts.length };
    },
    fit,
    (r) => progress.update(r.epoch, { loss: r.trainLoss, val: r.valScore }),
  );
  progress.stop();

  // The report measures the model exactly as saved (zero weights dropped), so a loaded judge reproduces it.
  const model = compactModel(new LearnedJudgeModel(features, vocabulary, result.weights));
  const minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const report = evaluateJudgeModel(model, test, minConfidence);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const training = {
    dataDir: dataset.root,
    dataset: dataset.descriptor.id,
    seed,
    trainSamples: fitSamples.length,
    validationSamples: valSamples.length,
    trainingExamples: examples.length,
    features: model.vocabulary.size,
    epochs: result.history.length,
    bestEpoch: result.bestEpoch,
    fit: { ...fit },
    validation: result.history.find((h) => h.epoch === result.bestEpoch) ?? null,
    seconds,
  };
  const checkpoint = checkpointOf(model, training, report);
  const file = saveCheckpoint(resolve(options.outDir), checkpoint);
  return { file, model, checkpoint, report, bestEpoch: result.bestEpoch, history: result.history, seconds };
}

