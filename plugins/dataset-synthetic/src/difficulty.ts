import { ErrorCode, MedadError, type Region, type Task } from '@medad/core';
import type { Anatomy, Modality, Pathology } from '@medad/dataset';

/**
 * The benchmark's difficulty knobs and CoT-annotation noise. Every knob's "off" value reproduces
 * generator 1.1.0 byte for byte; knobs draw from their own seeded streams, never from the ones
 * the base benchmark uses.
 */
export interface DifficultyKnobs {
  /** Each lesion keeps a contrast factor drawn uniformly from [lesionContrast, 1] of its full contrast against the tissue around it (1 = off). */
  lesionContrast: number;
  /** Each lesion's radius is scaled by a factor drawn uniformly from [lesionSize, 1] (1 = off). */
  lesionSize: number;
  /** Each lesion's shape is morphed towards its look-alike type (`paintLesion`: cyst↔abscess, benign↔malignant, infarct→cyst, calcification→benign) by a fraction drawn from [0, lookAlike / 2] (0 = off; 1 makes some lesions halfway). */
  lookAlike: number;
  /** Fraction of pathology and localization blocks whose images hold 1–2 other lesions and whose question names the target (0 = off). */
  multiLesion: number;
  /** Fraction of modality, anatomy and pathology blocks whose four options are look-alikes of one another (0 = off). */
  closeOptions: number;
  /** Fraction of train CoTs whose findings are incomplete (half) or point to another option (half), as LLM-drafted annotations are; test CoTs stay clean (0 = off). */
  cotNoise: number;
}

/** The knob values that reproduce generator 1.1.0 exactly. */
export const KNOBS_OFF: Readonly<DifficultyKnobs> = Object.freeze({ lesionContrast: 1, lesionSize: 1, lookAlike: 0, multiLesion: 0, closeOptions: 0, cotNoise: 0 });

/**
 * The benchmark's default regime (the plugin config's defaults, so `medad data synth` and the
 * `synthetic` dataset plugin use it), chosen by measurement so that the default SFT (8,000 steps,
 * 20,000 samples) lands where the paper's does: 79.2 % held-out, consistency 84.8 %
 * (docs/results/benchmark-knobs.md). `synthesize()` without knobs stays at {@link KNOBS_OFF}.
 */
export const DEFAULT_KNOBS: Readonly<DifficultyKnobs> = Object.freeze({ lesionContrast: 0.4, lesionSize: 0.5, lookAlike: 1, multiLesion: 0.25, closeOptions: 1, cotNoise: 0.4 });

/** Valid range of each knob (inclusive). */
export const KNOB_RANGES: Readonly<Record<keyof DifficultyKnobs, readonly [number, number]>> = Object.freeze({
  lesionContrast: [0.1, 1],
  lesionSize: [0.3, 1],
  lookAlike: [0, 1],
  multiLesion: [0, 1],
  closeOptions: [0, 1],
  cotNoise: [0, 1],
});

/** Short tags of the knobs in dataset ids (`synthetic-s0-n2000-lc0.5-cn0.2`). */
const ID_TAGS: Readonly<Record<keyof DifficultyKnobs, string>> = Object.freeze({
  lesionContrast: 'lc',
  lesionSize: 'ls',
  lookAlike: 'la',
  multiLesion: 'ml',
  closeOptions: 'co',
  cotNoise: 'cn',
});

/** The knob names, in id order. */
export const KNOB_NAMES = Object.keys(KNOBS_OFF) as Array<keyof DifficultyKnobs>;

/** Fills missing knobs with their off values and checks the ranges (an error names the knob, its range and the value). */
export function resolveKnobs(k: Partial<DifficultyKnobs> = {}): DifficultyKnobs {
  const out = { ...KNOBS_OFF };
  for (const name of KNOB_NAMES) {
    const v = k[name] ?? KNOBS_OFF[name];
    const [lo, hi] = KNOB_RANGES[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
      throw new MedadError(ErrorCode.BadUserInput, `${name} must be a number from ${lo} to ${hi}, got ${String(v)}`, { fix: `pass e.g. ${name} = ${KNOBS_OFF[name]} (off)` });
    }
    out[name] = v;
  }
  return out;
}

/** The id suffix of the knobs that are not off ('' when all are off). */
export function knobsIdSuffix(k: DifficultyKnobs): string {
  return KNOB_NAMES.filter((n) => k[n] !== KNOBS_OFF[n])
    .map((n) => `-${ID_TAGS[n]}${k[n]}`)
    .join('');
}

/** True when any knob that changes images or questions (not only CoTs) is on. */
export function knobsActive(k: DifficultyKnobs): boolean {
  return KNOB_NAMES.some((n) => k[n] !== KNOBS_OFF[n]);
}

/** Every member of a group is close to every other (groups must not overlap). */
function cliques(groups: ReadonlyArray<readonly string[]>): Record<string, readonly string[]> {
  return Object.fromEntries(groups.flatMap((g) => g.map((v) => [v, g.filter((o) => o !== v)])));
}

/**
 * Option texts that look alike in this benchmark's images, per task: a symmetric relation in
 * which every value has the same number of look-alikes (at least three), so blocks drawn from it
 * (`closeOptions`) keep answer contents uniform.
 */
export const CLOSE_OPTIONS: Readonly<Partial<Record<Task, Readonly<Record<string, readonly string[]>>>>> = Object.freeze({
  // grayscale renderings vs colour photographs
  modality_classification: cliques([
    ['MRI', 'CE-MRI', 'CT', 'X-ray', 'Ultrasound', 'OCT'] satisfies Modality[],
    ['Dermoscopy', 'Endoscopy', 'Fundus photography', 'Microscopy'] satisfies Modality[],
  ]),
  // outlined sections of bone and chambers vs soft organs, lumens and surfaces
  anatomy_identification: cliques([
    ['Brain', 'Heart', 'Knee', 'Lung', 'Breast'] satisfies Anatomy[],
    ['Liver', 'Kidney', 'Colon', 'Skin', 'Retina'] satisfies Anatomy[],
  ]),
  // a prism: dark-centred types, bright types, and the look-alike across (smooth round, ring/dots, irregular margin)
  pathology_characterization: {
    Cyst: ['Abscess', 'Infarct', 'Benign tumor'],
    Abscess: ['Cyst', 'Infarct', 'Calcification'],
    Infarct: ['Cyst', 'Abscess', 'Malignant tumor'],
    'Benign tumor': ['Malignant tumor', 'Calcification', 'Cyst'],
    'Malignant tumor': ['Benign tumor', 'Calcification', 'Infarct'],
    Calcification: ['Benign tumor', 'Malignant tumor', 'Abscess'],
  } satisfies Record<Pathology, Pathology[]>,
});

/** The values that look like `value` in a task ({@link CLOSE_OPTIONS}; empty for tasks without). */
export function closeTo(task: Task, value: string): readonly string[] {
  return CLOSE_OPTIONS[task]?.[value] ?? [];
}

/** How a multi-lesion question names its target, appended to the task's paraphrase. */
export function targetClause(task: Task, named: string): string {
  return task === 'lesion_localization' ? ` Several lesions are visible; answer about the ${named.toLowerCase()}.` : ` Several lesions are visible; answer about the one ${REGION_PLACE[named as Region]}.`;
}

/** Where a region is, in words that name no option of the pathology task. */
export const REGION_PLACE: Readonly<Record<Region, string>> = Object.freeze({
  'Left Upper': 'in the upper left part of the image',
  'Right Upper': 'in the upper right part of the image',
  'Left Lower': 'in the lower left part of the image',
  'Right Lower': 'in the lower right part of the image',
  Center: 'in the middle of the image',
});

/**
 * Findings of an incomplete CoT per task: what a careless annotator writes, naming nothing that
 * points to an option (no modality look, organ, lesion look, count or position).
 */
export const INCOMPLETE_EVIDENCE: Readonly<Record<Task, string>> = Object.freeze({
  modality_classification: 'a medical image whose acquisition details are hard to make out',
  anatomy_identification: 'some tissue whose structures are not clearly described',
  anomaly_detection: 'an image that needs a closer look',
  pathology_characterization: 'a lesion of uncertain appearance',
  lesion_localization: 'a lesion somewhere in the image',
});
