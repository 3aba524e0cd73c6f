import type { SeededRng } from '@medad/core';
import type { Anatomy } from '@medad/dataset';
import { ellipseCoverage, field, labelEllipse, labelPolyline, paint, valueNoise, wanderingPath, type Field } from './canvas.js';

/** An intensity map (0-1) and where lesions may go. */
export interface IntensityScene {
  intensity: Field;
  /** 1 where a lesion centre may be placed (inside tissue and the field of view). */
  placeable: Uint8Array;
  /** 1 inside the field of view (outside is rendered black). */
  fov: Uint8Array;
}

function disc(f: Field, cx: number, cy: number, r: number, value: number): void {
  const s = f.side;
  paint(f, (x, y) => ellipseCoverage(x, y, cx * s, cy * s, r * s, r * s), value);
}

function full(side: number): Uint8Array {
  return new Uint8Array(side * side).fill(1);
}

function circle(side: number, r: number): Uint8Array {
  const m = new Uint8Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) m[y * side + x] = Math.hypot((x + 0.5) / side - 0.5, (y + 0.5) / side - 0.5) <= r ? 1 : 0;
  return m;
}

function addNoise(f: Field, rng: SeededRng, cells: number, amp: number, octaves = 2): void {
  const n = valueNoise(f.side, cells, rng, octaves);
  for (let i = 0; i < n.length; i++) f.data[i]! += amp * n[i]!;
}

function nuclei(f: Field, rng: SeededRng, count: number, value: number, where: (x: number, y: number) => boolean): void {
  for (let k = 0, tries = 0; k < count && tries < count * 20; tries++) {
    const x = rng.next();
    const y = rng.next();
    if (!where(x, y)) continue;
    disc(f, x, y, rng.uniform(0.012, 0.02), value);
    k++;
  }
}

/** Stained-slide patterns (histology view), one per anatomy. Intensity: 0 nuclei, 0.55 stroma, 1 empty space. */
export function drawHistology(anatomy: Anatomy, side: number, rng: SeededRng): IntensityScene {
  const f = field(side, 0.58);
  addNoise(f, rng, 8, 0.04);
  if (anatomy === 'Lung') {
    for (let k = 0; k < 16; k++) disc(f, rng.next(), rng.next(), rng.uniform(0.06, 0.1), 0.96);
    nuclei(f, rng, 45, 0.15, () => true);
  } else if (anatomy === 'Colon') {
    const cols = 4;
    for (let c = 0; c < cols; c++)
      for (let r = 0; r < 3; r++) {
        const x = (c + 0.5) / cols + rng.uniform(-0.03, 0.03);
        const y = (r + 0.5) / 3 + rng.uniform(-0.03, 0.03);
        paint(f, (px, py) => ellipseCoverage(px, py, x * side, y * side, 0.075 * side, 0.14 * side), 0.22);
        paint(f, (px, py) => ellipseCoverage(px, py, x * side, y * side, 0.045 * side, 0.11 * side), 0.7);
        paint(f, (px, py) => ellipseCoverage(px, py, x * side, y * side, 0.015 * side, 0.08 * side), 0.97);
      }
  } else if (anatomy === 'Skin') {
    const top = 0.12 + rng.uniform(0, 0.06);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const u = (x + 0.5) / side;
        const v = (y + 0.5) / side;
        const surface = top + 0.025 * Math.sin(u * 14 + top * 30);
        const i = y * side + x;
        if (v < surface) f.data[i] = 0.97;
        else if (v < surface + 0.14 + 0.03 * Math.sin(u * 22)) f.data[i] = 0.28 + 0.05 * Math.sin(u * 60 + v * 40);
        else f.data[i] = 0.64 + 0.1 * Math.sin(v * 55 + 4 * Math.sin(u * 9));
      }
    nuclei(f, rng, 14, 0.2, (_x, y) => y > 0.45);
  } else if (anatomy === 'Liver') {
    const vx = rng.uniform(0.35, 0.65);
    const vy = rng.uniform(0.35, 0.65);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const a = Math.atan2((y + 0.5) / side - vy, (x + 0.5) / side - vx);
        f.data[y * side + x]! += 0.16 * Math.sin(a * 12);
      }
    disc(f, vx, vy, 0.07, 0.97);
    for (let gy = 0; gy < 8; gy++)
      for (let gx = 0; gx < 8; gx++) disc(f, (gx + 0.5) / 8 + rng.uniform(-0.02, 0.02), (gy + 0.5) / 8 + rng.uniform(-0.02, 0.02), 0.014, 0.2);
  } else if (anatomy === 'Kidney') {
    for (let k = 0; k < 14; k++) {
      const x = rng.next();
      const y = rng.next();
      disc(f, x, y, 0.06, 0.5);
      disc(f, x, y, 0.025, 0.92);
    }
    for (let k = 0; k < 2; k++) {
      const x = rng.uniform(0.2, 0.8);
      const y = rng.uniform(0.2, 0.8);
      disc(f, x, y, 0.13, 0.96);
      disc(f, x, y, 0.1, 0.22);
    }
  } else if (anatomy === 'Breast') {
    for (let k = 0; k < 22; k++) disc(f, rng.next(), rng.next(), rng.uniform(0.08, 0.11), 0.97);
    const x = rng.uniform(0.3, 0.7);
    const y = rng.uniform(0.3, 0.7);
    disc(f, x, y, 0.1, 0.22);
    disc(f, x, y, 0.05, 0.95);
  } else throw new RangeError(`no histology drawing for ${anatomy}`);
  const placeable = full(side);
  return { intensity: f, placeable, fov: full(side) };
}

/** Surface photographs: dermoscopy of skin, fundus of the retina, endoscopy of the colon. */
export function drawSurface(anatomy: Anatomy, side: number, rng: SeededRng): IntensityScene {
  const f = field(side, 0.6);
  if (anatomy === 'Skin') {
    f.data.fill(0.74);
    addNoise(f, rng, 6, 0.06, 3);
    for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) f.data[y * side + x]! += 0.03 * Math.sin(x * 1.3) * Math.sin(y * 1.3);
    const hairs = rng.int(3) + 2;
    for (let k = 0; k < hairs; k++) {
      const path = wanderingPath(rng, rng.next(), rng.next(), rng.uniform(0, 2 * Math.PI), 8, 0.06, 0.15);
      const hair = field(side, 0);
      labelPolyline(hair, path, 0.005, 1);
      for (let i = 0; i < hair.data.length; i++) if (hair.data[i]) f.data[i] = 0.14;
    }
    const fov = circle(side, 0.6);
    return { intensity: f, placeable: circle(side, 0.5), fov };
  }
  if (anatomy === 'Retina') {
    addNoise(f, rng, 5, 0.05);
    const discX = rng.bernoulli(0.5) ? 0.28 : 0.72;
    const discY = 0.47 + rng.uniform(-0.04, 0.04);
    const vessels = field(side, 0);
    for (const dir of [-1, 1])
      for (const spread of [0.5, 1.1]) {
        const a0 = (discX < 0.5 ? 0 : Math.PI) + dir * spread * (discX < 0.5 ? 1 : -1);
        const path = wanderingPath(rng, discX, discY, a0, 9, 0.05, 0.18);
        labelPolyline(vessels, path, 0.009, 1);
        const branchAt = path[3 + rng.int(3)]!;
        labelPolyline(vessels, wanderingPath(rng, branchAt[0], branchAt[1], a0 + dir * 0.8, 4, 0.05, 0.2), 0.006, 1);
      }
    for (let i = 0; i < vessels.data.length; i++) if (vessels.data[i]) f.data[i] = 0.22;
    disc(f, 0.5 + (discX < 0.5 ? 0.1 : -0.1), 0.5, 0.06, 0.42);
    disc(f, discX, discY, 0.075, 0.95);
    const fov = circle(side, 0.47);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const d = Math.hypot((x + 0.5) / side - 0.5, (y + 0.5) / side - 0.5);
        f.data[y * side + x]! -= 0.25 * Math.max(0, d - 0.3);
      }
    return { intensity: f, placeable: circle(side, 0.42), fov };
  }
  if (anatomy === 'Colon') {
    addNoise(f, rng, 7, 0.05);
    const lx = 0.5 + rng.uniform(-0.12, 0.12);
    const ly = 0.5 + rng.uniform(-0.12, 0.12);
    for (let k = 1; k <= 3; k++) {
      const r = 0.12 + k * 0.1;
      paint(f, (x, y) => {
        const d = Math.hypot((x + 0.5) / side - lx, (y + 0.5) / side - ly);
        return Math.max(0, 1 - Math.abs(d - r) / 0.018) * 0.7;
      }, 0.4);
    }
    disc(f, lx, ly, 0.1, 0.07);
    for (let k = 0; k < 4; k++) disc(f, rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), 0.012, 1.2);
    const fov = circle(side, 0.48);
    return { intensity: f, placeable: circle(side, 0.42), fov };
  }
  throw new RangeError(`no surface drawing for ${anatomy}`);
}

/** OCT B-scans: retinal layers with a foveal dip, or skin layers fading with depth. */
export function drawOct(anatomy: Anatomy, side: number, rng: SeededRng): IntensityScene {
  const f = field(side, 0.04);
  const placeable = new Uint8Array(side * side);
  const tilt = rng.uniform(-0.06, 0.06);
  if (anatomy === 'Retina') {
    const top = 0.2 + rng.uniform(-0.03, 0.03);
    const layers: Array<[number, number]> = [
      [0.03, 0.82],
      [0.07, 0.36],
      [0.1, 0.62],
      [0.14, 0.3],
      [0.17, 0.56],
      [0.24, 0.2],
      [0.28, 0.96],
      [0.42, 0.45],
    ];
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const u = (x + 0.5) / side;
        const surface = top + tilt * (u - 0.5) + 0.09 * Math.exp(-(((u - 0.5) / 0.09) ** 2));
        const d = (y + 0.5) / side - surface;
        if (d < 0) continue;
        const layer = layers.find(([depth]) => d < depth);
        f.data[y * side + x] = layer ? layer[1] : Math.max(0.08, 0.45 - (d - 0.42) * 1.5);
        if (d > 0.02 && d < 0.5) placeable[y * side + x] = 1;
      }
  } else if (anatomy === 'Skin') {
    const top = 0.15 + rng.uniform(-0.03, 0.03);
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const u = (x + 0.5) / side;
        const surface = top + tilt * (u - 0.5) + 0.02 * Math.sin(u * 12);
        const d = (y + 0.5) / side - surface;
        if (d < 0) continue;
        f.data[y * side + x] = d < 0.025 ? 0.95 : d < 0.12 ? 0.62 : Math.max(0.06, 0.5 * Math.exp(-(d - 0.12) * 2.2));
        if (d > 0.03 && d < 0.7) placeable[y * side + x] = 1;
      }
    for (let k = 0; k < 2; k++) {
      const x = rng.uniform(0.15, 0.85);
      labelEllipse(f, x, top + 0.3, 0.025, 0.1, 0.08, rng.uniform(-0.3, 0.3));
    }
  } else throw new RangeError(`no OCT drawing for ${anatomy}`);
  addNoise(f, rng, 10, 0.03);
  return { intensity: f, placeable, fov: full(side) };
}
