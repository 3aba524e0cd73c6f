import { mkdirSync, renameSync, rmSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ErrorCode, MedadError, SeededRng, silentProgress, type MedAdSample, type ProgressReporter, type Task } from '@medad/core';
import {
  ANATOMY_EVIDENCE,
  ANOMALY_EVIDENCE,
  MODALITY_EVIDENCE,
  PATHOLOGY_EVIDENCE,
  REGION_EVIDENCE,
  SAMPLES_FILE,
  composeCot,
  type CotFormat,
  COT_FORMATS,
  writeDescriptor,
  writePngFile,
  writeSamplesJsonl,
  zoomWithRoi,
  type Pathology,
} from '@medad/dataset';
import type { Region } from '@medad/core';
import { MODALITY_VIEW, VIEW_ANATOMY_EVIDENCE } from './catalog.js';
import { INCOMPLETE_EVIDENCE, KNOBS_OFF, KNOB_NAMES, REGION_PLACE, knobsIdSuffix, resolveKnobs, type DifficultyKnobs } from './difficulty.js';
import { planBenchmark, type PlannedItem } from './plan.js';
import { renderScene, type RenderedScene } from './scene.js';

/** Version of the generator; part of the cache key, bumped whenever its output changes. */
export const GENERATOR_VERSION = '1.1.0';
/** Default number of samples: trains a ~0.4M-parameter policy in minutes on 2 cores. */
export const DEFAULT_SAMPLES = 2000;
/** Default chain-of-thought format (see {@link SynthesizeOptions.cotFormat}). */
export const DEFAULT_COT_FORMAT: CotFormat = 'text-first';
/** Default stored image side in pixels (policies resize to their own input). */
export const DEFAULT_IMAGE_SIZE = 64;

/** Options of {@link synthesize}. */
export interface SynthesizeOptions {
  /** Output directory (created; existing files with the same names are overwritten). */
  out: string;
  samples?: number;
  seed?: number;
  imageSize?: number;
  /** Embed MedReason-R1's local-zoom inset of the lesion (or a decoy region) in every image. */
  zoom?: boolean;
  /**
   * How each chain of thought names its answer: `text-first` "… so the answer is CT (C)." (default
   * since generator 1.1.0: with the policy's optionMatch the letter is then a one-step copy,
   * docs/results) or `letter-first` "… (C) CT." (generator 1.0.0's only format).
   */
  cotFormat?: CotFormat;
  /** Difficulty knobs and CoT-annotation noise (see {@link DifficultyKnobs}); missing knobs are off. */
  knobs?: Partial<DifficultyKnobs>;
  progress?: ProgressReporter;
}

/** What {@link synthesize} wrote. */
export interface SynthesizeResult {
  dir: string;
  id: string;
  samples: number;
  counts: { train: number; test: number };
  seconds: number;
}

/** The dataset id of a synthetic benchmark (also its cache directory name). */
export function syntheticId(seed: number, samples: number, imageSize: number, zoom: boolean, cotFormat: CotFormat = DEFAULT_COT_FORMAT, knobs: Partial<DifficultyKnobs> = {}): string {
  return `synthetic-s${seed}-n${samples}${imageSize === DEFAULT_IMAGE_SIZE ? '' : `-px${imageSize}`}${zoom ? '-zoom' : ''}${cotFormat === DEFAULT_COT_FORMAT ? '' : `-cot-${cotFormat}`}${knobsIdSuffix(resolveKnobs(knobs))}`;
}

/** The findings a correct CoT states for `option` (the answer, or a distractor in a wrong CoT). */
function evidenceFor(item: PlannedItem, scene: RenderedScene, option: string = item.answerText): string {
  const lesion = scene.lesions[0];
  switch (item.task as Task) {
    case 'modality_classification':
      return MODALITY_EVIDENCE[option as typeof item.modality];
    case 'anatomy_identification':
      return VIEW_ANATOMY_EVIDENCE[MODALITY_VIEW[item.modality]]?.[option as typeof item.anatomy] ?? ANATOMY_EVIDENCE[option as typeof item.anatomy];
    case 'anomaly_detection':
      return ANOMALY_EVIDENCE[option as typeof item.finding];
    case 'pathology_characterization':
      return item.multi ? `several lesions; the one ${REGION_PLACE[lesion!.region]} shows ${PATHOLOGY_EVIDENCE[option as Pathology]}` : PATHOLOGY_EVIDENCE[option as Pathology];
    case 'lesion_localization': {
      const region = (option === item.answerText ? (lesion?.region ?? option) : option) as Region;
      return item.multi ? `several lesions; the ${lesion!.pathology.toLowerCase()} is ${REGION_EVIDENCE[region]}` : REGION_EVIDENCE[region];
    }
  }
}

/** How a noisy train CoT's findings were altered (`cotNoise`). */
export type CotNoise = 'incomplete' | 'wrong';

/**
 * The findings of an item's CoT: correct, or for a `cotNoise` fraction of train items (drawn from
 * the item's own stream) incomplete or pointing to another of its options.
 */
function findingsFor(item: PlannedItem, scene: RenderedScene, seed: number, cotNoise: number): { evidence: string; noise?: CotNoise; noiseOption?: string } {
  if (cotNoise === 0 || item.split !== 'train') return { evidence: evidenceFor(item, scene) };
  const rng = new SeededRng(`synthetic/${seed}/${item.index}/cot-noise`);
  if (!rng.bernoulli(cotNoise)) return { evidence: evidenceFor(item, scene) };
  if (rng.bernoulli(0.5)) return { evidence: INCOMPLETE_EVIDENCE[item.task], noise: 'incomplete' };
  const other = rng.pick(item.options.filter((o) => o !== item.answerText));
  return { evidence: evidenceFor(item, scene, other), noise: 'wrong', noiseOption: other };
}

function checkOptions(o: SynthesizeOptions): Required<Omit<SynthesizeOptions, 'progress' | 'knobs'>> & { knobs: DifficultyKnobs } {
  const samples = o.samples ?? DEFAULT_SAMPLES;
  const seed = o.seed ?? 0;
  const imageSize = o.imageSize ?? DEFAULT_IMAGE_SIZE;
  if (!Number.isInteger(samples) || samples < 10 || samples > 1_000_000) {
    throw new MedadError(ErrorCode.BadUserInput, `samples must be an integer from 10 to 1000000, got ${samples}`, { fix: `pass e.g. --samples ${DEFAULT_SAMPLES}` });
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new MedadError(ErrorCode.BadUserInput, `seed must be an integer from 0 to 4294967295, got ${seed}`, { fix: 'pass e.g. --seed 0' });
  }
  if (!Number.isInteger(imageSize) || imageSize < 24 || imageSize > 512) {
    throw new MedadError(ErrorCode.BadUserInput, `imageSize must be an integer from 24 to 512, got ${imageSize}`, { fix: `pass e.g. ${DEFAULT_IMAGE_SIZE}` });
  }
  const cotFormat = o.cotFormat ?? DEFAULT_COT_FORMAT;
  if (!COT_FORMATS.includes(cotFormat)) {
    throw new MedadError(ErrorCode.BadUserInput, `cotFormat must be one of ${COT_FORMATS.join(', ')}, got ${JSON.stringify(cotFormat)}`, { fix: 'pass e.g. --cot-format text-first' });
  }
  return { out: resolve(o.out), samples, seed, imageSize, zoom: o.zoom ?? false, cotFormat, knobs: resolveKnobs(o.knobs) };
}

/**
 * Builds one sample (and its image) from a planned item; deterministic in (seed, index).
 * `cotNoise` is the fraction of train CoTs whose findings are altered ({@link findingsFor}).
 */
export function synthesizeItem(item: PlannedItem, seed: number, imageSize: number, zoom: boolean, cotFormat: CotFormat = DEFAULT_COT_FORMAT, cotNoise = 0): { sample: MedAdSample; image: RenderedScene['image'] } {
  const rng = new SeededRng(`synthetic/${seed}/${item.index}`);
  const scene = renderScene(item.scene, imageSize, rng.fork('scene'));
  const id = `syn-${String(item.index).padStart(6, '0')}`;
  const text = rng.fork('text');
  const { question, options, letter: answer } = item;
  const findings = findingsFor(item, scene, seed, cotNoise);
  const cot = composeCot(findings.evidence, answer, item.answerText, text, cotFormat);
  let image = scene.image;
  // a multi-lesion item's region and box are its named target's (the first lesion)
  const single = scene.lesions.length === 1 || item.multi ? scene.lesions[0] : undefined;
  const meta: Record<string, unknown> = {
    finding: item.finding,
    pathologies: scene.lesions.map((l) => l.pathology),
    lesions: scene.lesions.map((l, i) => {
      const { contrast, morph } = item.scene.lesions[i] ?? {};
      return { pathology: l.pathology, region: l.region, bbox: l.bbox, ...(contrast === undefined ? {} : { contrast }), ...(morph === undefined ? {} : { morph }) };
    }),
    view: MODALITY_VIEW[item.modality],
    block: item.block,
    ...(item.multi ? { target: 0 } : {}),
    ...(findings.noise ? { cotNoise: findings.noise, ...(findings.noiseOption ? { cotNoiseOption: findings.noiseOption } : {}) } : {}),
  };
  if (zoom) {
    const roi = scene.lesions[0]?.bbox ?? (scene.diffuse ? box(scene.diffuse, imageSize) : null);
    const { image: zoomed, ...where } = zoomWithRoi(image, roi, rng.fork('zoom'));
    image = zoomed;
    meta.zoom = where;
  }
  const sample: MedAdSample = {
    id,
    image: `images/${id}.png`,
    modality: item.modality,
    anatomy: item.anatomy,
    task: item.task,
    question,
    options,
    answer,
    cot,
    source: item.source,
    split: item.split,
    ...(single ? { region: single.region, bbox: single.bbox } : {}),
    meta,
  };
  return { sample, image };
}

function box(d: { cx: number; cy: number; radius: number }, side: number) {
  const x = Math.max(0, Math.floor(d.cx - d.radius));
  const y = Math.max(0, Math.floor(d.cy - d.radius));
  return { x, y, width: Math.min(side, Math.ceil(d.cx + d.radius)) - x, height: Math.min(side, Math.ceil(d.cy + d.radius)) - y };
}

/**
 * Writes the embedded benchmark: `<out>/images/*.png`, `<out>/samples.jsonl` and `<out>/dataset.json`.
 * Same options ⇒ byte-identical files.
 */
export function synthesize(options: SynthesizeOptions): SynthesizeResult {
  const started = Date.now();
  const o = checkOptions(options);
  const progress = options.progress ?? silentProgress;
  const plan = planBenchmark(o.samples, new SeededRng(`synthetic/${o.seed}/plan`), o.knobs, new SeededRng(`synthetic/${o.seed}/knobs`));
  const samples: MedAdSample[] = [];
  progress.start(plan.length, 'synthesizing');
  for (const item of plan) {
    const { sample, image } = synthesizeItem(item, o.seed, o.imageSize, o.zoom, o.cotFormat, o.knobs.cotNoise);
    writePngFile(join(o.out, sample.image), image);
    samples.push(sample);
    if ((item.index + 1) % 50 === 0 || item.index + 1 === plan.length) progress.update(item.index + 1);
  }
  progress.stop();
  writeSamplesJsonl(join(o.out, SAMPLES_FILE), samples);
  const id = syntheticId(o.seed, o.samples, o.imageSize, o.zoom, o.cotFormat, o.knobs);
  const harder = KNOB_NAMES.filter((k) => o.knobs[k] !== KNOBS_OFF[k]).map((k) => `${k} ${o.knobs[k]}`);
  writeDescriptor(o.out, {
    format: 'medad-jsonl',
    version: 1,
    id,
    name: `MedAD synthetic benchmark (seed ${o.seed}, ${o.samples} samples${o.zoom ? ', local zoom' : ''}${o.cotFormat === DEFAULT_COT_FORMAT ? '' : `, ${o.cotFormat} CoT`}${harder.length ? `, ${harder.join(', ')}` : ''})`,
    samplesFile: SAMPLES_FILE,
    provenance: { generator: '@medad/plugin-dataset-synthetic', generatorVersion: GENERATOR_VERSION, seed: o.seed, samples: o.samples, imageSize: o.imageSize, zoom: o.zoom, cotFormat: o.cotFormat, ...o.knobs },
  });
  const train = samples.filter((s) => s.split === 'train').length;
  return { dir: o.out, id, samples: samples.length, counts: { train, test: samples.length - train }, seconds: (Date.now() - started) / 1000 };
}

/**
 * Synthesizes into `dir` through a temporary sibling directory renamed into place, so a reader
 * never sees a half-written benchmark and two concurrent writers do not corrupt each other.
 */
export function synthesizeAtomically(dir: string, options: Omit<SynthesizeOptions, 'out'>): SynthesizeResult {
  const target = resolve(dir);
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(dirname(target), { recursive: true });
  try {
    const result = synthesize({ ...options, out: tmp });
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    return { ...result, dir: target };
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}
