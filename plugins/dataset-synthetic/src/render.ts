import type { RawImage, SeededRng } from '@medad/core';
import { boxBlur, type Anatomy, type Modality } from '@medad/dataset';
import { colormap, erode, field, labelPolyline, wanderingPath, type Field } from './canvas.js';
import { MODALITY_VIEW } from './catalog.js';
import { TISSUE, drawSection } from './section.js';
import { drawHistology, drawOct, drawSurface, type IntensityScene } from './views.js';

/** Intensity of each tissue class (air, fat, soft, organ, fluid, bone, gas, vessel) per cross-section modality. */
export const TISSUE_INTENSITY: Readonly<Record<'MRI' | 'CT' | 'CE-MRI' | 'X-ray' | 'Ultrasound', readonly number[]>> = Object.freeze({
  CT: [0.0, 0.25, 0.45, 0.55, 0.4, 1.0, 0.04, 0.62],
  MRI: [0.03, 0.75, 0.3, 0.42, 0.95, 0.08, 0.05, 0.12],
  'CE-MRI': [0.02, 0.12, 0.28, 0.4, 0.07, 0.1, 0.03, 1.0],
  'X-ray': [0.06, 0.32, 0.45, 0.5, 0.47, 0.95, 0.14, 0.5],
  Ultrasound: [0.0, 0.4, 0.5, 0.6, 0.04, 0.95, 0.25, 0.05],
});

const FAN_HALF_ANGLE = (52 * Math.PI) / 180;

function fanMask(side: number): Uint8Array {
  const m = new Uint8Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const dx = (x + 0.5) / side - 0.5;
      const dy = (y + 0.5) / side + 0.02;
      m[y * side + x] = Math.hypot(dx, dy) < 1.0 && Math.abs(Math.atan2(dx, dy)) < FAN_HALF_ANGLE ? 1 : 0;
    }
  return m;
}

/** A scene before lesions: intensity, where lesions may go, field of view, and tissue labels for sections. */
export interface BaseScene extends IntensityScene {
  labels?: Field;
}

/** Draws the lesion-free intensity map of an anatomy as a modality sees it. */
export function drawBase(modality: Modality, anatomy: Anatomy, side: number, rng: SeededRng): BaseScene {
  const view = MODALITY_VIEW[modality];
  if (view === 'histology') return drawHistology(anatomy, side, rng);
  if (view === 'surface') return drawSurface(anatomy, side, rng);
  if (view === 'oct') return drawOct(anatomy, side, rng);
  const { labels, texture, textureCells } = drawSection(anatomy, side, rng);
  const table = TISSUE_INTENSITY[modality as keyof typeof TISSUE_INTENSITY];
  const tex = rngNoise(side, textureCells, rng);
  const intensity = field(side, 0);
  const body = new Uint8Array(side * side);
  for (let i = 0; i < intensity.data.length; i++) {
    const label = labels.data[i]!;
    intensity.data[i] = table[label]! + (label === TISSUE.organ || label === TISSUE.soft ? texture * tex[i]! * 2 : 0);
    body[i] = label !== TISSUE.air ? 1 : 0;
  }
  if (modality === 'CE-MRI') {
    const vessels = field(side, 0);
    for (let k = 0; k < 12; k++) {
      const x = rng.uniform(0.15, 0.85);
      const y = rng.uniform(0.15, 0.85);
      if (!body[Math.floor(y * side) * side + Math.floor(x * side)]) continue;
      labelPolyline(vessels, wanderingPath(rng, x, y, rng.uniform(0, 6.3), 3, 0.025, 0.4), 0.004, 1);
    }
    for (let i = 0; i < vessels.data.length; i++) if (vessels.data[i] && body[i]) intensity.data[i] = 0.95;
  }
  let placeable = erode(body, side, 2);
  let fov: Uint8Array = new Uint8Array(side * side).fill(1);
  if (modality === 'Ultrasound') {
    fov = fanMask(side);
    placeable = erode(Uint8Array.from(placeable, (v, i) => v & fov[i]!), side, 2);
  }
  return { intensity, placeable, fov, labels };
}

function rngNoise(side: number, cells: number, rng: SeededRng): Float32Array {
  const out = new Float32Array(side * side);
  const lattice = Float32Array.from({ length: (cells + 1) * (cells + 1) }, () => rng.next() * 2 - 1);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const fx = (x / side) * cells;
      const fy = (y / side) * cells;
      const ix = Math.floor(fx);
      const iy = Math.floor(fy);
      const tx = fx - ix;
      const ty = fy - iy;
      const a = lattice[iy * (cells + 1) + ix]!;
      const b = lattice[iy * (cells + 1) + ix + 1]!;
      const c = lattice[(iy + 1) * (cells + 1) + ix]!;
      const d = lattice[(iy + 1) * (cells + 1) + ix + 1]!;
      out[y * side + x] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
    }
  return out;
}

const MAPS = {
  gray: colormap([
    [0, 0, 0, 0],
    [1, 255, 255, 255],
  ]),
  microscopy: colormap([
    [0, 70, 30, 110],
    [0.3, 130, 60, 160],
    [0.55, 225, 130, 180],
    [0.8, 245, 200, 225],
    [1, 250, 245, 250],
  ]),
  dermoscopy: colormap([
    [0, 40, 25, 20],
    [0.4, 120, 75, 55],
    [0.7, 215, 160, 140],
    [1, 250, 222, 205],
  ]),
  fundus: colormap([
    [0, 60, 10, 5],
    [0.3, 130, 30, 10],
    [0.55, 200, 80, 30],
    [0.8, 240, 160, 60],
    [1, 255, 235, 150],
  ]),
  endoscopy: colormap([
    [0, 30, 5, 5],
    [0.3, 120, 30, 35],
    [0.6, 220, 110, 100],
    [0.85, 245, 180, 160],
    [1, 255, 245, 240],
  ]),
};

function toImage(values: Float32Array, fov: Uint8Array, side: number, map: (t: number) => [number, number, number]): RawImage {
  const data = new Uint8Array(side * side * 3);
  for (let i = 0; i < values.length; i++) {
    if (!fov[i]) continue;
    const [r, g, b] = map(values[i]!);
    data[i * 3] = Math.round(Math.min(255, Math.max(0, r)));
    data[i * 3 + 1] = Math.round(Math.min(255, Math.max(0, g)));
    data[i * 3 + 2] = Math.round(Math.min(255, Math.max(0, b)));
  }
  return { width: side, height: side, channels: 3, data };
}

/** Applies a modality's acquisition look (noise, blur, bias, speckle, field of view, colours) and returns RGB. */
export function finishModality(modality: Modality, scene: BaseScene, rng: SeededRng): RawImage {
  const side = scene.intensity.side;
  let v: Float32Array = Float32Array.from(scene.intensity.data);
  const n = v.length;
  switch (modality) {
    case 'CT':
      for (let i = 0; i < n; i++) v[i]! += rng.normal(0, 0.012);
      break;
    case 'MRI':
    case 'CE-MRI': {
      const blurred = boxBlur(v, side, 1);
      const ax = rng.uniform(-1, 1);
      const ay = rng.uniform(-1, 1);
      const strength = modality === 'MRI' ? 0.22 : 0.1;
      for (let y = 0; y < side; y++)
        for (let x = 0; x < side; x++) {
          const i = y * side + x;
          const bias = 1 + strength * (ax * (x / side - 0.5) + ay * (y / side - 0.5)) * 2;
          v[i] = (0.5 * v[i]! + 0.5 * blurred[i]!) * bias + Math.abs(rng.normal(0, 0.035));
        }
      break;
    }
    case 'X-ray': {
      v = boxBlur(v, side, 1, 1);
      for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) v[y * side + x]! += 0.08 * (y / side) + rng.normal(0, 0.01);
      const right = rng.bernoulli(0.5);
      const mw = Math.max(3, Math.round(side * 0.06));
      const mh = Math.max(4, Math.round(side * 0.08));
      const x0 = right ? side - mw - 2 : 2;
      for (let y = 2; y < 2 + mh; y++) for (let x = x0; x < x0 + mw; x++) v[y * side + x] = x - x0 > 0 && y < 2 + mh - 1 ? 0.05 : 1;
      break;
    }
    case 'Ultrasound': {
      const speckle = Float32Array.from({ length: n }, () => Math.exp(rng.normal(0, 0.3)));
      const smooth = boxBlur(speckle, side, 1, 1, 'x');
      const labels = scene.labels?.data;
      for (let x = 0; x < side; x++) {
        let shadow = 1;
        for (let y = 0; y < side; y++) {
          const i = y * side + x;
          v[i] = v[i]! * smooth[i]! * (1 - 0.35 * (y / side)) * shadow;
          if (labels && labels[i] === TISSUE.bone) shadow = 0.35;
        }
      }
      break;
    }
    case 'OCT': {
      const speckle = Float32Array.from({ length: n }, () => Math.exp(rng.normal(0, 0.35)));
      const streaks = boxBlur(speckle, side, 2, 1, 'x');
      for (let i = 0; i < n; i++) v[i] = v[i]! * streaks[i]!;
      break;
    }
    default:
      for (let i = 0; i < n; i++) v[i]! += rng.normal(0, 0.015);
  }
  const map =
    modality === 'Microscopy'
      ? MAPS.microscopy
      : modality === 'Dermoscopy'
        ? MAPS.dermoscopy
        : modality === 'Fundus photography'
          ? MAPS.fundus
          : modality === 'Endoscopy'
            ? MAPS.endoscopy
            : MAPS.gray;
  if (modality === 'Dermoscopy') {
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const d = Math.hypot((x + 0.5) / side - 0.5, (y + 0.5) / side - 0.5);
        v[y * side + x]! *= d > 0.5 ? Math.max(0, 1 - (d - 0.5) * 6) : 1;
      }
  }
  return toImage(v, scene.fov, side, map);
}
