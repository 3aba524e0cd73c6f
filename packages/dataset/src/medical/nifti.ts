import { ErrorCode, MedadError, type RawImage } from '@medad/core';
import * as nifti from 'nifti-reader-js';
import { invalidMedicalData, thrownText, unsupportedMedicalData } from './errors.js';
import { ASSUMED_RAS, orientationCode, orientationFromAffine, sliceGeometry, type VoxelOrientation } from './nifti-orient.js';
import type { NiftiAxis, NiftiDecodeOptions, NiftiDecodeResult, NiftiMeta, NiftiSliceSelection, WindowSpec } from './types.js';
import { applyWindow, resolveWindow, scanValues } from './window.js';

type Header = nifti.NIFTI1 | nifti.NIFTI2;
type VoxelReader = (view: DataView, offset: number, le: boolean) => number;

const DATATYPES: Record<number, { name: string; bits: number; read?: VoxelReader }> = {
  2: { name: 'uint8', bits: 8, read: (v, o) => v.getUint8(o) },
  256: { name: 'int8', bits: 8, read: (v, o) => v.getInt8(o) },
  4: { name: 'int16', bits: 16, read: (v, o, le) => v.getInt16(o, le) },
  512: { name: 'uint16', bits: 16, read: (v, o, le) => v.getUint16(o, le) },
  8: { name: 'int32', bits: 32, read: (v, o, le) => v.getInt32(o, le) },
  768: { name: 'uint32', bits: 32, read: (v, o, le) => v.getUint32(o, le) },
  1024: { name: 'int64', bits: 64, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  1280: { name: 'uint64', bits: 64, read: (v, o, le) => Number(v.getBigUint64(o, le)) },
  16: { name: 'float32', bits: 32, read: (v, o, le) => v.getFloat32(o, le) },
  64: { name: 'float64', bits: 64, read: (v, o, le) => v.getFloat64(o, le) },
  128: { name: 'rgb24', bits: 24 },
  2304: { name: 'rgba32', bits: 32 },
  1: { name: 'binary', bits: 1 },
  32: { name: 'complex64', bits: 64 },
  1536: { name: 'float128', bits: 128 },
  1792: { name: 'complex128', bits: 128 },
  2048: { name: 'complex256', bits: 256 },
};

const AXES: readonly NiftiAxis[] = ['axial', 'coronal', 'sagittal'];
const REEXPORT_FIX = 'check that the file is a complete .nii or .nii.gz volume (re-export or re-download it)';

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function readVolumeBytes(bytes: Uint8Array, path: string): { data: ArrayBuffer; compressed: boolean } {
  const raw = toArrayBuffer(bytes);
  if (!nifti.isCompressed(raw)) return { data: raw, compressed: false };
  try {
    return { data: nifti.decompress(raw) as ArrayBuffer, compressed: true };
  } catch (err) {
    throw invalidMedicalData(path, `gzip stream is truncated or corrupt (${thrownText(err)})`, REEXPORT_FIX, err);
  }
}

function readHeader(data: ArrayBuffer, path: string): Header {
  if (data.byteLength < 348) {
    throw invalidMedicalData(path, `not a NIfTI file: ${data.byteLength} bytes is shorter than a NIfTI-1 header (348)`, REEXPORT_FIX);
  }
  if (!nifti.isNIFTI(data, true)) {
    const view = new DataView(data);
    const analyze = view.getInt32(0, true) === 348 || view.getInt32(0, false) === 348;
    if (analyze) {
      throw unsupportedMedicalData(path, 'ANALYZE 7.5 header without the NIfTI magic is not decoded', 'convert it to NIfTI (e.g. with nibabel: nib.save(nib.load(f), "out.nii.gz")) and import again');
    }
    throw invalidMedicalData(path, "not a NIfTI file: no 'n+1'/'n+2' magic in the header", 'pass a .nii or .nii.gz volume');
  }
  let header: Header;
  try {
    header = nifti.readHeader(data, true);
  } catch (err) {
    throw invalidMedicalData(path, `NIfTI header could not be read (${thrownText(err)})`, REEXPORT_FIX, err);
  }
  if (('isHDR' in header && header.isHDR) || /^ni[12]/.test(header.magic)) {
    throw unsupportedMedicalData(path, 'this is the header of a .hdr/.img pair; the voxels are in a separate file', 'convert the pair to a single-file .nii/.nii.gz (e.g. with nibabel or `fslchfiletype NIFTI_GZ`) and import that');
  }
  return header;
}

function orientationOf(h: Header): VoxelOrientation {
  const isV1 = h instanceof nifti.NIFTI1;
  const source = isV1 && h.qform_code > 0 && h.sform_code < h.qform_code ? 'qform' : h.sform_code > 0 ? 'sform' : undefined;
  return (source && orientationFromAffine(h.affine, source)) || ASSUMED_RAS;
}

function selectSlices(selection: NiftiSliceSelection, count: number, path: string): number[] {
  if (selection === 'all') return Array.from({ length: count }, (_, i) => i);
  if (selection === 'middle') return [Math.floor(count / 2)];
  for (const s of selection) {
    if (!Number.isInteger(s) || s < 0 || s >= count) {
      throw new MedadError(ErrorCode.BadUserInput, `${path}: slice index ${s} is out of range (this axis has ${count} slices: 0-${count - 1})`, {
        fix: "pass slice indices between 0 and count-1, or 'middle' / 'all'",
      });
    }
  }
  return [...selection];
}

/** Decodes a NIfTI-1/2 volume (.nii or .nii.gz, either byte order) into 8-bit slices along an anatomical axis. */
export function decodeNifti(bytes: Uint8Array, path: string, options: NiftiDecodeOptions = {}): NiftiDecodeResult {
  const axis = options.axis ?? 'axial';
  if (!AXES.includes(axis)) {
    throw new MedadError(ErrorCode.BadUserInput, `${path}: axis '${String(axis)}' is not one of ${AXES.join(', ')}`, { fix: 'pass axis: "axial", "coronal" or "sagittal"' });
  }
  const { data, compressed } = readVolumeBytes(bytes, path);
  const h = readHeader(data, path);
  const type = DATATYPES[h.datatypeCode];
  if (!type) throw unsupportedMedicalData(path, `unknown NIfTI datatype code ${h.datatypeCode}`, 'convert the volume to int16 or float32 (e.g. with nibabel) and import again');
  const rgbBytes = h.datatypeCode === 128 ? 3 : h.datatypeCode === 2304 ? 4 : 0;
  if (!type.read && !rgbBytes) {
    throw unsupportedMedicalData(path, `NIfTI datatype ${type.name} is not decoded`, 'convert the volume to int16 or float32 (e.g. with nibabel) and import again');
  }
  if (h.numBitsPerVoxel !== type.bits) {
    throw invalidMedicalData(path, `header says bitpix ${h.numBitsPerVoxel} but datatype ${type.name} has ${type.bits} bits per voxel`, REEXPORT_FIX);
  }
  const ndim = h.dims[0]!;
  if (!(ndim >= 2 && ndim <= 7)) throw invalidMedicalData(path, `dim[0] = ${ndim}; a NIfTI image needs 2 to 7 dimensions`, REEXPORT_FIX);
  const dimAt = (i: number): number => (i <= ndim ? h.dims[i]! : 1);
  const dims: [number, number, number] = [dimAt(1), dimAt(2), dimAt(3)];
  let volumes = 1;
  for (let i = 4; i <= ndim; i++) volumes *= dimAt(i);
  if (![...dims, volumes].every((d) => Number.isInteger(d) && d > 0)) {
    throw invalidMedicalData(path, `invalid dimensions ${h.dims.slice(1, ndim + 1).join('x')} (each must be a positive integer)`, REEXPORT_FIX);
  }
  const volume = options.volume ?? 0;
  if (!Number.isInteger(volume) || volume < 0 || volume >= volumes) {
    throw new MedadError(ErrorCode.BadUserInput, `${path}: volume ${volume} is out of range (the series has ${volumes})`, { fix: `pass a volume index between 0 and ${volumes - 1}` });
  }
  const nvox = dims[0] * dims[1] * dims[2];
  const bytesPerVoxel = type.bits / 8;
  const needed = h.vox_offset + nvox * volumes * bytesPerVoxel;
  if (h.vox_offset < 0 || data.byteLength < needed) {
    throw invalidMedicalData(path, `NIfTI file is truncated: ${dims.join('x')}x${volumes} ${type.name} voxels at offset ${h.vox_offset} need ${needed} bytes but the file has ${data.byteLength}`, REEXPORT_FIX);
  }
  const view = new DataView(data, h.vox_offset + volume * nvox * bytesPerVoxel, nvox * bytesPerVoxel);
  const orientation = orientationOf(h);
  const geom = sliceGeometry(dims, orientation, axis);
  const sliceIndices = selectSlices(options.slices ?? 'all', geom.count, path);
  const scaled = Number.isFinite(h.scl_slope) && h.scl_slope !== 0;
  const meta: NiftiMeta = {
    version: h instanceof nifti.NIFTI2 ? 2 : 1,
    dims,
    volumes,
    pixDims: [h.pixDims[1]!, h.pixDims[2]!, h.pixDims[3] ?? 1],
    datatype: type.name,
    datatypeCode: h.datatypeCode,
    bitsPerVoxel: type.bits,
    littleEndian: h.littleEndian,
    compressed,
    sclSlope: scaled ? h.scl_slope : 1,
    sclInter: scaled && Number.isFinite(h.scl_inter) ? h.scl_inter : 0,
    calRange: h.cal_max > h.cal_min ? { min: h.cal_min, max: h.cal_max } : undefined,
    axis,
    sliceIndices,
    sliceCount: geom.count,
    orientation: { source: orientation.source, voxelAxesToWorld: orientationCode(orientation) },
  };
  const pixels = geom.width * geom.height;
  const slices: RawImage[] = [];
  if (rgbBytes) {
    for (const s of sliceIndices) {
      const out = new Uint8Array(pixels * 3);
      forEachPixel(geom, s, (p, voxel) => {
        for (let c = 0; c < 3; c++) out[p * 3 + c] = view.getUint8(voxel * rgbBytes + c);
      });
      slices.push({ width: geom.width, height: geom.height, channels: 3, data: out });
    }
    return { slices, meta };
  }
  const read = type.read!;
  const le = h.littleEndian;
  const { sclSlope, sclInter } = meta;
  const value = (voxel: number): number => read(view, voxel * bytesPerVoxel, le) * sclSlope + sclInter;
  const scan = scanValues(nvox, value);
  const fileWindow: WindowSpec | undefined = meta.calRange ? { center: (meta.calRange.min + meta.calRange.max) / 2, width: meta.calRange.max - meta.calRange.min } : undefined;
  const window = resolveWindow(options, fileWindow, () => scan.sample);
  meta.valueRange = scan.min <= scan.max ? { min: scan.min, max: scan.max } : undefined;
  meta.appliedWindow = window;
  const values = new Float32Array(pixels);
  for (const s of sliceIndices) {
    forEachPixel(geom, s, (p, voxel) => {
      values[p] = value(voxel);
    });
    slices.push({ width: geom.width, height: geom.height, channels: 1, data: applyWindow(values, window.center, window.width) });
  }
  return { slices, meta };
}

function forEachPixel(geom: ReturnType<typeof sliceGeometry>, s: number, fn: (pixel: number, voxel: number) => void): void {
  const base = geom.sliceOffset(s);
  for (let r = 0; r < geom.height; r++) {
    const rowBase = base + geom.rowOffset[r]!;
    for (let c = 0; c < geom.width; c++) fn(r * geom.width + c, rowBase + geom.colOffset[c]!);
  }
}
