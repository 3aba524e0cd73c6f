import { OPTION_LETTERS, REGIONS, SeededRng, letterIndex, type MedAdSample, type OptionLetter, type Region } from '@medad/core';
import { holdout, softmaxProbs, trainSoftmaxRegression, type SoftmaxModel } from './logreg.js';

/** A sample with the features of its image and, for training, of its three mirror images. */
export interface FeaturedSample {
  sample: MedAdSample;
  features: Float32Array;
  /** Features of the image flipped left-right, upside-down, and both (training augmentation). */
  flips?: [Float32Array, Float32Array, Float32Array];
}

/** One baseline prediction. */
export interface BaselinePrediction {
  id: string;
  answer: OptionLetter;
  predicted: OptionLetter;
}

/** A classifier over option contents, trained for one task. */
export interface ImageOnlyModel {
  classes: string[];
  model: SoftmaxModel;
  l2: number;
}

const L2_GRID = [0.001, 0.003, 0.01, 0.03];
const FLIPS: ReadonlyArray<[boolean, boolean]> = [
  [true, false],
  [false, true],
  [true, true],
];

function correctText(s: MedAdSample): string {
  return s.options[letterIndex(s.answer)]!;
}

/**
 * The label of a mirrored image: region names follow the mirror (Left↔Right, Upper↔Lower,
 * Center stays); any other label (modality, anatomy, finding, pathology) is unchanged.
 */
export function mirroredLabel(label: string, horizontal: boolean, vertical: boolean): string {
  if (!(REGIONS as readonly string[]).includes(label) || label === 'Center') return label;
  let [side, level] = label.split(' ') as [string, string];
  if (horizontal) side = side === 'Left' ? 'Right' : 'Left';
  if (vertical) level = level === 'Upper' ? 'Lower' : 'Upper';
  return `${side} ${level}` as Region;
}

/** Picks the option the class probabilities rank highest; options never seen in training rank last. */
export function chooseOption(options: readonly string[], classes: readonly string[], probs: ArrayLike<number>): OptionLetter {
  let best = 0;
  let bestScore = -Infinity;
  options.forEach((o, i) => {
    const c = classes.indexOf(o);
    const score = c >= 0 ? probs[c]! : -1;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return OPTION_LETTERS[best]!;
}

function accuracyOf(model: ImageOnlyModel, items: readonly FeaturedSample[]): number {
  let ok = 0;
  for (const it of items) if (chooseOption(it.sample.options, model.classes, softmaxProbs(model.model, it.features)) === it.sample.answer) ok++;
  return items.length ? ok / items.length : 0;
}

function fit(items: readonly FeaturedSample[], classes: string[], l2: number, seed: number): ImageOnlyModel {
  const x: Float32Array[] = [];
  const y: number[] = [];
  const add = (f: Float32Array, label: string) => {
    const c = classes.indexOf(label);
    if (c >= 0) {
      x.push(f);
      y.push(c);
    }
  };
  for (const it of items) {
    const label = correctText(it.sample);
    add(it.features, label);
    it.flips?.forEach((f, k) => add(f, mirroredLabel(label, FLIPS[k]![0], FLIPS[k]![1])));
  }
  return { classes, l2, model: trainSoftmaxRegression(x, y, classes.length, { l2, seed }) };
}

/**
 * Trains the image-only baseline for one task: multinomial logistic regression from pixel
 * features (of each image and its mirror images) to the correct option's text, L2 chosen on a
 * seeded quarter of the training images, then refit on all. It never sees the question or the
 * option order.
 */
export function trainImageOnly(train: readonly FeaturedSample[], seed: number): ImageOnlyModel {
  const labels = new Set<string>();
  for (const it of train) {
    const label = correctText(it.sample);
    labels.add(label);
    if (it.flips) for (const [h, v] of FLIPS) labels.add(mirroredLabel(label, h, v));
  }
  const classes = [...labels].sort();
  const { fit: fitIdx, held } = holdout(train.length, 0.25, new SeededRng(seed));
  let bestL2 = 0.003;
  let bestAcc = -1;
  if (held.length >= 8 && fitIdx.length >= classes.length) {
    for (const l2 of L2_GRID) {
      const acc = accuracyOf(fit(fitIdx.map((i) => train[i]!), classes, l2, seed), held.map((i) => train[i]!));
      if (acc > bestAcc) {
        bestAcc = acc;
        bestL2 = l2;
      }
    }
  }
  return fit(train, classes, bestL2, seed);
}

/** Predicts the answer letter of each sample from its image alone. */
export function predictImageOnly(model: ImageOnlyModel, items: readonly FeaturedSample[]): BaselinePrediction[] {
  return items.map((it) => ({
    id: it.sample.id,
    answer: it.sample.answer,
    predicted: chooseOption(it.sample.options, model.classes, softmaxProbs(model.model, it.features)),
  }));
}
