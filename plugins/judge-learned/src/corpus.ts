import { REGIONS, SeededRng, TASKS, type MedAdSample, type Task } from '@medad/core';
import {
  ANATOMIES,
  ANATOMY_EVIDENCE,
  ANOMALY_EVIDENCE,
  MODALITIES,
  MODALITY_EVIDENCE,
  OPTION_SETS,
  PATHOLOGY_EVIDENCE,
  REGION_EVIDENCE,
  balancedLetters,
  buildOptions,
  composeCot,
  pickQuestion,
} from '@medad/dataset';

// The benchmark's evidence sentence for each correct option, per task (packages/dataset vocab).
const EVIDENCE: Readonly<Record<Task, Readonly<Record<string, string>>>> = {
  anatomy_identification: ANATOMY_EVIDENCE,
  modality_classification: MODALITY_EVIDENCE,
  anomaly_detection: ANOMALY_EVIDENCE,
  pathology_characterization: PATHOLOGY_EVIDENCE,
  lesion_localization: REGION_EVIDENCE,
};

/** Settings of {@link synthesizeJudgeCorpus}. */
export interface JudgeCorpusOptions {
  samples: number;
  seed: number;
  /** Fraction that goes to the train split (default 0.7, as the embedded benchmark). */
  trainFraction?: number;
}

/**
 * Text-only benchmark samples (no images are written) built from the benchmark's own question
 * templates, option sets, evidence sentences and CoT frames in `@medad/dataset`: what a judge
 * reads, for tests and quick experiments without running the image generator. Tasks and answer
 * letters are balanced; the split is drawn per sample.
 */
export function synthesizeJudgeCorpus(options: JudgeCorpusOptions): MedAdSample[] {
  const rng = new SeededRng(`judge-corpus/${options.seed}`);
  const letters = balancedLetters(options.samples, rng.fork('letters'));
  const trainFraction = options.trainFraction ?? 0.7;
  const out: MedAdSample[] = [];
  for (let i = 0; i < options.samples; i++) {
    const task = TASKS[i % TASKS.length]!;
    const pool = OPTION_SETS[task];
    const correct = rng.pick(pool);
    const { options: opts, answer } = buildOptions(correct, pool, letters[i]!, rng);
    const modality = task === 'modality_classification' ? correct : rng.pick(MODALITIES);
    const anatomy = task === 'anatomy_identification' ? correct : rng.pick(ANATOMIES);
    out.push({
      id: `judge-${String(i).padStart(6, '0')}`,
      image: `images/judge-${String(i).padStart(6, '0')}.png`,
      modality,
      anatomy,
      task,
      question: pickQuestion(task, rng),
      options: opts,
      answer,
      cot: composeCot(EVIDENCE[task][correct]!, answer, correct, rng),
      source: 'judge-corpus',
      split: rng.bernoulli(trainFraction) ? 'train' : 'test',
      ...(task === 'lesion_localization' ? { region: correct as (typeof REGIONS)[number] } : {}),
    });
  }
  return out;
}
