import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { ErrorCode, MedadError, errorMessage, type RawImage } from '@medad/core';
import { checkImage } from './raw.js';

const { PNG } = pngjs;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when the bytes start with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** True when the bytes start with a JPEG start-of-image marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * Decodes a PNG into a {@link RawImage} with the file's colour layout: 1 channel for a greyscale
 * file, 3 for colour, 4 when any pixel is transparent (16-bit files are scaled to 8 bits).
 */
export function decodePng(bytes: Uint8Array, name = 'PNG'): RawImage {
  let png: { width: number; height: number; data: Uint8Array; color?: boolean; palette?: boolean };
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new MedadError(ErrorCode.InvalidData, `${name} is not a readable PNG (${errorMessage(err)})`, {
      cause: err,
      fix: 'replace the file with a valid PNG, or re-export it from an image editor',
    });
  }
  const { width, height, data } = png;
  const grey = !png.color && !png.palette;
  let opaque = true;
  for (let i = 3; i < data.length && opaque; i += 4) if (data[i] !== 255) opaque = false;
  const channels = !opaque ? 4 : grey ? 1 : 3;
  if (channels === 4) return { width, height, channels, data: new Uint8Array(data) };
  const out = new Uint8Array(width * height * channels);
  for (let p = 0, q = 0; p < data.length; p += 4) {
    if (channels === 1) out[q++] = data[p]!;
    else {
      out[q++] = data[p]!;
      out[q++] = data[p + 1]!;
      out[q++] = data[p + 2]!;
    }
  }
  return { width, height, channels, data: out };
}

/** Encodes a {@link RawImage} as a PNG (grey, RGB or RGBA to match its channels); deterministic. */
export function encodePng(img: RawImage): Buffer {
  checkImage(img, 'encodePng');
  const colorType = img.channels === 1 ? 0 : img.channels === 3 ? 2 : 6;
  return PNG.sync.write(
    { width: img.width, height: img.height, data: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength) } as never,
    { colorType, inputColorType: colorType, inputHasAlpha: img.channels === 4, deflateLevel: 9 },
  );
}

/** Decodes a baseline or progressive JPEG into an RGB {@link RawImage}. */
export function decodeJpeg(bytes: Uint8Array, name = 'JPEG'): RawImage {
  try {
    const out = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
    return { width: out.width, height: out.height, channels: 3, data: out.data };
  } catch (err) {
    throw new MedadError(ErrorCode.InvalidData, `${name} is not a readable JPEG (${errorMessage(err)})`, {
      cause: err,
      fix: 'replace the file with a valid JPEG, or convert it to PNG',
    });
  }
}

/**
 * Width and height of a PNG (its IHDR) or JPEG (its first SOFn frame header), read from the header
 * without decoding; undefined when the bytes are neither or the header is cut short.
 */
export function imageDimensions(bytes: Uint8Array): { width: number; height: number; format: 'png' | 'jpeg' } | undefined {
  const u16 = (i: number): number => (bytes[i]! << 8) | bytes[i + 1]!;
  if (isPng(bytes)) {
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { width: view.getUint32(16), height: view.getUint32(20), format: 'png' };
  }
  if (!isJpeg(bytes)) return undefined;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2; // markers without a length
      continue;
    }
    const length = u16(i + 2);
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 > bytes.length) return undefined;
      return { width: u16(i + 7), height: u16(i + 5), format: 'jpeg' };
    }
    if (marker === 0xda || length < 2) return undefined; // image data before any frame header
    i += 2 + length;
  }
  return undefined;
}

/** Options of {@link decodeImage}. */
export interface DecodeLimits {
  /** Refuse (before decoding) an image of more pixels than this. */
  maxPixels?: number;
}

/** Decodes PNG or JPEG bytes, recognised by their signature; with `maxPixels`, the header's size is checked first. */
export function decodeImage(bytes: Uint8Array, name = 'image', limits: DecodeLimits = {}): RawImage {
  if (limits.maxPixels !== undefined) {
    const dims = imageDimensions(bytes);
    if (dims && dims.width * dims.height > limits.maxPixels) {
      throw new MedadError(ErrorCode.BadUserInput, `${name} is ${dims.width}×${dims.height} (${dims.width * dims.height} pixels), more than the limit of ${limits.maxPixels}`, {
        fix: 'downscale the image before sending it (the policy reads it at its own small resolution anyway)',
        details: { width: dims.width, height: dims.height, maxPixels: limits.maxPixels },
      });
    }
  }
  if (isPng(bytes)) return decodePng(bytes, name);
  if (isJpeg(bytes)) return decodeJpeg(bytes, name);
  throw new MedadError(ErrorCode.Unsupported, `${name} is neither a PNG nor a JPEG (unknown file signature)`, {
    fix: 'convert the image to PNG or JPEG (DICOM and NIfTI go through `medad data import dicom|nifti`)',
  });
}

/** Reads and decodes a PNG or JPEG file. */
export function readImageFile(file: string): RawImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new MedadError(ErrorCode.NotFound, `Cannot read image ${file}: ${errorMessage(err)}`, {
      cause: err,
      fix: 'check that the image exists at that path relative to the dataset root',
    });
  }
  return decodeImage(bytes, file);
}

/** Encodes an image as PNG and writes it, creating the directory. */
export function writePngFile(file: string, img: RawImage): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, encodePng(img));
}
