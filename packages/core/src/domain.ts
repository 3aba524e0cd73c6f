/** The five MedAD tasks, in the paper's order. */
export const TASKS = [
  'anatomy_identification',
  'modality_classification',
  'anomaly_detection',
  'pathology_characterization',
  'lesion_localization',
] as const;
/** One of the five MedAD tasks. */
export type Task = (typeof TASKS)[number];

/** The four option letters. */
export const OPTION_LETTERS = ['A', 'B', 'C', 'D'] as const;
/** An answer letter. */
export type OptionLetter = (typeof OPTION_LETTERS)[number];

/** The five lesion-localization regions. */
export const REGIONS = ['Left Upper', 'Right Upper', 'Left Lower', 'Right Lower', 'Center'] as const;
/** A lesion-localization region. */
export type Region = (typeof REGIONS)[number];

/** The split names. */
export const SPLITS = ['train', 'test'] as const;
/** A dataset split. */
export type Split = (typeof SPLITS)[number];

/** Axis-aligned box in pixels: x, y of the top-left corner, width, height. */
export interface BBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One multiple-choice VQA item (DESIGN.md §4); `image` and `mask` are relative to the dataset root. */
export interface MedAdSample {
  id: string;
  image: string;
  modality: string;
  anatomy: string;
  task: Task;
  question: string;
  options: [string, string, string, string];
  answer: OptionLetter;
  cot: string;
  source: string;
  split: Split;
  region?: Region;
  bbox?: BBox;
  mask?: string;
  /** Optional free-form metadata (pathology, lesion flag, importer provenance...). */
  meta?: Record<string, unknown>;
}

/** An image in memory: row-major, interleaved channels, values 0-255. */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** True when `x` is an option letter. */
export function isOptionLetter(x: unknown): x is OptionLetter {
  return typeof x === 'string' && (OPTION_LETTERS as readonly string[]).includes(x);
}

/** Index 0-3 of a letter. */
export function letterIndex(letter: OptionLetter): number {
  return OPTION_LETTERS.indexOf(letter);
}
