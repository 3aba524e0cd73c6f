import { ErrorCode, MedadError, type BBox, type Region } from '@medad/core';

/**
 * The five-region grid as data: Center is the middle third of both axes (fractions of the image
 * side); every other point belongs to the quadrant it falls in, split at one half.
 */
export const REGION_GRID = Object.freeze({
  center: { from: 1 / 3, to: 2 / 3 },
  split: 1 / 2,
  quadrants: Object.freeze({
    'Left Upper': { left: true, upper: true },
    'Right Upper': { left: false, upper: true },
    'Left Lower': { left: true, upper: false },
    'Right Lower': { left: false, upper: false },
  }),
});

/** The region of a point in pixel coordinates (continuous; a pixel's centre is at i + 0.5). */
export function regionOfPoint(x: number, y: number, width: number, height: number): Region {
  if (!(width > 0 && height > 0)) {
    throw new MedadError(ErrorCode.BadUserInput, `regionOfPoint needs a positive image size, got ${width}×${height}`, {
      fix: 'pass the width and height of the image the point belongs to',
    });
  }
  const u = x / width;
  const v = y / height;
  const { from, to } = REGION_GRID.center;
  if (u >= from && u <= to && v >= from && v <= to) return 'Center';
  const left = u < REGION_GRID.split;
  const upper = v < REGION_GRID.split;
  if (upper) return left ? 'Left Upper' : 'Right Upper';
  return left ? 'Left Lower' : 'Right Lower';
}

/** The region of a bounding box's centre. */
export function regionOfBBox(bbox: BBox, width: number, height: number): Region {
  return regionOfPoint(bbox.x + bbox.width / 2, bbox.y + bbox.height / 2, width, height);
}

/** A binary mask: row-major, one byte per pixel, nonzero = inside. */
export interface BinaryMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Centroid (pixel-centre coordinates) and pixel count of a mask; null when the mask is empty. */
export function maskCentroid(mask: BinaryMask): { x: number; y: number; area: number } | null {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < mask.height; y++)
    for (let x = 0; x < mask.width; x++)
      if (mask.data[y * mask.width + x]) {
        sx += x + 0.5;
        sy += y + 0.5;
        n++;
      }
  return n === 0 ? null : { x: sx / n, y: sy / n, area: n };
}

/** The tight bounding box of a mask's nonzero pixels; null when the mask is empty. */
export function bboxOfMask(mask: BinaryMask): BBox | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < mask.height; y++)
    for (let x = 0; x < mask.width; x++)
      if (mask.data[y * mask.width + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  return x1 < 0 ? null : { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** The region of a mask's centroid (DESIGN.md §4); null when the mask is empty. */
export function regionOfMask(mask: BinaryMask): Region | null {
  const c = maskCentroid(mask);
  return c ? regionOfPoint(c.x, c.y, mask.width, mask.height) : null;
}

/** Labels the 4-connected components of a mask; returns the component count and a label map (0 = background). */
export function connectedComponents(mask: BinaryMask): { count: number; labels: Int32Array; areas: number[] } {
  const { width, height, data } = mask;
  const labels = new Int32Array(width * height);
  const areas: number[] = [];
  const stack: number[] = [];
  let count = 0;
  for (let start = 0; start < width * height; start++) {
    if (!data[start] || labels[start]) continue;
    count++;
    let area = 0;
    labels[start] = count;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      area++;
      const x = p % width;
      const y = (p - x) / width;
      const next = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1];
      for (const q of next)
        if (q >= 0 && data[q] && !labels[q]) {
          labels[q] = count;
          stack.push(q);
        }
    }
    areas.push(area);
  }
  return { count, labels, areas };
}
