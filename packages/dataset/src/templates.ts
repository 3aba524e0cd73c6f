import { TASKS, type OptionLetter, type SeededRng, type Task } from '@medad/core';

/**
 * Ten paraphrased question templates per task. None names an option, so the answer is never in
 * the question text.
 */
export const QUESTION_TEMPLATES: Readonly<Record<Task, readonly string[]>> = Object.freeze({
  anatomy_identification: [
    'Which anatomical structure is shown in this image?',
    'What part of the body does this image depict?',
    'Identify the anatomy visible in this scan.',
    'Which organ or body region is imaged here?',
    'What is the primary anatomical region captured in this image?',
    'Which body part is the focus of this medical image?',
    'From the image, which anatomy is being examined?',
    'What anatomical site does this image show?',
    'Name the organ or tissue shown in this image.',
    'Which region of the body was imaged?',
  ],
  modality_classification: [
    'Which imaging modality was used to acquire this image?',
    'What type of imaging produced this image?',
    'Identify the imaging technique shown.',
    'By which modality was this medical image obtained?',
    'What kind of scan or imaging is this?',
    'Which acquisition technique does this image come from?',
    'What imaging method was used here?',
    'Determine the modality of this medical image.',
    'This image was most likely captured with which imaging modality?',
    'Which of the following modalities produced this image?',
  ],
  anomaly_detection: [
    'Is there any abnormality in this image?',
    'Does this image show an abnormal finding?',
    'What best describes the presence of abnormalities in this image?',
    'Are any abnormal findings visible in this scan?',
    'How would you characterize this image with respect to abnormalities?',
    'Is an anomaly present in this image, and if so, of what extent?',
    'Which statement best describes the abnormality status of this image?',
    'Do you see any lesion or abnormal region here?',
    'Assess this image: is anything abnormal?',
    'What is the abnormality finding in this image?',
  ],
  pathology_characterization: [
    'What type of lesion is shown in this image?',
    'Which pathology best describes the abnormal finding?',
    'How would you characterize the lesion in this image?',
    'What is the most likely nature of the visible abnormality?',
    'Which diagnosis best fits the lesion seen here?',
    'Identify the pathology of the abnormal region.',
    'What kind of abnormality does this image show?',
    'Classify the lesion visible in this image.',
    'Which of the following best characterizes the finding?',
    'What is the pathological finding in this image?',
  ],
  lesion_localization: [
    'Where is the lesion located in this image?',
    'In which region of the image is the abnormality found?',
    'Which part of the image contains the lesion?',
    'Locate the abnormal finding in the image.',
    'Where in the image does the lesion appear?',
    'In which region is the abnormality situated?',
    'Which area of the image shows the lesion?',
    'Identify the location of the abnormal region.',
    'Where is the abnormal region positioned within the image?',
    'Which image region contains the abnormality?',
  ],
});

/** A question for a task, one of its ten paraphrases chosen by the generator. */
export function pickQuestion(task: Task, rng: SeededRng): string {
  return rng.pick(QUESTION_TEMPLATES[task]);
}

/**
 * Chain-of-thought frames: `{evidence}` is what the image shows, `{letter}` and `{option}` the
 * chosen option. Every frame ends by naming the option with its letter, so the conclusion is the
 * last option text in the think (what a judge and think-correctness read).
 */
export const COT_FRAMES: readonly string[] = [
  'The image shows {evidence}, so the answer is ({letter}) {option}.',
  'I see {evidence}; this fits {option}, so the answer is ({letter}) {option}.',
  'Evidence: {evidence}. Therefore the answer is ({letter}) {option}.',
  'Looking at the image, there is {evidence}, so the answer is ({letter}) {option}.',
];

/**
 * How a chain of thought names its conclusion: `letter-first` "… the answer is (C) CT." (the
 * default) or `text-first` "… the answer is CT (C).", where the letter follows the option text it
 * names, so a policy with exact-match option features (`optionMatch`) copies it in one step.
 */
export type CotFormat = 'letter-first' | 'text-first';
/** The chain-of-thought formats. */
export const COT_FORMATS: readonly CotFormat[] = ['letter-first', 'text-first'];

/** Fills a chain-of-thought frame (chosen with `rng`) with the evidence and the chosen option. */
export function composeCot(evidence: string, letter: OptionLetter, option: string, rng: SeededRng, format: CotFormat = 'letter-first'): string {
  const frame = rng.pick(COT_FRAMES);
  return fillCotFrame(format === 'text-first' ? frame.replace('({letter}) {option}.', '{option} ({letter}).') : frame, evidence, letter, option);
}

/** Fills one chain-of-thought frame. */
export function fillCotFrame(frame: string, evidence: string, letter: OptionLetter, option: string): string {
  return frame.replaceAll('{evidence}', evidence).replaceAll('{letter}', letter).replaceAll('{option}', option);
}

/** True when every task has exactly ten distinct templates (checked by tests and the CLI). */
export function templatesComplete(): boolean {
  return TASKS.every((t) => new Set(QUESTION_TEMPLATES[t]).size === 10);
}
