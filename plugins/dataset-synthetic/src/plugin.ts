import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ProgressToken, definePlugin, findProjectRoot, z, type ProgressReporter } from '@medad/core';
import { DESCRIPTOR_FILE, JsonlDataset, SAMPLES_FILE, readDescriptor } from '@medad/dataset';
import { DEFAULT_COT_FORMAT, DEFAULT_IMAGE_SIZE, DEFAULT_SAMPLES, GENERATOR_VERSION, synthesizeAtomically, syntheticId } from './synthesize.js';

/** Config of the `synthetic` dataset plugin. */
export const syntheticDatasetConfig = z.object({
  /** A directory made by `medad data synth`; generated there from the settings below when missing. */
  dir: z.string().min(1).optional(),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  samples: z.number().int().min(10).max(1_000_000).default(DEFAULT_SAMPLES),
  imageSize: z.number().int().min(24).max(512).default(DEFAULT_IMAGE_SIZE),
  /** Embed the local-zoom inset (MedReason-R1) in every image. */
  zoom: z.boolean().default(false),
  /** How each chain of thought names its answer: `letter-first` "(C) CT" or `text-first` "CT (C)" (pairs with the policy's optionMatch). */
  cotFormat: z.enum(['letter-first', 'text-first']).default(DEFAULT_COT_FORMAT),
  /**
   * With `dir`: `missing` generates only when the directory has no samples (reading an existing
   * benchmark as it is); `changed` also regenerates when its recorded settings differ from these.
   */
  build: z.enum(['missing', 'changed']).default('missing'),
  /** Where generated benchmarks are cached when `dir` is not given (default: $MEDAD_DATA_DIR/datasets, else <project>/data/datasets). */
  cacheDir: z.string().min(1).optional(),
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
      (p.cotFormat ?? 'letter-first') === config.cotFormat
    );
  } catch {
    return false;
  }
}

/** Opens (generating first if needed) the synthetic benchmark a config describes. */
export function openSyntheticDataset(config: SyntheticDatasetConfig, progress?: ProgressReporter): JsonlDataset {
  const settings = { seed: config.seed, samples: config.samples, imageSize: config.imageSize, zoom: config.zoom, cotFormat: config.cotFormat, progress };
  if (config.dir) {
    const dir = resolve(config.dir);
    if (!existsSync(join(dir, SAMPLES_FILE)) || (config.build === 'changed' && !upToDate(dir, config))) synthesizeAtomically(dir, settings);
    return JsonlDataset.open(dir);
  }
  const dir = join(config.cacheDir ? resolve(config.cacheDir) : defaultCacheDir(), syntheticId(config.seed, config.samples, config.imageSize, config.zoom, config.cotFormat));
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
