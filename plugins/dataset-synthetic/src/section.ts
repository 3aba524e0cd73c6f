import type { SeededRng } from '@medad/core';
import type { Anatomy } from '@medad/dataset';
import { field, labelEllipse, labelPolyline, wanderingPath, type Field } from './canvas.js';

/** Tissue classes of a cross-section; each modality maps them to its own intensities. */
export const TISSUE = { air: 0, fat: 1, soft: 2, organ: 3, fluid: 4, bone: 5, gas: 6, vessel: 7 } as const;

/** A labelled cross-section and how strongly its organ texture shows. */
export interface SectionLabels {
  labels: Field;
  /** Amplitude of the organ texture (fraction of the intensity range). */
  texture: number;
  /** Cells of the texture noise lattice (higher = finer). */
  textureCells: number;
}

const { air: _air, fat: FAT, soft: SOFT, organ: ORGAN, fluid: FLUID, bone: BONE, gas: GAS, vessel: VESSEL } = TISSUE;
void _air;

function jitter(rng: SeededRng, amount: number): number {
  return rng.uniform(-amount, amount);
}

function abdomen(f: Field, cx: number, cy: number, s: number): void {
  labelEllipse(f, cx, cy, 0.47 * s, 0.41 * s, FAT);
  labelEllipse(f, cx, cy, 0.44 * s, 0.38 * s, SOFT);
  labelEllipse(f, cx, cy, 0.415 * s, 0.355 * s, FAT);
}

function brain(f: Field, rng: SeededRng, cx: number, cy: number, s: number): number {
  const rx = 0.4 * s;
  const ry = 0.46 * s;
  labelEllipse(f, cx, cy, rx, ry, FAT);
  labelEllipse(f, cx, cy, rx - 0.025, ry - 0.025, BONE);
  labelEllipse(f, cx, cy, rx - 0.06, ry - 0.06, ORGAN);
  for (let k = 0; k < 14; k++) {
    const a = (k / 14) * 2 * Math.PI + jitter(rng, 0.2);
    const x = cx + Math.cos(a) * (rx - 0.065);
    const y = cy + Math.sin(a) * (ry - 0.065);
    labelPolyline(f, wanderingPath(rng, x, y, a + Math.PI, 3, 0.035, 0.5), 0.006, FLUID);
  }
  labelPolyline(f, [[cx, cy - ry + 0.07], [cx, cy - 0.12]], 0.006, FLUID);
  labelEllipse(f, cx - 0.055, cy - 0.01, 0.03, 0.1, FLUID, -0.35);
  labelEllipse(f, cx + 0.055, cy - 0.01, 0.03, 0.1, FLUID, 0.35);
  return 0.05;
}

function lung(f: Field, rng: SeededRng, cx: number, cy: number, s: number): number {
  labelEllipse(f, cx, cy, 0.48 * s, 0.4 * s, FAT);
  labelEllipse(f, cx, cy, 0.455 * s, 0.375 * s, SOFT);
  for (let k = 0; k < 10; k++) {
    const a = Math.PI * (1.1 + (k / 9) * 0.8) + (k >= 5 ? Math.PI * 0.0 : 0);
    const side = k % 2 ? 1 : -1;
    labelEllipse(f, cx + side * Math.abs(Math.cos(a)) * 0.43 * s, cy + Math.sin(a + (k % 5) * 0.5) * 0.33 * s, 0.025, 0.014, BONE, a);
  }
  labelEllipse(f, cx - 0.2 * s, cy - 0.03, 0.16 * s, 0.27 * s, GAS, 0.08);
  labelEllipse(f, cx + 0.2 * s, cy - 0.03, 0.16 * s, 0.27 * s, GAS, -0.08);
  for (let k = 0; k < 26; k++) {
    const side = k % 2 ? 1 : -1;
    const x = cx + side * (0.2 * s + jitter(rng, 0.1));
    const y = cy - 0.03 + jitter(rng, 0.2);
    labelEllipse(f, x, y, 0.009, 0.009, VESSEL);
  }
  labelEllipse(f, cx, cy + 0.02, 0.08, 0.14, ORGAN);
  labelEllipse(f, cx, cy + 0.3 * s, 0.05, 0.05, BONE);
  return 0.03;
}

function heart(f: Field, rng: SeededRng, cx: number, cy: number, s: number): number {
  labelEllipse(f, cx, cy, 0.47 * s, 0.41 * s, FAT);
  labelEllipse(f, cx, cy, 0.445 * s, 0.385 * s, SOFT);
  labelEllipse(f, cx - 0.3 * s, cy - 0.02, 0.1 * s, 0.22 * s, GAS);
  labelEllipse(f, cx + 0.3 * s, cy - 0.02, 0.1 * s, 0.22 * s, GAS);
  const tilt = jitter(rng, 0.3);
  labelEllipse(f, cx, cy, 0.27 * s, 0.25 * s, FAT, tilt);
  labelEllipse(f, cx, cy, 0.24 * s, 0.22 * s, ORGAN, tilt);
  labelEllipse(f, cx + 0.08 * s, cy + 0.06 * s, 0.09 * s, 0.08 * s, FLUID);
  labelEllipse(f, cx - 0.09 * s, cy + 0.06 * s, 0.08 * s, 0.065 * s, FLUID);
  labelEllipse(f, cx + 0.08 * s, cy - 0.1 * s, 0.065 * s, 0.055 * s, FLUID);
  labelEllipse(f, cx - 0.085 * s, cy - 0.09 * s, 0.06 * s, 0.055 * s, FLUID);
  labelEllipse(f, cx, cy + 0.36 * s, 0.045, 0.045, BONE);
  return 0.025;
}

function liver(f: Field, rng: SeededRng, cx: number, cy: number, s: number): number {
  abdomen(f, cx, cy, s);
  labelEllipse(f, cx - 0.1 * s, cy - 0.04 * s, 0.3 * s, 0.27 * s, ORGAN, 0.35 + jitter(rng, 0.15));
  for (let k = 0; k < 5; k++) {
    labelPolyline(f, wanderingPath(rng, cx - 0.05 * s, cy + 0.02, Math.PI + jitter(rng, 1.2), 3, 0.04, 0.3), 0.007, VESSEL);
  }
  labelEllipse(f, cx + 0.24 * s, cy - 0.12 * s, 0.1 * s, 0.08 * s, GAS);
  labelEllipse(f, cx + 0.3 * s, cy + 0.1 * s, 0.07 * s, 0.1 * s, ORGAN);
  labelEllipse(f, cx, cy + 0.3 * s, 0.055, 0.05, BONE);
  labelEllipse(f, cx + 0.06, cy + 0.2 * s, 0.025, 0.025, VESSEL);
  return 0.02;
}

function kidney(f: Field, rng: SeededRng, cx: number, cy: number, s: number): number {
  abdomen(f, cx, cy, s);
  for (const side of [-1, 1]) {
    const kx = cx + side * 0.21 * s;
    const ky = cy + 0.05 * s + jitter(rng, 0.02);
    const tilt = side * (0.35 + jitter(rng, 0.1));
    labelEllipse(f, kx, ky, 0.1 * s, 0.16 * s, ORGAN, tilt);
    for (let k = -1; k <= 1; k++) labelEllipse(f, kx + side * 0.02, ky + k * 0.07 * s, 0.03 * s, 0.035 * s, SOFT, tilt);
    labelEllipse(f, kx + side * 0.065 * s, ky, 0.03 * s, 0.05 * s, FAT, tilt);
  }
  labelEllipse(f, cx - 0.07, cy + 0.15 * s, 0.05, 0.08, SOFT);
  labelEllipse(f, cx + 0.07, cy + 0.15 * s, 0.05, 0.08, SOFT);
  labelEllipse(f, cx, cy + 0.2 * s, 0.055, 0.05, BONE);
  for (let k = 0; k < 4; k++) labelEllipse(f, cx + jitter(rng, 0.15), cy - 0.18 * s + jitter(rng, 0.05), 0.04, 0.03, GAS);
  return 0.02;
}

function breast(f: Field, rng: SeededRng, cx: number, cy: number, s: number): number {
  const wall = cy - 0.3 * s;
  for (const side of [-1, 1]) {
    const bx = cx + side * 0.22 * s;
    labelEllipse(f, bx, wall, 0.22 * s, 0.62 * s, FAT);
    const tip: [number, number] = [bx, wall + 0.6 * s];
    for (let k = 0; k < 7; k++) {
      const start: [number, number] = [bx + (k - 3) * 0.05 * s, wall + 0.04];
      const mid: [number, number] = [(start[0] + tip[0]) / 2 + jitter(rng, 0.03), (start[1] + tip[1]) / 2];
      labelPolyline(f, [start, mid, [tip[0] + jitter(rng, 0.02), tip[1] - 0.05]], 0.01, ORGAN);
    }
    labelEllipse(f, tip[0], tip[1] - 0.005, 0.025, 0.02, SOFT);
  }
  for (let y = 0; y < f.side; y++)
    for (let x = 0; x < f.side; x++) if ((y + 0.5) / f.side < wall + 0.02 && (y + 0.5) / f.side > wall - 0.2) f.data[y * f.side + x] = SOFT;
  for (let k = 0; k < 6; k++) labelEllipse(f, 0.1 + k * 0.16, wall - 0.08, 0.05, 0.018, BONE);
  return 0.03;
}

function knee(f: Field, rng: SeededRng, cx: number, cy: number, s: number): number {
  labelEllipse(f, cx, cy, 0.37 * s, 0.58, FAT);
  labelEllipse(f, cx, cy, 0.34 * s, 0.58, SOFT);
  const gap = cy + jitter(rng, 0.02);
  for (let y = 0; y < f.side; y++)
    for (let x = 0; x < f.side; x++) {
      const u = (x + 0.5) / f.side - cx;
      const v = (y + 0.5) / f.side;
      if (Math.abs(u) < 0.11 * s && v < gap - 0.12) f.data[y * f.side + x] = BONE;
      if (Math.abs(u) < 0.12 * s && v > gap + 0.1) f.data[y * f.side + x] = BONE;
    }
  labelEllipse(f, cx - 0.1 * s, gap - 0.08, 0.11 * s, 0.08, BONE);
  labelEllipse(f, cx + 0.1 * s, gap - 0.08, 0.11 * s, 0.08, BONE);
  labelEllipse(f, cx, gap + 0.07, 0.23 * s, 0.055, BONE);
  labelEllipse(f, cx - 0.1 * s, gap - 0.09, 0.075 * s, 0.05, FAT);
  labelEllipse(f, cx + 0.1 * s, gap - 0.09, 0.075 * s, 0.05, FAT);
  labelEllipse(f, cx, gap + 0.08, 0.19 * s, 0.03, FAT);
  labelEllipse(f, cx, gap - 0.005, 0.2 * s, 0.012, FLUID);
  return 0.02;
}

function colon(f: Field, rng: SeededRng, cx: number, cy: number, s: number): number {
  abdomen(f, cx, cy, s);
  const spots: Array<[number, number]> = [
    [-0.27, -0.15],
    [0.27, -0.15],
    [-0.29, 0.12],
    [0.29, 0.12],
    [0, -0.24],
  ];
  for (const [dx, dy] of spots) {
    const x = cx + dx * s + jitter(rng, 0.015);
    const y = cy + dy * s + jitter(rng, 0.015);
    labelEllipse(f, x, y, 0.075 * s, 0.07 * s, ORGAN);
    labelEllipse(f, x, y, 0.05 * s, 0.045 * s, GAS);
  }
  for (let k = 0; k < 6; k++) labelEllipse(f, cx + jitter(rng, 0.14), cy + jitter(rng, 0.1), 0.035, 0.03, FLUID);
  labelEllipse(f, cx, cy + 0.3 * s, 0.055, 0.05, BONE);
  return 0.02;
}

const DRAW: Partial<Record<Anatomy, (f: Field, rng: SeededRng, cx: number, cy: number, s: number) => number>> = {
  Brain: brain,
  Lung: lung,
  Heart: heart,
  Liver: liver,
  Kidney: kidney,
  Breast: breast,
  Knee: knee,
  Colon: colon,
};

/** Draws the tissue-class map of an anatomy's cross-section, with seeded jitter of position, size and detail. */
export function drawSection(anatomy: Anatomy, side: number, rng: SeededRng): SectionLabels {
  const draw = DRAW[anatomy];
  if (!draw) throw new RangeError(`no cross-section drawing for ${anatomy}`);
  const labels = field(side, 0);
  const texture = draw(labels, rng, 0.5 + jitter(rng, 0.025), 0.5 + jitter(rng, 0.025), 1 + jitter(rng, 0.05));
  return { labels, texture, textureCells: anatomy === 'Brain' ? 10 : 6 };
}
