import type { RawImage, Region, SeededRng } from '@medad/core';
import { regionOfBBox, type Anatomy, type Modality, type Pathology } from '@medad/dataset';
import { LESION_RADIUS, lesionBox, paintDiffuse, paintLesion, sampleCenter, type PlacedLesion } from './lesions.js';
import { drawBase, finishModality } from './render.js';

/** What to draw: a modality's view of an anatomy with zero or more lesions, or a diffuse abnormality. */
export interface SceneSpec {
  modality: Modality;
  anatomy: Anatomy;
  /** The lesions; with several, the first is the one a question names (multi-lesion items). */
  lesions: Array<{ pathology: Pathology; region: Region; scale?: number; contrast?: number; morph?: number }>;
  diffuse: boolean;
}

/** A rendered image with the ground truth of what was drawn. */
export interface RenderedScene {
  image: RawImage;
  lesions: PlacedLesion[];
  /** Centre and radius (pixels) of the diffuse abnormality, when drawn. */
  diffuse?: { cx: number; cy: number; radius: number };
}

/** Renders a scene at `side`×`side` pixels, deterministically from `rng`. */
export function renderScene(spec: SceneSpec, side: number, rng: SeededRng): RenderedScene {
  const base = drawBase(spec.modality, spec.anatomy, side, rng.fork('base'));
  const lesionRng = rng.fork('lesions');
  const placed: PlacedLesion[] = [];
  for (const l of spec.lesions) {
    const radius = lesionRng.uniform(LESION_RADIUS[0], LESION_RADIUS[1]) * side * (l.scale ?? 1);
    const [cx, cy] = sampleCenter(l.region, side, radius, base.placeable, lesionRng, placed);
    paintLesion(base.intensity, l.pathology, cx, cy, radius, lesionRng, { contrast: l.contrast, morph: l.morph });
    const bbox = lesionBox(cx, cy, radius, side);
    placed.push({ pathology: l.pathology, cx, cy, radius, bbox, region: regionOfBBox(bbox, side, side) });
  }
  let diffuse: RenderedScene['diffuse'];
  if (spec.diffuse) {
    const radius = lesionRng.uniform(0.26, 0.32) * side;
    let cx = side / 2;
    let cy = side / 2;
    for (let t = 0; t < 100; t++) {
      const x = lesionRng.uniform(0.35, 0.65) * side;
      const y = lesionRng.uniform(0.35, 0.65) * side;
      if (base.placeable[Math.floor(y) * side + Math.floor(x)]) {
        cx = x;
        cy = y;
        break;
      }
    }
    paintDiffuse(base.intensity, cx, cy, radius, lesionRng);
    diffuse = { cx, cy, radius };
  }
  const image = finishModality(spec.modality, base, rng.fork('finish'));
  return { image, lesions: placed, diffuse };
}
