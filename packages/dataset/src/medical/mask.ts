import { ErrorCode, MedadError, type RawImage } from '@medad/core';
import type { MaskAnalysis } from './types.js';

function checkImage(image: RawImage, what: string): void {
  const { width, height, channels, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || ![1, 3, 4].includes(channels) || data.length !== width * height * channels) {
    throw new MedadError(ErrorCode.BadUserInput, `${what}: image ${width}x${height}x${channels} does not match its ${data.length} data bytes`, {
      fix: 'pass a RawImage whose data length is width*height*channels (channels 1, 3 or 4)',
    });
  }
}

/**
 * Area, tight bbox and centroid of the foreground of a mask: pixels where any colour channel is >= `threshold`
 * (alpha, the 4th channel, is ignored so opaque RGBA masks are not all foreground). The centroid is in continuous
 * image coordinates (pixel (x, y) covers [x, x+1) × [y, y+1)), the convention `regionOfPoint` divides by width/height.
 */
export function analyzeMask(mask: RawImage, threshold = 128): MaskAnalysis {
  checkImage(mask, 'analyzeMask');
  const { width, height, channels, data } = mask;
  const colour = Math.min(channels, 3);
  let area = 0;
  let sumX = 0;
  let sumY = 0;
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * channels;
      let fg = false;
      for (let c = 0; c < colour && !fg; c++) fg = data[p + c]! >= threshold;
      if (!fg) continue;
      area++;
      sumX += x + 0.5;
      sumY += y + 0.5;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  if (area === 0) return { area: 0, areaFraction: 0, bbox: null, centroid: null, present: false };
  return {
    area,
    areaFraction: area / (width * height),
    bbox: { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 },
    centroid: { x: sumX / area, y: sumY / area },
    present: true,
  };
}

/** Resizes an image by nearest-neighbour sampling (pixel centres), so mask labels stay exact. */
export function resizeNearest(image: RawImage, width: number, height: number): RawImage {
  checkImage(image, 'resizeNearest');
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new MedadError(ErrorCode.BadUserInput, `resizeNearest: target size ${width}x${height} is invalid`, { fix: 'pass positive integer width and height' });
  }
  const { channels, data } = image;
  const out = new Uint8Array(width * height * channels);
  const xs = new Int32Array(width);
  for (let x = 0; x < width; x++) xs[x] = Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / width));
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / height));
    for (let x = 0; x < width; x++) {
      const src = (sy * image.width + xs[x]!) * channels;
      const dst = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) out[dst + c] = data[src + c]!;
    }
  }
  return { width, height, channels, data: out };
}
