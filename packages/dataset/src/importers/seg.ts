import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { ErrorCode, MedadError, errorMessage, silentProgress, type ProgressReporter, type RawImage } from '@medad/core';
import { readImageFile, writePngFile } from '../image/codec.js';
import { resizeBilinear, toRgb } from '../image/raw.js';
import { writeSamplesJsonl } from '../jsonl.js';
import { analyzeMask, resizeNearest } from '../medical/index.js';
import { connectedComponents, regionOfPoint } from '../regions.js';
import { SAMPLES_FILE, writeDescriptor } from '../store.js';
import { ANATOMIES, ANOMALY_EVIDENCE, MODALITIES, PATHOLOGIES, REGION_EVIDENCE, type AnomalyFinding } from '../vocab.js';
import { anatomyEvidence, countByTask, finishSamples, importInto, listFiles, modalityEvidence, openVocabularyValue, pathologyEvidence, splitGroups, vocabularyValue, type Draft, type ImportReport, type ImportSkip } from './common.js';

/** Options of {@link importSegmentation}. */
export interface SegImportOptions {
  /** Directory of images (PNG or JPEG). */
  images: string;
  /** Directory of masks named like the images (optionally with `_mask`, `_segmentation` or `-mask` before the extension). */
  masks: string;
  modality: string;
  anatomy: string;
  /** The pathology every lesion of this dataset has (e.g. "Polyp"); pathology questions are made only when given. */
  pathology?: string;
  out: string;
  /** Source name of the samples (default: the name of the images directory's parent). */
  source?: string;
  /** Longest side of the stored images (larger ones are scaled down; default 256). */
  maxSide?: number;
  seed?: number;
  progress?: ProgressReporter;
  /** Replace an existing, non-empty `out` (default: refuse). */
  force?: boolean;
}

const IMAGE_FILE = /\.(png|jpe?g)$/i;
const MASK_SUFFIXES = ['', '_mask', '_segmentation', '-mask', '_Segmentation', 'mask'];
/** Components smaller than this fraction of the largest are treated as mask noise, not lesions. */
const MIN_COMPONENT_FRACTION = 0.05;

function stem(name: string): string {
  return basename(name, extname(name));
}

function findMask(maskFiles: Map<string, string>, imageName: string): string | undefined {
  const s = stem(imageName);
  for (const suffix of MASK_SUFFIXES) {
    const hit = maskFiles.get(`${s}${suffix}`.toLowerCase());
    if (hit) return hit;
  }
  return undefined;
}

function scaleDown(img: RawImage, maxSide: number): RawImage {
  const side = Math.max(img.width, img.height);
  if (side <= maxSide) return img;
  const f = maxSide / side;
  return resizeBilinear(img, Math.max(1, Math.round(img.width * f)), Math.max(1, Math.round(img.height * f)));
}

/** The anomaly finding a mask shows: no foreground, one lesion, or several (noise-sized specks ignored). */
export function findingOfMask(mask: { width: number; height: number; data: Uint8Array }): AnomalyFinding {
  const { areas } = connectedComponents(mask);
  if (!areas.length) return 'No abnormality';
  const largest = Math.max(...areas);
  const lesions = areas.filter((a) => a >= Math.max(4, largest * MIN_COMPONENT_FRACTION)).length;
  return lesions > 1 ? 'Multiple focal lesions' : 'A single focal lesion';
}

/**
 * Imports a segmentation dataset laid out as `images/` + `masks/` (Kvasir-SEG, BUSI, ISIC2018,
 * CVC-ClinicDB) as MedAD samples for all five tasks: modality and anatomy from the flags, anomaly
 * from the mask's components, pathology from `pathology`, the region from the mask centroid.
 * Unreadable images, missing or unreadable masks are skipped and reported; the rest is imported.
 */
export async function importSegmentation(options: SegImportOptions): Promise<ImportReport> {
  // Flags are checked before anything is read or written.
  const checked = {
    ...options,
    modality: vocabularyValue('--modality', options.modality ?? '', MODALITIES),
    anatomy: vocabularyValue('--anatomy', options.anatomy ?? '', ANATOMIES),
    pathology: options.pathology === undefined ? undefined : openVocabularyValue(options.pathology, PATHOLOGIES),
  };
  return importInto(options.out, options.force, (out) => importSegmentationInto(out, checked));
}

function importSegmentationInto(out: string, options: SegImportOptions): ImportReport {
  const imagesDir = resolve(options.images);
  const masksDir = resolve(options.masks);
  const imageNames = listFiles(imagesDir, IMAGE_FILE);
  if (!imageNames.length) {
    throw new MedadError(ErrorCode.NotFound, `No PNG or JPEG images in ${imagesDir}`, { fix: 'pass --images DIR holding the images (e.g. Kvasir-SEG/images)' });
  }
  const maskFiles = new Map(listFiles(masksDir, IMAGE_FILE).map((n) => [stem(n).toLowerCase(), n]));
  if (!maskFiles.size) {
    throw new MedadError(ErrorCode.NotFound, `No PNG or JPEG masks in ${masksDir}`, { fix: 'pass --masks DIR holding one mask per image, named like the image' });
  }
  const maxSide = options.maxSide ?? 256;
  const seed = options.seed ?? 0;
  const source = options.source ?? basename(resolve(imagesDir, '..'));
  const progress = options.progress ?? silentProgress;
  const skipped: ImportSkip[] = [];
  const groups: Array<{ key: string; make: (split: Draft['split']) => Draft[] }> = [];
  mkdirSync(out, { recursive: true });
  progress.start(imageNames.length, 'import seg');
  imageNames.forEach((name, i) => {
    progress.update(i + 1);
    const imagePath = join(imagesDir, name);
    const maskName = findMask(maskFiles, name);
    if (!maskName) {
      skipped.push({ path: imagePath, reason: `no mask named ${stem(name)}{,_mask,_segmentation}.png|jpg in ${masksDir}` });
      return;
    }
    let image: RawImage;
    let maskImg: RawImage;
    try {
      image = scaleDown(toRgb(readImageFile(imagePath)), maxSide);
      maskImg = readImageFile(join(masksDir, maskName));
    } catch (err) {
      skipped.push({ path: imagePath, reason: errorMessage(err) });
      return;
    }
    maskImg = resizeNearest(maskImg, image.width, image.height);
    const analysis = analyzeMask(maskImg);
    const binary = new Uint8Array(image.width * image.height);
    for (let p = 0; p < binary.length; p++) {
      let fg = false;
      for (let c = 0; c < Math.min(maskImg.channels, 3) && !fg; c++) fg = maskImg.data[p * maskImg.channels + c]! >= 128;
      binary[p] = fg ? 1 : 0;
    }
    const key = stem(name).replace(/[^A-Za-z0-9._-]+/g, '_');
    const rel = `images/${key}.png`;
    const maskRel = `masks/${key}.png`;
    writePngFile(join(out, rel), image);
    writePngFile(join(out, maskRel), { width: image.width, height: image.height, channels: 1, data: binary.map((v) => v * 255) });
    const finding = findingOfMask({ width: image.width, height: image.height, data: binary });
    const base = { image: rel, modality: options.modality, anatomy: options.anatomy, source, meta: { importedFrom: imagePath, finding } };
    groups.push({
      key,
      make: (split) => {
        const drafts: Draft[] = [
          { ...base, split, key: `${key}-modality`, question: { task: 'modality_classification', answer: options.modality, evidence: modalityEvidence(options.modality) } },
          { ...base, split, key: `${key}-anatomy`, question: { task: 'anatomy_identification', answer: options.anatomy, evidence: anatomyEvidence(options.anatomy) } },
          { ...base, split, key: `${key}-anomaly`, question: { task: 'anomaly_detection', answer: finding, evidence: ANOMALY_EVIDENCE[finding], extra: { mask: maskRel } } },
        ];
        if (analysis.present && analysis.centroid && analysis.bbox) {
          const region = regionOfPoint(analysis.centroid.x, analysis.centroid.y, image.width, image.height);
          const extra = { region, bbox: analysis.bbox, mask: maskRel };
          if (finding === 'A single focal lesion') {
            drafts.push({ ...base, split, key: `${key}-localization`, question: { task: 'lesion_localization', answer: region, evidence: REGION_EVIDENCE[region], extra } });
          }
          if (options.pathology) {
            drafts.push({ ...base, split, key: `${key}-pathology`, question: { task: 'pathology_characterization', answer: options.pathology, evidence: pathologyEvidence(options.pathology), extra } });
          }
        }
        return drafts;
      },
    });
  });
  progress.stop();
  if (!groups.length) {
    throw new MedadError(ErrorCode.InvalidData, `None of the ${imageNames.length} images could be imported (first: ${skipped[0]?.reason})`, {
      fix: 'check that every image has a mask with the same name in --masks and that the files are valid PNG/JPEG',
    });
  }
  const splits = splitGroups(groups.map((g) => g.key), seed);
  const samples = finishSamples(groups.flatMap((g) => g.make(splits.get(g.key)!)), seed);
  writeSamplesJsonl(join(out, SAMPLES_FILE), samples);
  writeDescriptor(out, {
    format: 'medad-jsonl',
    version: 1,
    id: `seg-${source}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-'),
    name: `${source} (segmentation import)`,
    samplesFile: SAMPLES_FILE,
    provenance: { importer: 'seg', images: imagesDir, masks: masksDir, modality: options.modality, anatomy: options.anatomy, pathology: options.pathology ?? null, seed, maxSide },
  });
  return { dir: out, imported: groups.length, skipped, images: groups.length, samples: samples.length, byTask: countByTask(samples) };
}
