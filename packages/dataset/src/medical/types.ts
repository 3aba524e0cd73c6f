import type { BBox, RawImage } from '@medad/core';

/** A display window on the (rescaled) intensity scale: values in [center - width/2, center + width/2] map to 0-255. */
export interface WindowSpec {
  center: number;
  width: number;
}

/** Where the window that produced the 8-bit slices came from. */
export type WindowSource = 'explicit' | 'file' | 'percentile';

/** The window actually applied, with its origin (and the percentiles used, when it came from them). */
export interface AppliedWindow extends WindowSpec {
  source: WindowSource;
  percentiles?: [number, number];
}

/** A percentile window: the window plus the low/high values it spans. */
export interface PercentileWindow extends WindowSpec {
  low: number;
  high: number;
}

/** How to turn stored intensities into 8-bit pixels; first match wins: `window`, the file's own window, percentiles. */
export interface WindowOptions {
  /** An explicit window (e.g. `{ center: 40, width: 400 }` for a CT soft-tissue window). */
  window?: WindowSpec;
  /** Ignore the window stored in the file (DICOM window centre/width, NIfTI cal_min/cal_max). */
  ignoreFileWindow?: boolean;
  /** Low and high percentiles (0-100) for the automatic window; default [1, 99]. */
  percentiles?: [number, number];
}

/** Options for {@link decodeDicom}. */
export type DicomDecodeOptions = WindowOptions;

/** What a DICOM file says about its pixels, plus how they were decoded. */
export interface DicomMeta {
  rows: number;
  cols: number;
  frames: number;
  modality?: string;
  /** The first window centre stored in the file, if any. */
  windowCenter?: number;
  /** The first window width stored in the file, if any. */
  windowWidth?: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Transfer syntax UID, e.g. `1.2.840.10008.1.2.1`. */
  transferSyntax: string;
  /** Human name of the transfer syntax, e.g. "Explicit VR Little Endian". */
  transferSyntaxName: string;
  littleEndian: boolean;
  bitsAllocated: number;
  bitsStored: number;
  /** 0 = unsigned, 1 = two's complement. */
  pixelRepresentation: 0 | 1;
  photometricInterpretation: string;
  samplesPerPixel: number;
  /** Row and column spacing in mm, when present. */
  pixelSpacing?: [number, number];
  sopClassUid?: string;
  /** SeriesInstanceUID (0020,000E): slices of one series share a split on import. */
  seriesInstanceUid?: string;
  /** PatientID (0010,0020): all series of one patient share a split on import. */
  patientId?: string;
  /** Stored value marking padding (excluded from percentiles, rendered black), when present. */
  pixelPaddingValue?: number;
  /** Min and max after rescale, over all frames (padding excluded; undefined for colour images). */
  valueRange?: { min: number; max: number };
  /** The window applied (undefined for colour images, which are not windowed). */
  appliedWindow?: AppliedWindow;
}

/** A decoded DICOM file: one 8-bit image per frame (grayscale; RGB files keep 3 channels). */
export interface DicomDecodeResult {
  slices: RawImage[];
  meta: DicomMeta;
}

/** The anatomical plane a NIfTI volume is cut along. */
export type NiftiAxis = 'axial' | 'coronal' | 'sagittal';

/** Which slices to cut: all, the middle one, or explicit indices in display order (0 = inferior / posterior / left). */
export type NiftiSliceSelection = 'all' | 'middle' | number[];

/** Options for {@link decodeNifti}. */
export interface NiftiDecodeOptions extends WindowOptions {
  /** Plane to slice along; default 'axial'. */
  axis?: NiftiAxis;
  /** Slices to return; default 'all'. */
  slices?: NiftiSliceSelection;
  /** Volume (4th-dimension index) of a 4-D series; default 0. */
  volume?: number;
}

/** What a NIfTI header says about the volume, plus how it was sliced. */
export interface NiftiMeta {
  /** NIfTI-1 or NIfTI-2. */
  version: 1 | 2;
  /** Voxel grid size along i, j, k. */
  dims: [number, number, number];
  /** Number of volumes (4th dimension; 1 for a 3-D file). */
  volumes: number;
  /** Voxel size in file units along i, j, k. */
  pixDims: [number, number, number];
  datatype: string;
  datatypeCode: number;
  bitsPerVoxel: number;
  littleEndian: boolean;
  compressed: boolean;
  /** Effective scale (1 when the header's scl_slope is 0, which means "no scaling"). */
  sclSlope: number;
  sclInter: number;
  /** Display range from the header (cal_min/cal_max) when cal_max > cal_min. */
  calRange?: { min: number; max: number };
  axis: NiftiAxis;
  /** Slice indices returned, in display order along `axis`. */
  sliceIndices: number[];
  /** Total slices available along `axis`. */
  sliceCount: number;
  /** Voxel-to-display orientation: from the sform/qform affine, or assumed RAS when the header has none. */
  orientation: { source: 'sform' | 'qform' | 'assumed-ras'; voxelAxesToWorld: string };
  /** Min and max after scaling over the sampled voxels (undefined for RGB volumes). */
  valueRange?: { min: number; max: number };
  appliedWindow?: AppliedWindow;
}

/** A decoded NIfTI volume: 8-bit slices (grayscale; RGB24 volumes keep 3 channels). */
export interface NiftiDecodeResult {
  slices: RawImage[];
  meta: NiftiMeta;
}

/** Foreground statistics of a segmentation mask; `bbox`/`centroid` are null when nothing is present. */
export interface MaskAnalysis {
  /** Foreground pixel count. */
  area: number;
  /** Foreground fraction of the image, 0-1. */
  areaFraction: number;
  /** Tight box around the foreground (inclusive pixels), or null. */
  bbox: BBox | null;
  /** Mean foreground position in continuous image coordinates (pixel (x, y) has its centre at (x+0.5, y+0.5)), or null; pass it to `regionOfPoint`. */
  centroid: { x: number; y: number } | null;
  present: boolean;
}

/** One file {@link decodeMany} could not decode: its path, the reason and the error code. */
export interface SkippedFile {
  path: string;
  reason: string;
  code: string;
}

/** Result of {@link decodeMany}: decoded files in input order and skipped files with reasons. */
export interface DecodeManyResult<T> {
  ok: { path: string; value: T }[];
  skipped: SkippedFile[];
}

/** A medical file format this module decodes. */
export type MedicalFormat = 'dicom' | 'nifti';
