/**
 * Medical image decoding for the importers: DICOM and NIfTI to windowed 8-bit slices,
 * windowing helpers, segmentation-mask statistics, and a bulk decoder that skips bad files.
 */
export { decodeDicom, DICOM_TRANSFER_SYNTAXES } from './dicom.js';
export { DECODED_SYNTAXES, decodeRle, loadDicomCodecs } from './dicom-codecs.js';
export { decodeNifti } from './nifti.js';
export { applyWindow, percentileWindow } from './window.js';
export { analyzeMask, resizeNearest } from './mask.js';
export { decodeMany, decodeMedical, detectMedicalFormat, type DecodedMedical } from './bulk.js';
export type * from './types.js';
