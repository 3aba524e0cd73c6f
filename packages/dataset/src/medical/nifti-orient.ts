import type { NiftiAxis } from './types.js';

/** How each voxel axis (i, j, k) maps onto a world axis (0 = x/R, 1 = y/A, 2 = z/S) and in which direction. */
export interface VoxelOrientation {
  source: 'sform' | 'qform' | 'assumed-ras';
  /** World axis of voxel axes i, j, k. */
  world: [number, number, number];
  /** +1 when the voxel index increases toward R / A / S, -1 toward L / P / I. */
  sign: [number, number, number];
}

const CODES = [
  ['L', 'R'],
  ['P', 'A'],
  ['I', 'S'],
] as const;

/** The orientation code of the voxel axes, e.g. "LAS" when i runs toward the patient's left. */
export function orientationCode(o: VoxelOrientation): string {
  return o.world.map((w, d) => CODES[w]![o.sign[d]! > 0 ? 1 : 0]).join('');
}

/** Dominant world axis and sign per voxel axis of a 3x3 (+offset) affine; null when they do not form a permutation. */
export function orientationFromAffine(affine: number[][], source: 'sform' | 'qform'): VoxelOrientation | null {
  const world: number[] = [];
  const sign: number[] = [];
  for (let d = 0; d < 3; d++) {
    let best = -1;
    let bestAbs = 0;
    for (let w = 0; w < 3; w++) {
      const v = affine[w]?.[d];
      if (v === undefined || !Number.isFinite(v)) return null;
      if (Math.abs(v) > bestAbs) {
        bestAbs = Math.abs(v);
        best = w;
      }
    }
    if (best < 0) return null;
    world.push(best);
    sign.push(Math.sign(affine[best]![d]!));
  }
  if (new Set(world).size !== 3) return null;
  return { source, world: world as [number, number, number], sign: sign as [number, number, number] };
}

/** Voxel axes taken as R, A, S, the NIfTI default when the header has no usable transform. */
export const ASSUMED_RAS: VoxelOrientation = { source: 'assumed-ras', world: [0, 1, 2], sign: [1, 1, 1] };

// Radiological display: patient's right on the image's left; anterior up (axial), superior up (coronal, sagittal);
// sagittal slices show anterior on the left. `dir` is the world direction the column/row index runs toward.
const VIEWS: Record<NiftiAxis, { slice: number; col: number; colDir: number; row: number; rowDir: number }> = {
  axial: { slice: 2, col: 0, colDir: -1, row: 1, rowDir: -1 },
  coronal: { slice: 1, col: 0, colDir: -1, row: 2, rowDir: -1 },
  sagittal: { slice: 0, col: 1, colDir: -1, row: 2, rowDir: -1 },
};

/** Where the pixels of a display slice live in the voxel array: linear index = sliceOffset(s) + rowOffset[r] + colOffset[c]. */
export interface SliceGeometry {
  width: number;
  height: number;
  count: number;
  colOffset: Int32Array;
  rowOffset: Int32Array;
  /** Linear offset of display slice `s` (0 = most inferior / posterior / left). */
  sliceOffset: (s: number) => number;
}

/** The slice geometry of a volume of `dims` voxels, cut along `axis`, displayed radiologically. */
export function sliceGeometry(dims: [number, number, number], o: VoxelOrientation, axis: NiftiAxis): SliceGeometry {
  const strides = [1, dims[0], dims[0] * dims[1]];
  const voxelAxisOf = (w: number): number => o.world.indexOf(w);
  const view = VIEWS[axis];
  const offsets = (w: number, dir: number): Int32Array => {
    const d = voxelAxisOf(w);
    const n = dims[d]!;
    const out = new Int32Array(n);
    for (let t = 0; t < n; t++) out[t] = (o.sign[d] === dir ? t : n - 1 - t) * strides[d]!;
    return out;
  };
  const colOffset = offsets(view.col, view.colDir);
  const rowOffset = offsets(view.row, view.rowDir);
  const sliceOffsets = offsets(view.slice, 1);
  return {
    width: colOffset.length,
    height: rowOffset.length,
    count: sliceOffsets.length,
    colOffset,
    rowOffset,
    sliceOffset: (s) => sliceOffsets[s]!,
  };
}
