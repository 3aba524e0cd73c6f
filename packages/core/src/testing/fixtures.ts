import { parseCompletion } from '../completion.js';
import type { RewardInput } from '../contracts/reward.js';
import type { MedAdSample, RawImage } from '../domain.js';

/** A valid modality-classification sample whose answer is B. */
export const FIXTURE_SAMPLE: MedAdSample = Object.freeze({
  id: 'fixture-0001',
  image: 'images/fixture-0001.png',
  modality: 'CT',
  anatomy: 'brain',
  task: 'modality_classification',
  question: 'Which imaging modality was used to acquire this image?',
  options: ['MRI', 'CT', 'Ultrasound', 'X-ray'],
  answer: 'B',
  cot: 'The image shows dense bone as bright white with a grey soft-tissue window, typical of CT, so the answer is (B) CT.',
  source: 'fixture',
  split: 'test',
}) as MedAdSample;

/** A 16×16 RGB gradient image. */
export function fixtureImage(size = 16): RawImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      data[i] = (x * 255) / (size - 1);
      data[i + 1] = (y * 255) / (size - 1);
      data[i + 2] = 128;
    }
  return { width: size, height: size, channels: 3, data };
}

/** Completions covering the cases every reward must handle. */
export const FIXTURE_COMPLETIONS: Record<string, string> = {
  correct: '<think>Bright bone and grey soft tissue: CT, so the answer is (B) CT.</think><answer>B</answer>',
  wrong: '<think>Dark fluid and bright fat suggest MRI, so the answer is (A) MRI.</think><answer>A</answer>',
  inconsistent: '<think>Dark fluid and bright fat suggest MRI, so the answer is (A) MRI.</think><answer>B</answer>',
  noThink: '<answer>B</answer>',
  noAnswer: '<think>Looks like CT, option (B).</think>',
  garbage: 'CT I think',
  empty: '',
};

/** Reward inputs for every fixture completion (judge deduction = letter named in the think). */
export function fixtureRewardInputs(): RewardInput[] {
  return Object.values(FIXTURE_COMPLETIONS).map((completion) => {
    const parsed = parseCompletion(completion, FIXTURE_SAMPLE.options);
    const named = /\(([A-D])\)/.exec(parsed.think ?? '')?.[1] ?? null;
    return {
      sample: FIXTURE_SAMPLE,
      completion,
      parsed,
      judgeDeduction: named as RewardInput['judgeDeduction'],
    };
  });
}
