import type { RawImage } from '@medad/core';
import { boxBlur } from '../image/blur.js';
import { resizeBilinear, toRgb } from '../image/raw.js';
import { connectedComponents } from '../regions.js';

/** Side of the square grid the features are computed on (the `small` policy preset's input). */
export const FEATURE_SIDE = 48;
const POOL = 6;

function pool(src: Float32Array, side: number, cells: number, f: (v: number) => number, out: number[]): void {
  for (let cy = 0; cy < cells; cy++)
    for (let cx = 0; cx < cells; cx++) {
      const y0 = Math.floor((cy * side) / cells);
      const y1 = Math.floor(((cy + 1) * side) / cells);
      const x0 = Math.floor((cx * side) / cells);
      const x1 = Math.floor(((cx + 1) * side) / cells);
      let s = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += f(src[y * side + x]!);
      out.push(s / ((y1 - y0) * (x1 - x0)));
    }
}

function histogram(src: ArrayLike<number>, lo: number, hi: number, bins: number, out: number[]): void {
  const h = new Array<number>(bins).fill(0);
  for (let i = 0; i < src.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((src[i]! - lo) / (hi - lo)) * bins)));
    h[b]!++;
  }
  for (const v of h) out.push(v / src.length);
}

function tailMeans(src: Float32Array, out: number[]): void {
  const sorted = Float32Array.from(src).sort();
  const n = sorted.length;
  for (const frac of [0.01, 0.05]) {
    const k = Math.max(1, Math.round(n * frac));
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < k; i++) {
      lo += sorted[i]!;
      hi += sorted[n - 1 - i]!;
    }
    out.push(lo / k, hi / k);
  }
}

function localExtremaCounts(r: Float32Array, side: number, thresholds: number[], out: number[]): void {
  for (const t of thresholds) {
    let maxima = 0;
    let minima = 0;
    for (let y = 1; y < side - 1; y++)
      for (let x = 1; x < side - 1; x++) {
        const v = r[y * side + x]!;
        if (Math.abs(v) < t) continue;
        let isMax = true;
        let isMin = true;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            if (!dx && !dy) continue;
            const w = r[(y + dy) * side + x + dx]!;
            if (w >= v) isMax = false;
            if (w <= v) isMin = false;
          }
        if (isMax && v > 0) maxima++;
        if (isMin && v < 0) minima++;
      }
    out.push(maxima / 10, minima / 10);
  }
}

function blobStats(r: Float32Array, side: number, sign: 1 | -1, t: number, out: number[]): void {
  const data = new Uint8Array(r.length);
  for (let i = 0; i < r.length; i++) data[i] = sign * r[i]! > t ? 1 : 0;
  const { areas } = connectedComponents({ width: side, height: side, data });
  const big = areas.filter((a) => a >= 4);
  const total = big.reduce((a, b) => a + b, 0);
  out.push(big.length / 4, (big.length ? Math.max(...big) : 0) / 100, total / 200);
}

/** Top `k` local maxima of a map (non-maximum suppression within `radius`), strongest first. */
function topPeaks(map: Float32Array, side: number, k: number, radius: number): Array<{ x: number; y: number; v: number }> {
  const peaks: Array<{ x: number; y: number; v: number }> = [];
  const taken = new Uint8Array(map.length);
  for (let n = 0; n < k; n++) {
    let best = -1;
    for (let i = 0; i < map.length; i++) if (!taken[i] && (best < 0 || map[i]! > map[best]!)) best = i;
    if (best < 0) break;
    const x = best % side;
    const y = (best - x) / side;
    peaks.push({ x, y, v: map[best]! });
    for (let yy = Math.max(0, y - radius); yy <= Math.min(side - 1, y + radius); yy++)
      for (let xx = Math.max(0, x - radius); xx <= Math.min(side - 1, x + radius); xx++) taken[yy * side + xx] = 1;
  }
  return peaks;
}

/**
 * A rotation-invariant description of the neighbourhood of a point (a lesion candidate): radial
 * profiles of intensity, spread and edge strength relative to the surround, angular asymmetry, and
 * fine-detail energy — in the spirit of interest-point descriptors.
 */
function pointDescriptor(gray: Float32Array, mag: Float32Array, rFine: Float32Array, side: number, px: number, py: number, out: number[]): void {
  const rings = 8;
  const sum = new Array<number>(rings + 3).fill(0);
  const sq = new Array<number>(rings + 3).fill(0);
  const edge = new Array<number>(rings + 3).fill(0);
  const cnt = new Array<number>(rings + 3).fill(0);
  const sector = new Array<number>(8).fill(0);
  const sectorN = new Array<number>(8).fill(0);
  let fineEnergy = 0;
  let fineN = 0;
  for (let y = Math.max(0, py - rings - 2); y <= Math.min(side - 1, py + rings + 2); y++)
    for (let x = Math.max(0, px - rings - 2); x <= Math.min(side - 1, px + rings + 2); x++) {
      const d = Math.hypot(x - px, y - py);
      const ring = Math.floor(d);
      if (ring > rings + 2) continue;
      const i = y * side + x;
      sum[ring]! += gray[i]!;
      sq[ring]! += gray[i]! * gray[i]!;
      edge[ring]! += mag[i]!;
      cnt[ring]!++;
      if (d < 6) {
        const s = Math.min(7, Math.floor(((Math.atan2(y - py, x - px) + Math.PI) / (2 * Math.PI)) * 8));
        sector[s]! += gray[i]!;
        sectorN[s]!++;
        fineEnergy += Math.abs(rFine[i]!);
        fineN++;
      }
    }
  const surroundN = cnt[rings]! + cnt[rings + 1]! + cnt[rings + 2]!;
  const surround = surroundN ? (sum[rings]! + sum[rings + 1]! + sum[rings + 2]!) / surroundN : 0;
  for (let r = 0; r < rings; r++) {
    const n = cnt[r]! || 1;
    const m = sum[r]! / n;
    out.push(m - surround, Math.sqrt(Math.max(0, sq[r]! / n - m * m)), edge[r]! / n);
  }
  const sm = sector.map((v, i) => (sectorN[i] ? v / sectorN[i]! : 0));
  const mean = sm.reduce((a, b) => a + b, 0) / 8;
  out.push(Math.sqrt(sm.reduce((a, b) => a + (b - mean) ** 2, 0) / 8), fineN ? fineEnergy / fineN : 0, surround);
}

/**
 * Hand-made pixel features of an image at 48×48: colour layout and histograms, gradient
 * orientation and energy, fine and blob-scale residual energy pooled on a 6×6 grid (one cell per
 * 8×8 patch), residual tails, local extrema counts and blob statistics. Generic image statistics,
 * nothing specific to one dataset.
 */
export function imageFeatures(img: RawImage): Float32Array {
  const small = resizeBilinear(toRgb(img), FEATURE_SIDE, FEATURE_SIDE);
  const side = FEATURE_SIDE;
  const n = side * side;
  const ch = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const gray = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < 3; k++) ch[k]![p] = small.data[p * 3 + k]! / 255;
    gray[p] = 0.299 * ch[0]![p]! + 0.587 * ch[1]![p]! + 0.114 * ch[2]![p]!;
  }
  const out: number[] = [];
  for (const c of ch) pool(c, side, 8, (v) => v, out);
  for (const c of ch) {
    let s = 0;
    let s2 = 0;
    for (let p = 0; p < n; p++) {
      s += c[p]!;
      s2 += c[p]! * c[p]!;
    }
    const m = s / n;
    out.push(m, Math.sqrt(Math.max(0, s2 / n - m * m)));
    histogram(c, 0, 1, 8, out);
  }
  histogram(gray, 0, 1, 16, out);

  const gx = new Float32Array(n);
  const gy = new Float32Array(n);
  const mag = new Float32Array(n);
  const orient = new Array<number>(8).fill(0);
  let sx = 0;
  let sy = 0;
  for (let y = 1; y < side - 1; y++)
    for (let x = 1; x < side - 1; x++) {
      const p = y * side + x;
      gx[p] = (gray[p + 1]! - gray[p - 1]!) / 2;
      gy[p] = (gray[p + side]! - gray[p - side]!) / 2;
      mag[p] = Math.hypot(gx[p]!, gy[p]!);
      sx += Math.abs(gx[p]!);
      sy += Math.abs(gy[p]!);
      const a = (Math.atan2(gy[p]!, gx[p]!) + Math.PI) / (2 * Math.PI);
      orient[Math.min(7, Math.floor(a * 8))]! += mag[p]!;
    }
  const totalMag = orient.reduce((a, b) => a + b, 0) || 1;
  out.push(sx / n, sy / n, sx / (sy + 1e-3 * n));
  for (const o of orient) out.push(o / totalMag);
  pool(mag, side, POOL, (v) => v, out);

  const fine = boxBlur(gray, side, 1);
  const coarse = boxBlur(boxBlur(gray, side, 4), side, 4);
  const rFine = new Float32Array(n);
  const rBlob = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    rFine[p] = gray[p]! - fine[p]!;
    rBlob[p] = fine[p]! - coarse[p]!;
  }
  for (const r of [rFine, rBlob]) {
    pool(r, side, POOL, (v) => Math.max(0, v), out);
    pool(r, side, POOL, (v) => Math.max(0, -v), out);
    tailMeans(r, out);
    histogram(r, -0.4, 0.4, 8, out);
  }
  localExtremaCounts(rFine, side, [0.06, 0.12], out);
  blobStats(rBlob, side, 1, 0.08, out);
  blobStats(rBlob, side, -1, 0.08, out);
  const saliency = boxBlur(Float32Array.from(rBlob, Math.abs), side, 2);
  const peaks = topPeaks(saliency, side, 6, 6);
  for (let k = 0; k < 6; k++) out.push(peaks[k]?.v ?? 0);
  for (let k = 1; k < 6; k++) out.push(peaks[0] && peaks[k] ? peaks[k]!.v / (peaks[0].v + 1e-6) : 0);
  for (const t of [0.04, 0.07, 0.1, 0.14]) out.push(peaks.filter((p) => p.v > t).length);
  for (const p of peaks.slice(0, 2)) pointDescriptor(gray, mag, rFine, side, p.x, p.y, out);
  for (let k = peaks.length; k < 2; k++) for (let j = 0; j < 27; j++) out.push(0);
  return Float32Array.from(out);
}
