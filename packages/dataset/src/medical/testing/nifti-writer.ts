/** What {@link writeNifti} puts into a synthetic single-file NIfTI-1 volume (test fixtures only). */
export interface SyntheticNifti {
  /** Voxel grid i, j, k and optionally the number of volumes. */
  dims: [number, number, number] | [number, number, number, number];
  datatype: 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'float32' | 'float64' | 'rgb24' | 'complex64';
  littleEndian: boolean;
  /** Stored voxel values, i fastest (for rgb24: 3 bytes per voxel). */
  voxels: ArrayLike<number>;
  sclSlope?: number;
  sclInter?: number;
  calMin?: number;
  calMax?: number;
  /** Rows of the sform (3x4); sform_code is 1 when given, 0 (no transform) otherwise. */
  sform?: number[][];
}

const TYPES = {
  uint8: { code: 2, bits: 8 },
  int8: { code: 256, bits: 8 },
  int16: { code: 4, bits: 16 },
  uint16: { code: 512, bits: 16 },
  int32: { code: 8, bits: 32 },
  float32: { code: 16, bits: 32 },
  float64: { code: 64, bits: 64 },
  rgb24: { code: 128, bits: 24 },
  complex64: { code: 32, bits: 64 },
} as const;

/** Encodes a synthetic NIfTI-1 `.nii` file (header, 4 empty extension bytes, voxels at offset 352). */
export function writeNifti(n: SyntheticNifti): Uint8Array {
  const type = TYPES[n.datatype];
  const le = n.littleEndian;
  const count = n.dims.reduce((a, b) => a * b, 1);
  const bytes = new Uint8Array(352 + Math.ceil((count * type.bits) / 8));
  const v = new DataView(bytes.buffer);
  v.setInt32(0, 348, le);
  v.setInt16(40, n.dims.length, le);
  n.dims.forEach((d, i) => v.setInt16(42 + 2 * i, d, le));
  for (let i = n.dims.length; i < 7; i++) v.setInt16(42 + 2 * i, 1, le);
  v.setInt16(70, type.code, le);
  v.setInt16(72, type.bits, le);
  for (let i = 0; i < 8; i++) v.setFloat32(76 + 4 * i, 1, le);
  v.setFloat32(108, 352, le);
  v.setFloat32(112, n.sclSlope ?? 1, le);
  v.setFloat32(116, n.sclInter ?? 0, le);
  v.setFloat32(124, n.calMax ?? 0, le);
  v.setFloat32(128, n.calMin ?? 0, le);
  if (n.sform) {
    v.setInt16(254, 1, le);
    n.sform.forEach((row, r) => row.forEach((x, c) => v.setFloat32(280 + 16 * r + 4 * c, x, le)));
  }
  bytes.set([0x6e, 0x2b, 0x31, 0x00], 344);
  const put: Record<string, (i: number, x: number) => void> = {
    uint8: (i, x) => v.setUint8(352 + i, x),
    int8: (i, x) => v.setInt8(352 + i, x),
    int16: (i, x) => v.setInt16(352 + 2 * i, x, le),
    uint16: (i, x) => v.setUint16(352 + 2 * i, x, le),
    int32: (i, x) => v.setInt32(352 + 4 * i, x, le),
    float32: (i, x) => v.setFloat32(352 + 4 * i, x, le),
    float64: (i, x) => v.setFloat64(352 + 8 * i, x, le),
    rgb24: (i, x) => v.setUint8(352 + i, x),
    complex64: (i, x) => v.setFloat32(352 + 4 * i, x, le),
  };
  for (let i = 0; i < n.voxels.length; i++) put[n.datatype]!(i, n.voxels[i]!);
  return bytes;
}
