import { ErrorCode, MedadError, type RawImage } from '@medad/core';

/** Throws when an image's buffer does not match its width, height and channels. */
export function checkImage(img: RawImage, where: string): void {
  const ok =
    Number.isInteger(img.width) &&
    Number.isInteger(img.height) &&
    img.width > 0 &&
    img.height > 0 &&
    [1, 3, 4].includes(img.channels) &&
    img.data.length === img.width * img.height * img.channels;
  if (!ok) {
    throw new MedadError(
      ErrorCode.BadUserInput,
      `${where}: image of ${img.width}×${img.height}×${img.channels} has ${img.data.length} bytes`,
      { fix: 'pass a RawImage whose data holds width*height*channels bytes (channels 1, 3 or 4)' },
    );
  }
}

/** A blank image filled with one value per channel. */
export function createImage(width: number, height: number, channels: 1 | 3 | 4, fill: readonly number[] = [0]): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = fill[i % channels] ?? fill[0] ?? 0;
  return { width, height, channels, data };
}

/** The image as RGB (grey is replicated, alpha dropped). */
export function toRgb(img: RawImage): RawImage {
  checkImage(img, 'toRgb');
  if (img.channels === 3) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const s = p * img.channels;
    out[p * 3] = img.data[s]!;
    out[p * 3 + 1] = img.data[img.channels === 1 ? s : s + 1]!;
    out[p * 3 + 2] = img.data[img.channels === 1 ? s : s + 2]!;
  }
  return { width: img.width, height: img.height, channels: 3, data: out };
}

/** Luminance (ITU-R BT.601) of each pixel, 0-255, as floats. */
export function toGrayFloat(img: RawImage): Float32Array {
  checkImage(img, 'toGrayFloat');
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const c = img.channels;
  for (let p = 0; p < n; p++) {
    const s = p * c;
    out[p] = c === 1 ? img.data[s]! : 0.299 * img.data[s]! + 0.587 * img.data[s + 1]! + 0.114 * img.data[s + 2]!;
  }
  return out;
}

/** A rectangular copy of an image; the rectangle is clamped to the image. */
export function cropImage(img: RawImage, x: number, y: number, width: number, height: number): RawImage {
  checkImage(img, 'cropImage');
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.floor(x + width));
  const y1 = Math.min(img.height, Math.floor(y + height));
  if (x1 <= x0 || y1 <= y0) {
    throw new MedadError(ErrorCode.BadUserInput, `cropImage: rectangle ${x},${y} ${width}×${height} is outside the ${img.width}×${img.height} image`, {
      fix: 'pass a rectangle that overlaps the image',
    });
  }
  const w = x1 - x0;
  const h = y1 - y0;
  const c = img.channels;
  const out = new Uint8Array(w * h * c);
  for (let r = 0; r < h; r++) out.set(img.data.subarray(((y0 + r) * img.width + x0) * c, ((y0 + r) * img.width + x1) * c), r * w * c);
  return { width: w, height: h, channels: img.channels, data: out };
}

/**
 * Bilinear resize with half-pixel centres (the convention of tf.image.resizeBilinear with
 * halfPixelCenters), rounding to the nearest byte.
 */
export function resizeBilinear(img: RawImage, width: number, height: number): RawImage {
  checkImage(img, 'resizeBilinear');
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new MedadError(ErrorCode.BadUserInput, `resizeBilinear: target size ${width}×${height} is not a positive integer size`, {
      fix: 'pass integer width and height >= 1',
    });
  }
  const c = img.channels;
  if (width === img.width && height === img.height) return { ...img, data: new Uint8Array(img.data) };
  const out = new Uint8Array(width * height * c);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      for (let k = 0; k < c; k++) {
        const a = img.data[(y0 * img.width + x0) * c + k]!;
        const b = img.data[(y0 * img.width + x1) * c + k]!;
        const d = img.data[(y1 * img.width + x0) * c + k]!;
        const e = img.data[(y1 * img.width + x1) * c + k]!;
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        out[(y * width + x) * c + k] = Math.round(top + (bottom - top) * wy);
      }
    }
  }
  return { width, height, channels: img.channels, data: out };
}

/** The image mirrored left-right and/or upside-down. */
export function flipImage(img: RawImage, horizontal: boolean, vertical: boolean): RawImage {
  checkImage(img, 'flipImage');
  const { width: w, height: h, channels: c } = img;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < h; y++) {
    const sy = vertical ? h - 1 - y : y;
    for (let x = 0; x < w; x++) {
      const sx = horizontal ? w - 1 - x : x;
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = img.data[(sy * w + sx) * c + k]!;
    }
  }
  return { width: w, height: h, channels: c, data: out };
}
