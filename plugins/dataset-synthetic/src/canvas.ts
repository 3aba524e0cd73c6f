import type { SeededRng } from '@medad/core';

/** A square scalar field (intensities 0-1, or labels), row-major. */
export interface Field {
  side: number;
  data: Float32Array;
}

/** A new field filled with a value. */
export function field(side: number, fill = 0): Field {
  return { side, data: new Float32Array(side * side).fill(fill) };
}

/**
 * Smooth value noise in [-1, 1]: a seeded random lattice of `cells`×`cells` cells, interpolated
 * with smoothstep. Octaves add finer lattices at half the amplitude.
 */
export function valueNoise(side: number, cells: number, rng: SeededRng, octaves = 1): Float32Array {
  const out = new Float32Array(side * side);
  let amp = 1;
  let norm = 0;
  for (let o = 0; o < octaves; o++) {
    const c = cells << o;
    const lattice = Float32Array.from({ length: (c + 1) * (c + 1) }, () => rng.next() * 2 - 1);
    for (let y = 0; y < side; y++) {
      const fy = (y / side) * c;
      const iy = Math.floor(fy);
      const ty = fy - iy;
      const sy = ty * ty * (3 - 2 * ty);
      for (let x = 0; x < side; x++) {
        const fx = (x / side) * c;
        const ix = Math.floor(fx);
        const tx = fx - ix;
        const sx = tx * tx * (3 - 2 * tx);
        const a = lattice[iy * (c + 1) + ix]!;
        const b = lattice[iy * (c + 1) + ix + 1]!;
        const d = lattice[(iy + 1) * (c + 1) + ix]!;
        const e = lattice[(iy + 1) * (c + 1) + ix + 1]!;
        out[y * side + x]! += amp * (a + (b - a) * sx + (d - a + (a - b - d + e) * sx) * sy);
      }
    }
    norm += amp;
    amp /= 2;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

/** Coverage (0-1) of an ellipse at pixel (x, y) with a soft edge about one pixel wide; coordinates in pixels. */
export function ellipseCoverage(x: number, y: number, cx: number, cy: number, rx: number, ry: number, soft = 0.7): number {
  const dx = (x + 0.5 - cx) / rx;
  const dy = (y + 0.5 - cy) / ry;
  const d = Math.sqrt(dx * dx + dy * dy);
  const edge = (d - 1) * Math.min(rx, ry);
  return Math.min(1, Math.max(0, 0.5 - edge / (2 * soft)));
}

/** Blends `value` into a field where `coverage(x, y)` > 0. */
export function paint(f: Field, coverage: (x: number, y: number) => number, value: number | ((x: number, y: number) => number)): void {
  const { side, data } = f;
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const a = coverage(x, y);
      if (a <= 0) continue;
      const v = typeof value === 'number' ? value : value(x, y);
      const i = y * side + x;
      data[i] = data[i]! * (1 - a) + v * a;
    }
}

/** Sets pixels of a label field inside an ellipse (hard edge); coordinates are fractions of the side. */
export function labelEllipse(f: Field, cx: number, cy: number, rx: number, ry: number, label: number, angle = 0): void {
  const { side, data } = f;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const u = (x + 0.5) / side - cx;
      const v = (y + 0.5) / side - cy;
      const a = (u * cos + v * sin) / rx;
      const b = (-u * sin + v * cos) / ry;
      if (a * a + b * b <= 1) data[y * side + x] = label;
    }
}

/** Sets pixels of a label field within `width` of a polyline (fractions of the side). */
export function labelPolyline(f: Field, points: ReadonlyArray<[number, number]>, width: number, label: number): void {
  const { side, data } = f;
  for (let k = 0; k + 1 < points.length; k++) {
    const [x0, y0] = points[k]!;
    const [x1, y1] = points[k + 1]!;
    const steps = Math.ceil(Math.hypot(x1 - x0, y1 - y0) * side * 2) + 1;
    for (let s = 0; s <= steps; s++) {
      const cx = x0 + ((x1 - x0) * s) / steps;
      const cy = y0 + ((y1 - y0) * s) / steps;
      const r = width * side;
      const xa = Math.max(0, Math.floor(cx * side - r));
      const xb = Math.min(side - 1, Math.ceil(cx * side + r));
      const ya = Math.max(0, Math.floor(cy * side - r));
      const yb = Math.min(side - 1, Math.ceil(cy * side + r));
      for (let y = ya; y <= yb; y++)
        for (let x = xa; x <= xb; x++) if (Math.hypot(x + 0.5 - cx * side, y + 0.5 - cy * side) <= Math.max(r, 0.5)) data[y * side + x] = label;
    }
  }
}

/** A meandering polyline from a start point along a direction, for vessels, hairs and folds. */
export function wanderingPath(rng: SeededRng, x: number, y: number, angle: number, steps: number, stepLen: number, wiggle: number): Array<[number, number]> {
  const pts: Array<[number, number]> = [[x, y]];
  let a = angle;
  for (let i = 0; i < steps; i++) {
    a += rng.normal(0, wiggle);
    x += Math.cos(a) * stepLen;
    y += Math.sin(a) * stepLen;
    pts.push([x, y]);
  }
  return pts;
}

/** Shrinks a binary mask by `radius` pixels (a pixel survives when its whole square neighbourhood is set). */
export function erode(mask: Uint8Array, side: number, radius: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      let ok = 1;
      for (let dy = -radius; dy <= radius && ok; dy++)
        for (let dx = -radius; dx <= radius; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= side || yy >= side || !mask[yy * side + xx]) {
            ok = 0;
            break;
          }
        }
      out[y * side + x] = ok;
    }
  return out;
}

/** Linear interpolation through colour stops (position 0-1 → RGB 0-255). */
export function colormap(stops: ReadonlyArray<readonly [number, number, number, number]>): (t: number) => [number, number, number] {
  return (t: number) => {
    const v = Math.min(1, Math.max(0, t));
    for (let i = 1; i < stops.length; i++) {
      const [p1, r1, g1, b1] = stops[i]!;
      if (v <= p1) {
        const [p0, r0, g0, b0] = stops[i - 1]!;
        const w = p1 > p0 ? (v - p0) / (p1 - p0) : 0;
        return [r0 + (r1 - r0) * w, g0 + (g1 - g0) * w, b0 + (b1 - b0) * w];
      }
    }
    const last = stops[stops.length - 1]!;
    return [last[1], last[2], last[3]];
  };
}
