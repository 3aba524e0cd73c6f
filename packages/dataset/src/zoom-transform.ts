import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SeededRng, silentProgress, type BBox, type MedAdSample, type ProgressReporter, type RawImage } from '@medad/core';
import { readImageFile, writePngFile } from './image/codec.js';
import { writeSamplesJsonl } from './jsonl.js';
import { bboxOfMask } from './regions.js';
import { SAMPLES_FILE, loadDatasetDir, writeDescriptor } from './store.js';
import { CORNERS, localZoom, type Corner, type LocalZoomOptions, type LocalZoomResult } from './zoom.js';

/** Default inset settings of the dataset zoom transform. */
export const DEFAULT_ZOOM: Required<Pick<LocalZoomOptions, 'margin' | 'scale' | 'border'>> = { margin: 0.3, scale: 0.375, border: 1 };

function overlaps(a: BBox, b: BBox): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/**
 * Local zoom for a dataset item: the region of interest is the lesion box, or — for an image
 * with none — a seeded decoy box of lesion size, so the presence of an inset tells nothing. The
 * corner is drawn (seeded) among those whose inset would not hide the region of interest.
 */
export function zoomWithRoi(img: RawImage, roi: BBox | null, rng: SeededRng, options: LocalZoomOptions = {}): LocalZoomResult {
  const opts = { ...DEFAULT_ZOOM, ...options };
  const short = Math.min(img.width, img.height);
  let box = roi;
  if (!box) {
    const d = Math.max(2, Math.round(0.2 * short));
    box = { x: rng.int(Math.max(1, img.width - d)), y: rng.int(Math.max(1, img.height - d)), width: d, height: d };
  }
  let corner: Corner | 'auto' = options.corner ?? 'auto';
  if (corner === 'auto') {
    const outer = Math.round(opts.scale * short);
    const free = CORNERS.filter((c) => {
      const x = c.endsWith('left') ? 0 : img.width - outer;
      const y = c.startsWith('top') ? 0 : img.height - outer;
      return !overlaps({ x, y, width: outer, height: outer }, box!);
    });
    corner = free.length ? rng.pick(free) : 'auto';
  }
  return localZoom(img, { bbox: box }, { ...opts, corner });
}

/**
 * The image a coarse-to-fine pass answers on (MedReason-R1): `img` with the zoomed inset of `box`
 * (a decoy of lesion size when null), the corner drawn from a stream seeded by the image path — the
 * one rendering `medad data zoom`, evaluation (`zoom: predicted|oracle`) and training share.
 */
export function zoomSampleImage(img: RawImage, box: BBox | null, imagePath: string, seed = 0): LocalZoomResult {
  return zoomWithRoi(img, box, new SeededRng(`zoom/${seed}/${imagePath}`));
}

/** The region of interest of a sample: its bbox, else the box of its mask file, else null. */
export function sampleRoi(root: string, sample: MedAdSample): BBox | null {
  if (sample.bbox) return sample.bbox;
  if (sample.mask && existsSync(join(root, sample.mask))) {
    const m = readImageFile(join(root, sample.mask));
    const data = new Uint8Array(m.width * m.height);
    for (let p = 0; p < data.length; p++) data[p] = m.data[p * m.channels]! > 127 ? 1 : 0;
    return bboxOfMask({ width: m.width, height: m.height, data });
  }
  return null;
}

/**
 * The local-zoom dataset transform: writes a copy of a dataset directory whose images carry the
 * zoomed inset (PNG), recording crop, inset and corner in each sample's `meta.zoom`.
 */
export function zoomDatasetDir(src: string, out: string, options: LocalZoomOptions & { seed?: number; progress?: ProgressReporter } = {}): { samples: number } {
  const loaded = loadDatasetDir(src);
  const progress = options.progress ?? silentProgress;
  const done = new Map<string, { image: string; zoom: Omit<LocalZoomResult, 'image'> }>();
  const samples: MedAdSample[] = [];
  progress.start(loaded.samples.length, 'zoom');
  loaded.samples.forEach((s, i) => {
    let entry = done.get(s.image);
    if (!entry) {
      const img = readImageFile(join(loaded.root, s.image));
      const { image, ...zoom } = zoomWithRoi(img, sampleRoi(loaded.root, s), new SeededRng(`zoom/${options.seed ?? 0}/${s.image}`), options);
      const rel = s.image.replace(/\.[A-Za-z0-9]+$/, '') + '.png';
      writePngFile(join(out, rel), image);
      entry = { image: rel, zoom };
      done.set(s.image, entry);
    }
    // The mask file stays behind: the inset changed the pixels it was drawn for; the bbox is kept.
    const { mask: _mask, ...rest } = s;
    void _mask;
    samples.push({ ...rest, image: entry.image, meta: { ...(s.meta ?? {}), zoom: entry.zoom } });
    progress.update(i + 1);
  });
  progress.stop();
  writeSamplesJsonl(join(out, SAMPLES_FILE), samples);
  writeDescriptor(out, {
    ...loaded.descriptor,
    id: `${loaded.descriptor.id}-zoom`,
    name: `${loaded.descriptor.name} (local zoom)`,
    samplesFile: SAMPLES_FILE,
    provenance: { transform: 'local-zoom', from: relative(out, loaded.root) || '.', options: { ...DEFAULT_ZOOM, ...options, progress: undefined } },
  });
  return { samples: samples.length };
}
