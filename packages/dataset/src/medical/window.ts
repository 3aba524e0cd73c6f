import { ErrorCode, MedadError } from '@medad/core';
import type { AppliedWindow, PercentileWindow, WindowOptions, WindowSpec } from './types.js';

/** Default low/high percentiles of the automatic window. */
export const DEFAULT_PERCENTILES: [number, number] = [1, 99];

/** Above this many values, percentiles are taken on an evenly strided sample (deterministic) to bound time and memory. */
export const MAX_PERCENTILE_SAMPLES = 1 << 20;

function checkWindow(center: number, width: number, where: string): void {
  if (!Number.isFinite(center) || !Number.isFinite(width) || width <= 0) {
    throw new MedadError(ErrorCode.BadUserInput, `${where}: window center ${center} / width ${width} is invalid (width must be a finite number > 0)`, {
      fix: 'pass a finite center and a positive width, e.g. { center: 40, width: 400 }',
    });
  }
}

/** Maps intensities linearly to 0-255: `center - width/2` → 0, `center + width/2` → 255, clamped; NaN → 0. */
export function applyWindow(values: ArrayLike<number>, center: number, width: number, options: { invert?: boolean } = {}): Uint8Array {
  checkWindow(center, width, 'applyWindow');
  const out = new Uint8Array(values.length);
  const low = center - width / 2;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let y = v !== v ? 0 : Math.round(((v - low) * 255) / width);
    y = y < 0 ? 0 : y > 255 ? 255 : y;
    out[i] = options.invert ? 255 - y : y;
  }
  return out;
}

function checkPercentiles(lo: number, hi: number): void {
  if (!(lo >= 0 && hi <= 100 && lo < hi)) {
    throw new MedadError(ErrorCode.BadUserInput, `percentiles [${lo}, ${hi}] are invalid (need 0 <= low < high <= 100)`, {
      fix: 'pass percentiles such as [1, 99] or [0.5, 99.5]',
    });
  }
}

function quantile(sorted: Float32Array, p: number): number {
  // Linear interpolation between closest ranks, as numpy.percentile's default.
  const rank = (p / 100) * (sorted.length - 1);
  const i = Math.floor(rank);
  const frac = rank - i;
  return i + 1 < sorted.length ? sorted[i]! + frac * (sorted[i + 1]! - sorted[i]!) : sorted[i]!;
}

/** The window spanning the `lo`-th to `hi`-th percentile of the finite values (linear interpolation, as numpy). */
export function percentileWindow(values: ArrayLike<number>, lo = DEFAULT_PERCENTILES[0], hi = DEFAULT_PERCENTILES[1]): PercentileWindow {
  checkPercentiles(lo, hi);
  let n = 0;
  const finite = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) finite[n++] = v;
  }
  if (n === 0) return { center: 0, width: 1, low: -0.5, high: 0.5 };
  const sorted = finite.subarray(0, n).sort();
  let low = quantile(sorted, lo);
  let high = quantile(sorted, hi);
  // A mostly-constant image collapses the percentile range; widen to the full range, then to width 1.
  if (high <= low) {
    low = sorted[0]!;
    high = sorted[n - 1]!;
  }
  if (high <= low) return { center: low, width: 1, low: low - 0.5, high: low + 0.5 };
  return { center: (low + high) / 2, width: high - low, low, high };
}

/** Min, max and a strided sample of `count` values read through `get`, skipping non-finite and excluded ones. */
export function scanValues(count: number, get: (i: number) => number, exclude?: (i: number) => boolean): {
  min: number;
  max: number;
  sample: Float32Array;
} {
  const stride = Math.max(1, Math.ceil(count / MAX_PERCENTILE_SAMPLES));
  const sample = new Float32Array(Math.ceil(count / stride));
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    if (exclude?.(i)) continue;
    const v = get(i);
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (i % stride === 0) sample[n++] = v;
  }
  return { min, max, sample: sample.subarray(0, n) };
}

/** Chooses the window: an explicit one, else the file's (when valid and not ignored), else percentiles of the sample. */
export function resolveWindow(options: WindowOptions, fileWindow: WindowSpec | undefined, sample: () => Float32Array): AppliedWindow {
  if (options.window) {
    checkWindow(options.window.center, options.window.width, 'options.window');
    return { center: options.window.center, width: options.window.width, source: 'explicit' };
  }
  if (!options.ignoreFileWindow && fileWindow && Number.isFinite(fileWindow.center) && fileWindow.width > 0) {
    return { center: fileWindow.center, width: fileWindow.width, source: 'file' };
  }
  const [lo, hi] = options.percentiles ?? DEFAULT_PERCENTILES;
  const w = percentileWindow(sample(), lo, hi);
  return { center: w.center, width: w.width, source: 'percentile', percentiles: [lo, hi] };
}
