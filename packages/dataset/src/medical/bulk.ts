import { readFile } from 'node:fs/promises';
import { ErrorCode, MedadError, errorMessage, isMedadError, type RawImage } from '@medad/core';
import { decodeDicom } from './dicom.js';
import { decodeNifti } from './nifti.js';
import type { DecodeManyResult, DicomMeta, MedicalFormat, NiftiDecodeOptions, NiftiMeta } from './types.js';

/** The format of a medical file from its magic bytes, falling back to its extension; null when neither says. */
export function detectMedicalFormat(bytes: Uint8Array, path: string): MedicalFormat | null {
  const ascii = (from: number, to: number): string => (bytes.length >= to ? String.fromCharCode(...bytes.subarray(from, to)) : '');
  if (ascii(128, 132) === 'DICM') return 'dicom';
  if (/^n\+[12]\0?/.test(ascii(344, 347)) || /^n\+2/.test(ascii(4, 7))) return 'nifti';
  const name = path.toLowerCase();
  if (/\.nii(\.gz)?$/.test(name)) return 'nifti';
  if (/\.(dcm|dicom|ima)$/.test(name)) return 'dicom';
  return null;
}

/** A decoded DICOM or NIfTI file, tagged with its format. */
export type DecodedMedical = { format: 'dicom'; slices: RawImage[]; meta: DicomMeta } | { format: 'nifti'; slices: RawImage[]; meta: NiftiMeta };

/** Decodes a DICOM or NIfTI file, chosen by {@link detectMedicalFormat}; NIfTI options apply to NIfTI only. */
export function decodeMedical(bytes: Uint8Array, path: string, options: NiftiDecodeOptions = {}): DecodedMedical {
  const format = detectMedicalFormat(bytes, path);
  if (format === 'dicom') {
    const { window, ignoreFileWindow, percentiles } = options;
    return { format, ...decodeDicom(bytes, path, { window, ignoreFileWindow, percentiles }) };
  }
  if (format === 'nifti') return { format, ...decodeNifti(bytes, path, options) };
  throw new MedadError(ErrorCode.InvalidData, `${path}: not a DICOM or NIfTI file (no DICM marker, no NIfTI magic, extension not .dcm/.nii/.nii.gz)`, {
    fix: 'pass DICOM (.dcm) or NIfTI (.nii, .nii.gz) files',
    details: { file: path },
  });
}

/** Reads and decodes each path in order; a file that cannot be read or decoded is reported in `skipped`, never thrown. */
export async function decodeMany<T>(
  paths: readonly string[],
  decoder: (bytes: Uint8Array, path: string) => T | Promise<T>,
): Promise<DecodeManyResult<T>> {
  const result: DecodeManyResult<T> = { ok: [], skipped: [] };
  for (const path of paths) {
    try {
      const bytes = new Uint8Array(await readFile(path));
      result.ok.push({ path, value: await decoder(bytes, path) });
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException)?.code;
      const code = isMedadError(err) ? err.code : errno === 'ENOENT' ? ErrorCode.NotFound : ErrorCode.Internal;
      const message = errorMessage(err);
      const reason = message.startsWith(`${path}: `) ? message : errno ? `${path}: cannot read the file (${message})` : `${path}: ${message}`;
      result.skipped.push({ path, code, reason });
    }
  }
  return result;
}
