import type { BBox, Region, SeededRng } from '@medad/core';
import { regionOfPoint, type Pathology } from '@medad/dataset';
import { ellipseCoverage, paint, valueNoise, type Field } from './canvas.js';

/** A lesion the generator placed: its type, centre and radius in pixels, box and region. */
export interface PlacedLesion {
  pathology: Pathology;
  cx: number;
  cy: number;
  radius: number;
  bbox: BBox;
  region: Region;
}

/** Lesion radius range as a fraction of the image side: large enough to cover an 8×8 patch at 48 px. */
export const LESION_RADIUS: readonly [number, number] = [0.1, 0.13];
const MARGIN = 0.045;
const HALO = 0.5;
const BRIGHT = 0.96;
const DARK = 0.07;

/**
 * A lesion centre (pixels) inside `region`, kept MARGIN away from the region's borders so the
 * region is unambiguous, and inside `placeable` when possible.
 */
export function sampleCenter(region: Region, side: number, radiusPx: number, placeable: Uint8Array, rng: SeededRng, avoid: PlacedLesion[] = []): [number, number] {
  const border = radiusPx / side + 0.02;
  let last: [number, number] = [side / 2, side / 2];
  for (let tries = 0; tries < 600; tries++) {
    let u: number;
    let v: number;
    if (region === 'Center') {
      u = rng.uniform(1 / 3 + MARGIN, 2 / 3 - MARGIN);
      v = rng.uniform(1 / 3 + MARGIN, 2 / 3 - MARGIN);
    } else {
      const left = region.startsWith('Left');
      const upper = region.endsWith('Upper');
      u = left ? rng.uniform(border, 0.5 - MARGIN) : rng.uniform(0.5 + MARGIN, 1 - border);
      v = upper ? rng.uniform(border, 0.5 - MARGIN) : rng.uniform(0.5 + MARGIN, 1 - border);
      const inBox = (t: number) => t > 1 / 3 - MARGIN && t < 2 / 3 + MARGIN;
      if (inBox(u) && inBox(v)) continue;
    }
    const x = u * side;
    const y = v * side;
    if (regionOfPoint(x, y, side, side) !== region) continue;
    last = [x, y];
    const clash = avoid.some((l) => Math.hypot(l.cx - x, l.cy - y) < l.radius + radiusPx + 2);
    if (clash) continue;
    if (tries < 500 && !placeable[Math.floor(y) * side + Math.floor(x)]) continue;
    return [x, y];
  }
  return last;
}

function irregularRadius(rng: SeededRng, amp: number): (a: number) => number {
  const k1 = 3 + rng.int(3);
  const k2 = 7 + rng.int(4);
  const p1 = rng.uniform(0, 6.3);
  const p2 = rng.uniform(0, 6.3);
  return (a) => 1 + amp * (0.6 * Math.sin(k1 * a + p1) + 0.4 * Math.sin(k2 * a + p2));
}

/** How hard a lesion is to read: its contrast against the tissue around it and its morph towards its look-alike. */
export interface LesionLook {
  /** Fraction (0–1] of the full lesion/background intensity gap kept (default 1). */
  contrast?: number;
  /** Fraction [0, 0.5] of the way to the look-alike type's shape (cyst↔abscess, benign↔malignant, infarct→cyst, calcification→benign; default 0). */
  morph?: number;
}

const lerp = (a: number, b: number, t: number) => a + (b - a) * t;

/**
 * Paints one lesion of a pathology type into an intensity field (the shapes that make the types
 * tell apart), optionally morphed towards its look-alike and faded towards the tissue around it.
 */
export function paintLesion(f: Field, pathology: Pathology, cx: number, cy: number, r: number, rng: SeededRng, look: LesionLook = {}): void {
  const contrast = look.contrast ?? 1;
  const background = contrast < 1 ? Float32Array.from(f.data) : undefined;
  drawLesion(f, pathology, cx, cy, r, rng, look.morph ?? 0);
  if (background) for (let i = 0; i < background.length; i++) f.data[i] = background[i]! + contrast * (f.data[i]! - background[i]!);
}

function drawLesion(f: Field, pathology: Pathology, cx: number, cy: number, r: number, rng: SeededRng, m: number): void {
  const side = f.side;
  paint(f, (x, y) => ellipseCoverage(x, y, cx, cy, r * 1.3, r * 1.3, 1), HALO);
  const polar = (x: number, y: number) => {
    const dx = x + 0.5 - cx;
    const dy = y + 0.5 - cy;
    return { d: Math.hypot(dx, dy), a: Math.atan2(dy, dx) };
  };
  const mottle = valueNoise(side, 12, rng);
  switch (pathology) {
    case 'Benign tumor':
      if (m > 0) {
        // towards malignant: a wavy margin and uneven content
        const rad = irregularRadius(rng, 0.28 * m);
        paint(f, (x, y) => {
          const { d, a } = polar(x, y);
          return Math.min(1, Math.max(0, 0.5 - (d - r * lerp(1, 0.85, m) * rad(a)) / 1.2));
        }, (x, y) => BRIGHT - 0.25 * m * Math.abs(mottle[y * side + x]!));
      } else paint(f, (x, y) => ellipseCoverage(x, y, cx, cy, r, r * rng.uniform(0.999, 1), 0.6), BRIGHT);
      break;
    case 'Cyst':
      paint(f, (x, y) => ellipseCoverage(x, y, cx, cy, r, r, 0.6), BRIGHT);
      // towards abscess: a thicker rim
      paint(f, (x, y) => ellipseCoverage(x, y, cx, cy, lerp(r - 1.3, r * 0.55, m), lerp(r - 1.3, r * 0.55, m), 0.6), DARK);
      break;
    case 'Abscess':
      paint(f, (x, y) => ellipseCoverage(x, y, cx, cy, r, r, 0.6), BRIGHT);
      // towards cyst: a thinner ring
      paint(f, (x, y) => ellipseCoverage(x, y, cx, cy, lerp(r * 0.55, r - 1.3, m), lerp(r * 0.55, r - 1.3, m), 0.6), DARK);
      break;
    case 'Malignant tumor': {
      // towards benign: a smoother, rounder, evener mass with shorter spicules
      const rad = irregularRadius(rng, lerp(0.28, 0, m));
      paint(f, (x, y) => {
        const { d, a } = polar(x, y);
        return Math.min(1, Math.max(0, 0.5 - (d - r * lerp(0.85, 1, m) * rad(a)) / 1.2));
      }, (x, y) => BRIGHT - lerp(0.25, 0, m) * Math.abs(mottle[y * side + x]!));
      const spikes = 7 + rng.int(4);
      for (let k = 0; k < spikes; k++) {
        const a = (k / spikes) * 2 * Math.PI + rng.uniform(-0.3, 0.3);
        const len = r * lerp(rng.uniform(1.05, 1.3), 0.6, m);
        for (let t = r * 0.6; t < len; t += 0.5) {
          const x = Math.floor(cx + Math.cos(a) * t);
          const y = Math.floor(cy + Math.sin(a) * t);
          if (x >= 0 && y >= 0 && x < side && y < side) f.data[y * side + x] = BRIGHT - 0.1;
        }
      }
      break;
    }
    case 'Infarct': {
      // towards cyst: a rounder dark area with a faint bright rim
      const rad = irregularRadius(rng, lerp(0.3, 0, m));
      if (m > 0) paint(f, (x, y) => m * ellipseCoverage(x, y, cx, cy, r * 0.95, r * 0.95, 0.6), BRIGHT);
      paint(f, (x, y) => {
        const { d, a } = polar(x, y);
        return Math.min(1, Math.max(0, 0.5 - (d - r * 0.95 * rad(a) * (m > 0 ? 0.88 : 1)) / 1.2));
      }, (x, y) => DARK + 0.18 * Math.abs(mottle[y * side + x]!));
      break;
    }
    case 'Calcification': {
      // towards benign tumour: fewer, larger dots that merge into a bright mass
      const dots = 6 + rng.int(3);
      const dotR = lerp(Math.max(1.1, r * 0.2), r * 0.5, m);
      for (let k = 0; k < dots; k++) {
        const a = rng.uniform(0, 2 * Math.PI);
        const t = Math.sqrt(rng.next()) * (r - dotR);
        const x = cx + Math.cos(a) * t;
        const y = cy + Math.sin(a) * t;
        paint(f, (px, py) => ellipseCoverage(px, py, x, y, dotR, dotR, 0.5), 1);
      }
      break;
    }
  }
}

/** Paints a diffuse abnormality: a large ill-defined patch of mottled, altered texture. */
export function paintDiffuse(f: Field, cx: number, cy: number, r: number, rng: SeededRng): void {
  const side = f.side;
  const blotches = valueNoise(side, 7, rng, 2);
  paint(
    f,
    (x, y) => 0.9 * ellipseCoverage(x, y, cx, cy, r, r * rng.uniform(0.999, 1), r * 0.3),
    (x, y) => 0.5 + 0.7 * blotches[y * side + x]!,
  );
}

/** The bounding box (pixels, clamped to the image) of a lesion's disc, halo excluded. */
export function lesionBox(cx: number, cy: number, r: number, side: number): BBox {
  const x0 = Math.max(0, Math.floor(cx - r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const x1 = Math.min(side, Math.ceil(cx + r));
  const y1 = Math.min(side, Math.ceil(cy + r));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
