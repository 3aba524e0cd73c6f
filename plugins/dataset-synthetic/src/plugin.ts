import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProgressToken, definePlugin, findProjectRoot, z, type ProgressReporter, pathField } from '@medad/core';
import { DESCRIPTOR_FILE, JsonlDataset, SAMPLES_FILE, readDescriptor } from '@medad/dataset';
import { DEFAULT_KNOBS, KNOBS_OFF, KNOB_NAMES, KNOB_RANGES, type DifficultyKnobs } from './difficulty.js';
import { DEFAULT_COT_FORMAT, DEFAULT_IMAGE_SIZE, DEFAULT_SAMPLES, GENERATOR_VERSION, synthesizeAtomically, syntheticId } from './synthesize.js';

/** Config of the `synthetic` dataset plugin. */
export const syntheticDatasetConfig = z.object({
  /** A directory made by `medad data synth`; generated there from the settings below when missing. */
  dir: pathField(z.string().min(1)).optional(),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  samples: z.number().int().min(10).max(1_000_000).default(DEFAULT_SAMPLES),
  imageSize: z.number().int().min(24).max(512).default(DEFAULT_IMAGE_SIZE),
  /** Embed the local-zoom inset (MedReason-R1) in every image. */
  zoom: z.boolean().default(false),
  /** How each chain of thought names its answer: `letter-first` "(C) CT" or `text-first` "CT (C)" (pairs with the policy's optionMatch). */
  cotFormat: z.enum(['letter-first', 'text-first']).default(DEFAULT_COT_FORMAT),
  // Difficulty knobs and CoT-annotation noise (difficulty.ts); the defaults are the measured regime
  // DEFAULT_KNOBS (docs/results/benchmark-knobs.md), the off values reproduce generator 1.1.0.
  lesionContrast: z
    .number()
    .min(KNOB_RANGES.lesionContrast[0])
    .max(KNOB_RANGES.lesionContrast[1])
    .default(DEFAULT_KNOBS.lesionContrast)
    .describe('lowest lesion contrast: each lesion keeps a fraction drawn from [this, 1] of its intensity gap to the tissue around it (1 = full contrast; off)'),
  lesionSize: z
    .number()
    .min(KNOB_RANGES.lesionSize[0])
    .max(KNOB_RANGES.lesionSize[1])
    .default(DEFAULT_KNOBS.lesionSize)
    .describe('smallest lesion size: each lesion radius is scaled by a factor drawn from [this, 1] (1 = full size; off)'),
  lookAlike: z
    .number()
    .min(KNOB_RANGES.lookAlike[0])
    .max(KNOB_RANGES.lookAlike[1])
    .default(DEFAULT_KNOBS.lookAlike)
    .describe('look-alike pathologies: each lesion shape is morphed towards its look-alike type (cyst/abscess, benign/malignant, infarct→cyst, calcification→benign) by a fraction drawn from [0, this/2] (0 = off)'),
  multiLesion: z
    .number()
    .min(KNOB_RANGES.multiLesion[0])
    .max(KNOB_RANGES.multiLesion[1])
    .default(DEFAULT_KNOBS.multiLesion)
    .describe('fraction of pathology and localization blocks whose images hold 1-2 other lesions, the question naming the target by its region or type (0 = off)'),
  closeOptions: z
    .number()
    .min(KNOB_RANGES.closeOptions[0])
    .max(KNOB_RANGES.closeOptions[1])
    .default(DEFAULT_KNOBS.closeOptions)
    .describe('fraction of modality, anatomy and pathology blocks whose four options look alike (0 = off)'),
  cotNoise: z
    .number()
    .min(KNOB_RANGES.cotNoise[0])
    .max(KNOB_RANGES.cotNoise[1])
    .default(DEFAULT_KNOBS.cotNoise)
    .describe('fraction of train CoTs whose findings are incomplete (half) or point to another option (half), as LLM-drafted annotations are; test CoTs stay clean (0 = off)'),
  /**
   * With `dir`: `missing` generates only when the directory has no samples (reading an existing
   * benchmark as it is); `changed` also regenerates when its recorded settings differ from these.
   */
  build: z.enum(['missing', 'changed']).default('missing'),
  /** Where generated benchmarks are cached when `dir` is not given (default: $MEDAD_DATA_DIR/datasets, else <project>/data/datasets). */
  cacheDir: pathField(z.string().min(1)).optional(),
});

/** The synthetic dataset plugin's settings. */
export type SyntheticDatasetConfig = z.output<typeof syntheticDatasetConfig>;

/** The directory generated benchmarks are cached in. */
export function defaultCacheDir(): string {
  const base = process.env.MEDAD_DATA_DIR ? resolve(process.env.MEDAD_DATA_DIR) : join(findProjectRoot(), 'data');
  return join(base, 'datasets');
}

function upToDate(dir: string, config: SyntheticDatasetConfig): boolean {
  if (!existsSync(join(dir, SAMPLES_FILE)) || !existsSync(join(dir, DESCRIPTOR_FILE))) return false;
  try {
    const p = readDescriptor(dir).provenance ?? {};
    return (
      p.generatorVersion === GENERATOR_VERSION &&
      p.seed === config.seed &&
      p.samples === config.samples &&
      p.imageSize === config.imageSize &&
      p.zoom === config.zoom &&
      (p.cotFormat ?? 'letter-first') === config.cotFormat &&
      KNOB_NAMES.every((k) => (p[k] ?? KNOBS_OFF[k]) === config[k])
    );
  } catch {
    return false;
  }
}

/** The difficulty knobs of a config. */
export function knobsOf(config: SyntheticDatasetConfig): DifficultyKnobs {
  return Object.fromEntries(KNOB_NAMES.map((k) => [k, config[k]])) as unknown as DifficultyKnobs;
}

/** Opens (generating first if needed) the synthetic benchmark a config describes. */
export function openSyntheticDataset(config: SyntheticDatasetConfig, progress?: ProgressReporter): JsonlDataset {
  const knobs = knobsOf(config);
  const settings = { seed: config.seed, samples: config.samples, imageSize: config.imageSize, zoom: config.zoom, cotFormat: config.cotFormat, knobs, progress };
  if (config.dir) {
    const dir = resolve(config.dir);
    if (!existsSync(join(dir, SAMPLES_FILE)) || (config.build === 'changed' && !upToDate(dir, config))) synthesizeAtomically(dir, settings);
    return JsonlDataset.open(dir);
  }
  const dir = join(config.cacheDir ? resolve(config.cacheDir) : defaultCacheDir(), syntheticId(config.seed, config.samples, config.imageSize, config.zoom, config.cotFormat, knobs));
  if (!upToDate(dir, config)) synthesizeAtomically(dir, settings);
  return JsonlDataset.open(dir);
}

/** The embedded MedAD benchmark (the default dataset): reads a `medad data synth` directory or generates one from a seed. */
export const syntheticDatasetPlugin = definePlugin({
  kind: 'dataset',
  id: 'synthetic',
  version: '0.1.0',
  description: 'Embedded MedAD benchmark: ten modalities, ten anatomies, five tasks, generated from a seed',
  configSchema: syntheticDatasetConfig,
  create: (deps, config) => openSyntheticDataset(config, deps.tryResolve(ProgressToken)),
});
