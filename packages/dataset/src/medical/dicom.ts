import { inflateRawSync } from 'node:zlib';
import type { RawImage } from '@medad/core';
import dicomParser from 'dicom-parser';
import type { DataSet } from 'dicom-parser';
import { DECODED_SYNTAXES, canDecode, decodeFrame, type FrameInfo } from './dicom-codecs.js';
import { DECOMPRESS_FIX, DICOM_TRANSFER_SYNTAXES } from './dicom-syntax.js';
import { asPixelValue, storedValueReader } from './dicom-pixels.js';
import { invalidMedicalData, thrownText, unsupportedMedicalData } from './errors.js';
import type { DicomDecodeOptions, DicomDecodeResult, DicomMeta, WindowSpec } from './types.js';
import { applyWindow, resolveWindow, scanValues } from './window.js';

export { DICOM_TRANSFER_SYNTAXES } from './dicom-syntax.js';

const IMPLICIT_LE = '1.2.840.10008.1.2';
const REEXPORT_FIX = 'check that the file is a complete DICOM Part 10 image (re-export or re-download it)';

function parse(bytes: Uint8Array, path: string): { ds: DataSet; rawDataset: boolean } {
  const inflater = (arr: Uint8Array, position: number): Uint8Array => {
    const inflated = inflateRawSync(arr.subarray(position));
    const full = new Uint8Array(position + inflated.length);
    full.set(arr.subarray(0, position));
    full.set(inflated, position);
    return full;
  };
  const hasPreamble = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM';
  // Without the Part 10 preamble, accept only a raw implicit-VR dataset that starts with a group 0008 tag.
  const rawDataset = !hasPreamble && bytes.length >= 8 && bytes[0] === 0x08 && bytes[1] === 0x00;
  if (!hasPreamble && !rawDataset) {
    throw invalidMedicalData(path, "not a DICOM file: no 'DICM' marker at byte 128 and not a raw DICOM dataset", 'pass a DICOM Part 10 file (.dcm); convert other formats before importing');
  }
  try {
    const ds = dicomParser.parseDicom(bytes, rawDataset ? { TransferSyntaxUID: IMPLICIT_LE } : { inflater });
    return { ds, rawDataset };
  } catch (err) {
    const reason = thrownText(err);
    const truncated = /past end|overrun|overread|unexpected end|cannot be greater/i.test(reason);
    throw invalidMedicalData(
      path,
      truncated ? `DICOM file is truncated or corrupt: the parser ran past the end of the data (${reason})` : `DICOM file could not be parsed (${reason})`,
      REEXPORT_FIX,
      err,
    );
  }
}

function numberAt(ds: DataSet, tag: string, index = 0): number | undefined {
  const v = ds.floatString(tag, index);
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

function requirePositive(ds: DataSet, tag: string, name: string, path: string): number {
  const v = ds.uint16(tag);
  if (!v) throw invalidMedicalData(path, `DICOM attribute ${name} (${tag.slice(1, 5)},${tag.slice(5)}) is missing or 0`, REEXPORT_FIX);
  return v;
}

/** The compressed bytes of each frame of encapsulated pixel data (offset table, else one fragment per frame, else all fragments for one frame). */
function encapsulatedFrames(ds: DataSet, pixel: dicomParser.Element, frames: number, path: string): Uint8Array[] {
  const fragments = pixel.fragments ?? [];
  const range = Array.from({ length: frames }, (_, f) => f);
  try {
    if (pixel.basicOffsetTable?.length) return range.map((f) => dicomParser.readEncapsulatedImageFrame(ds, pixel, f));
    if (frames === 1) return [dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, 0, fragments.length)];
    if (fragments.length === frames) return range.map((f) => dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, f, 1));
  } catch (err) {
    throw invalidMedicalData(path, `encapsulated pixel data could not be read (${thrownText(err)})`, REEXPORT_FIX, err);
  }
  throw unsupportedMedicalData(path, `${frames} frames in ${fragments.length} fragments without a basic offset table: the frame boundaries are unknown`, DECOMPRESS_FIX);
}

/**
 * Decodes a DICOM file into 8-bit slices (one per frame), rescaled, windowed and with MONOCHROME1
 * inverted: uncompressed syntaxes, and RLE, JPEG Baseline, JPEG-LS and JPEG 2000 (the last two once
 * {@link loadDicomCodecs} has run; `decodeMedical`'s callers in this package do that).
 */
export function decodeDicom(bytes: Uint8Array, path: string, options: DicomDecodeOptions = {}): DicomDecodeResult {
  const { ds, rawDataset } = parse(bytes, path);
  const transferSyntax = rawDataset ? IMPLICIT_LE : (ds.string('x00020010') ?? '').replace(/\0/g, '').trim();
  const syntax = DICOM_TRANSFER_SYNTAXES[transferSyntax];
  if (!syntax) {
    throw unsupportedMedicalData(path, `unknown DICOM transfer syntax '${transferSyntax}'`, DECOMPRESS_FIX, { transferSyntax });
  }
  const compressed = !syntax.supported;
  if (compressed && !canDecode(transferSyntax)) {
    throw unsupportedMedicalData(path, `compressed DICOM transfer syntax ${transferSyntax} (${syntax.name}) is not decoded`, DECOMPRESS_FIX, {
      transferSyntax,
    });
  }
  const pixel = ds.elements.x7fe00010;
  if (!pixel) {
    const alt = ds.elements.x7fe00008 ? 'float' : ds.elements.x7fe00009 ? 'double float' : undefined;
    if (alt) throw unsupportedMedicalData(path, `${alt} pixel data is not decoded`, 'convert it to integer pixel data (e.g. with GDCM or DCMTK) and import again');
    throw invalidMedicalData(path, 'DICOM file has no pixel data (7FE0,0010); it is not an image object', 'import image objects only (CT, MR, CR, US, ... instances), not reports or presentation states');
  }
  if (compressed && !pixel.encapsulatedPixelData) {
    throw invalidMedicalData(path, `the transfer syntax is ${syntax.name} but the pixel data is not encapsulated`, REEXPORT_FIX);
  }
  if (!compressed && pixel.encapsulatedPixelData) {
    throw unsupportedMedicalData(path, `pixel data is encapsulated (compressed) although the transfer syntax is ${syntax.name}`, DECOMPRESS_FIX, { transferSyntax });
  }
  const rows = requirePositive(ds, 'x00280010', 'Rows', path);
  const cols = requirePositive(ds, 'x00280011', 'Columns', path);
  const bitsAllocated = requirePositive(ds, 'x00280100', 'BitsAllocated', path);
  const bitsStored = ds.uint16('x00280101') || bitsAllocated;
  const highBit = ds.uint16('x00280102') ?? bitsStored - 1;
  const pixelRepresentation = ds.uint16('x00280103') === 1 ? 1 : 0;
  const samplesPerPixel = ds.uint16('x00280002') || 1;
  const photometric = (ds.string('x00280004') ?? 'MONOCHROME2').trim().toUpperCase();
  const declaredFrames = ds.intString('x00280008');
  const frames = declaredFrames !== undefined && Number.isFinite(declaredFrames) && declaredFrames > 1 ? declaredFrames : 1;
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw unsupportedMedicalData(path, `BitsAllocated ${bitsAllocated} is not decoded (only 8, 16 and 32)`, 'convert the image to 8- or 16-bit pixels (e.g. with GDCM or DCMTK) and import again');
  }
  if (bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored) {
    throw invalidMedicalData(path, `inconsistent pixel bits: BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit}`, REEXPORT_FIX);
  }
  const monochrome = photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
  // JPEG and JPEG 2000 decoders return RGB whatever YBR colour space the stream was coded in.
  const ybrDecoded = compressed && DECODED_SYNTAXES[transferSyntax]!.colourDecoded && /^YBR_(FULL|FULL_422|RCT|ICT)$/.test(photometric);
  const rgb = (photometric === 'RGB' || ybrDecoded) && samplesPerPixel === 3 && bitsAllocated === 8;
  if (!(monochrome && samplesPerPixel === 1) && !rgb) {
    throw unsupportedMedicalData(
      path,
      `photometric interpretation ${photometric} with ${samplesPerPixel} sample(s) of ${bitsAllocated} bits is not decoded (only MONOCHROME1/2 and 8-bit RGB)`,
      'convert it to MONOCHROME2 or RGB with a DICOM toolkit (GDCM, DCMTK) and import again',
    );
  }
  const littleEndian = syntax.littleEndian;
  const frameSamples = rows * cols * samplesPerPixel;
  const needed = (frameSamples * frames * bitsAllocated) / 8;
  if (compressed) {
    // Decode every frame to little-endian stored values, then read them as native pixel data.
    const info: FrameInfo = { rows, cols, samplesPerPixel, bitsAllocated, signed: pixelRepresentation === 1 };
    const decoded = new Uint8Array(needed);
    encapsulatedFrames(ds, pixel, frames, path).forEach((bytes, f) => decoded.set(decodeFrame(transferSyntax, bytes, info, path), (f * needed) / frames));
    const read = storedValueReader(decoded, 0, needed, { bitsAllocated, bitsStored, highBit, signed: pixelRepresentation === 1, littleEndian: true, swapBytePairs: false });
    return finishDecode(ds, read, { rows, cols, frames, transferSyntax, syntaxName: syntax.name, littleEndian: true, bitsAllocated, bitsStored, pixelRepresentation, photometric, samplesPerPixel, rgb, planar: false }, options);
  }
  const data = ds.byteArray as Uint8Array;
  const available = data.length - pixel.dataOffset;
  if (available < needed) {
    throw invalidMedicalData(
      path,
      `DICOM file is truncated: ${frames} frame(s) of ${rows}x${cols}x${samplesPerPixel} at ${bitsAllocated} bits need ${needed} bytes of pixel data but only ${Math.max(0, available)} remain`,
      REEXPORT_FIX,
    );
  }
  if (pixel.length < needed) {
    throw invalidMedicalData(path, `pixel data element holds ${pixel.length} bytes but ${frames} frame(s) of ${rows}x${cols}x${samplesPerPixel} at ${bitsAllocated} bits need ${needed}`, REEXPORT_FIX);
  }
  const read = storedValueReader(data, pixel.dataOffset, needed, {
    bitsAllocated,
    bitsStored,
    highBit,
    signed: pixelRepresentation === 1,
    littleEndian,
    swapBytePairs: !littleEndian && bitsAllocated === 8 && pixel.vr === 'OW',
  });
  return finishDecode(ds, read, { rows, cols, frames, transferSyntax, syntaxName: syntax.name, littleEndian, bitsAllocated, bitsStored, pixelRepresentation, photometric, samplesPerPixel, rgb, planar: ds.uint16('x00280006') === 1 }, options);
}

interface PixelLayout {
  rows: number;
  cols: number;
  frames: number;
  transferSyntax: string;
  syntaxName: string;
  littleEndian: boolean;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  photometric: string;
  samplesPerPixel: number;
  rgb: boolean;
  planar: boolean;
}

/** Rescale, window and slice the stored values `read` gives (native or decoded), with the file's metadata. */
function finishDecode(ds: DataSet, read: (i: number) => number, l: PixelLayout, options: DicomDecodeOptions): DicomDecodeResult {
  const { rows, cols, frames, transferSyntax, littleEndian, bitsAllocated, bitsStored, pixelRepresentation, photometric, samplesPerPixel, rgb } = l;
  const frameSamples = rows * cols * samplesPerPixel;
  const rawSlope = numberAt(ds, 'x00281053');
  const rescaleSlope = rawSlope === undefined || rawSlope === 0 ? 1 : rawSlope;
  const rescaleIntercept = numberAt(ds, 'x00281052') ?? 0;
  const windowCenter = numberAt(ds, 'x00281050');
  const windowWidth = numberAt(ds, 'x00281051');
  const padding16 = ds.elements.x00280120 ? ds.uint16('x00280120') : undefined;
  const pixelPaddingValue = padding16 === undefined ? undefined : asPixelValue(padding16, pixelRepresentation === 1);
  const spacing = [numberAt(ds, 'x00280030', 0), numberAt(ds, 'x00280030', 1)];
  const meta: DicomMeta = {
    rows,
    cols,
    frames,
    modality: ds.string('x00080060')?.trim() || undefined,
    windowCenter,
    windowWidth,
    rescaleSlope,
    rescaleIntercept,
    transferSyntax,
    transferSyntaxName: l.syntaxName,
    littleEndian,
    bitsAllocated,
    bitsStored,
    pixelRepresentation,
    photometricInterpretation: photometric,
    samplesPerPixel,
    pixelSpacing: spacing[0] !== undefined && spacing[1] !== undefined ? [spacing[0], spacing[1]] : undefined,
    sopClassUid: ds.string('x00080016')?.replace(/\0/g, '').trim() || undefined,
    seriesInstanceUid: ds.string('x0020000e')?.replace(/\0/g, '').trim() || undefined,
    patientId: ds.string('x00100020')?.replace(/\0/g, '').trim() || undefined,
    pixelPaddingValue,
  };
  const slices = rgb ? rgbFrames(read, rows, cols, frames, l.planar) : [];
  if (!rgb) {
    const isPadding = pixelPaddingValue === undefined ? undefined : (i: number) => read(i) === pixelPaddingValue;
    const value = (i: number): number => read(i) * rescaleSlope + rescaleIntercept;
    const scan = scanValues(frameSamples * frames, value, isPadding);
    const fileWindow: WindowSpec | undefined = windowCenter !== undefined && windowWidth !== undefined ? { center: windowCenter, width: windowWidth } : undefined;
    const window = resolveWindow(options, fileWindow, () => scan.sample);
    meta.valueRange = scan.min <= scan.max ? { min: scan.min, max: scan.max } : undefined;
    meta.appliedWindow = window;
    const values = new Float32Array(frameSamples);
    for (let f = 0; f < frames; f++) {
      const base = f * frameSamples;
      for (let i = 0; i < frameSamples; i++) values[i] = value(base + i);
      const out = applyWindow(values, window.center, window.width, { invert: photometric === 'MONOCHROME1' });
      if (isPadding) for (let i = 0; i < frameSamples; i++) if (isPadding(base + i)) out[i] = 0;
      slices.push({ width: cols, height: rows, channels: 1, data: out });
    }
  }
  return { slices, meta };
}

function rgbFrames(read: (i: number) => number, rows: number, cols: number, frames: number, planar: boolean): RawImage[] {
  const n = rows * cols;
  const out: RawImage[] = [];
  for (let f = 0; f < frames; f++) {
    const data = new Uint8Array(n * 3);
    const base = f * n * 3;
    for (let p = 0; p < n; p++) {
      for (let c = 0; c < 3; c++) data[p * 3 + c] = read(base + (planar ? c * n + p : p * 3 + c));
    }
    out.push({ width: cols, height: rows, channels: 3, data });
  }
  return out;
}
