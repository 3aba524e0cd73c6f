import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ErrorCode, isMedadError, SeededRng } from '@medad/core';
import { decodeNifti } from './nifti.js';
import { writeNifti, type SyntheticNifti } from './testing/nifti-writer.js';
import { realFixture, tempDir } from './testing/fixtures.js';

const NII = realFixture('anatomical.nii');

/** Header fields read straight from the bytes (big-endian, as the fixture is), independently of nifti-reader-js. */
function readBigEndianHeader(bytes: Uint8Array): { sizeofHdr: number; dims: number[]; datatype: number; voxOffset: number; magic: string } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 348);
  return {
    sizeofHdr: v.getInt32(0, false),
    dims: Array.from({ length: 8 }, (_, i) => v.getInt16(40 + 2 * i, false)),
    datatype: v.getInt16(70, false),
    voxOffset: v.getFloat32(108, false),
    magic: String.fromCharCode(...bytes.subarray(344, 347)),
  };
}

describe('decodeNifti on the real big-endian volume', () => {
  const bytes = new Uint8Array(readFileSync(NII));
  const hdr = readBigEndianHeader(bytes);
  const [nx, ny, nz] = [hdr.dims[1]!, hdr.dims[2]!, hdr.dims[3]!];

  it('is the big-endian int16 33x41x25 volume the test expects', () => {
    assert.deepEqual([hdr.sizeofHdr, hdr.magic, hdr.datatype, hdr.dims.slice(0, 4)], [348, 'n+1', 4, [3, 33, 41, 25]]);
  });

  it('decodes with the header dims along each axis', () => {
    const axial = decodeNifti(bytes, NII, { axis: 'axial' });
    assert.deepEqual(axial.meta.dims, [nx, ny, nz]);
    assert.equal(axial.meta.littleEndian, false);
    assert.equal(axial.meta.datatype, 'int16');
    assert.equal(axial.meta.orientation.voxelAxesToWorld, 'LAS');
    assert.deepEqual([axial.slices.length, axial.slices[0]!.width, axial.slices[0]!.height], [nz, nx, ny]);
    const coronal = decodeNifti(bytes, NII, { axis: 'coronal', slices: 'middle' });
    assert.deepEqual([coronal.meta.sliceCount, coronal.slices[0]!.width, coronal.slices[0]!.height], [ny, nx, nz]);
    const sagittal = decodeNifti(bytes, NII, { axis: 'sagittal', slices: [0, 32] });
    assert.deepEqual([sagittal.meta.sliceCount, sagittal.slices.length, sagittal.slices[0]!.width, sagittal.slices[0]!.height], [nx, 2, ny, nz]);
  });

  it('windows the middle axial slice as computed independently from the raw big-endian voxels', () => {
    const { slices, meta } = decodeNifti(bytes, NII, { slices: 'middle' });
    const view = new DataView(bytes.buffer, bytes.byteOffset + hdr.voxOffset, nx * ny * nz * 2);
    const voxel = (i: number, j: number, k: number): number => view.getInt16(2 * (i + nx * (j + ny * k)), false);
    const all = Array.from({ length: nx * ny * nz }, (_, n) => view.getInt16(2 * n, false)).sort((a, b) => a - b);
    const pct = (p: number): number => {
      const r = (p / 100) * (all.length - 1);
      const i = Math.floor(r);
      return all[i]! + (r - i) * (all[i + 1]! - all[i]!);
    };
    const [low, high] = [pct(1), pct(99)];
    assert.deepEqual(meta.sliceIndices, [12]);
    assert.deepEqual(meta.valueRange, { min: all[0], max: all[all.length - 1] });
    assert.ok(Math.abs(meta.appliedWindow!.center - (low + high) / 2) < 1e-9 && Math.abs(meta.appliedWindow!.width - (high - low)) < 1e-9);
    // LAS volume, radiological display: column runs toward the patient's left (= i), row 0 is the most anterior j.
    const expected: number[] = [];
    for (let r = 0; r < ny; r++) {
      for (let c = 0; c < nx; c++) expected.push(Math.min(255, Math.max(0, Math.round(((voxel(c, ny - 1 - r, 12) - low) * 255) / (high - low)))));
    }
    assert.deepEqual([...slices[0]!.data], expected);
    assert.ok(new Set(slices[0]!.data).size > 20, 'middle slice is not constant');
  });

  it('decodes a gzipped copy to the same slices', () => {
    const plain = decodeNifti(bytes, NII, { slices: 'middle' });
    const gz = decodeNifti(new Uint8Array(gzipSync(bytes)), 'anatomical.nii.gz', { slices: 'middle' });
    assert.equal(gz.meta.compressed, true);
    assert.deepEqual(gz.slices, plain.slices);
  });
});

describe('decodeNifti on bad files', () => {
  const dir = tempDir('nifti');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = readFileSync(NII);

  it('reports truncated copies (plain and gzipped) with their path', () => {
    const gz = gzipSync(bytes);
    const cases: [string, Uint8Array][] = [
      ['short.nii', bytes.subarray(0, 200)],
      ['header-only.nii', bytes.subarray(0, 352)],
      ['half.nii', bytes.subarray(0, 34000)],
      ['half.nii.gz', gz.subarray(0, Math.floor(gz.length / 2))],
    ];
    for (const [name, data] of cases) {
      const path = join(dir, name);
      writeFileSync(path, data);
      assert.throws(
        () => decodeNifti(new Uint8Array(readFileSync(path)), path),
        (e) => isMedadError(e, ErrorCode.InvalidData) && e.message.startsWith(`${path}: `) && /truncat|shorter/.test(e.message),
        name,
      );
    }
  });

  it('reports random bytes as not NIfTI, naming the path', () => {
    const rng = new SeededRng(11);
    const path = join(dir, 'random.nii');
    writeFileSync(path, Uint8Array.from({ length: 2048 }, () => rng.int(256)));
    assert.throws(() => decodeNifti(new Uint8Array(readFileSync(path)), path), (e) => isMedadError(e, ErrorCode.InvalidData) && e.message.startsWith(`${path}: not a NIfTI file`));
  });

  it('rejects complex data as UNSUPPORTED and an out-of-range slice as BAD_USER_INPUT', () => {
    const complex = writeNifti({ dims: [2, 2, 1], datatype: 'complex64', littleEndian: true, voxels: new Array(8).fill(1) });
    assert.throws(() => decodeNifti(complex, 'c.nii'), (e) => isMedadError(e, ErrorCode.Unsupported) && /complex64/.test(e.message));
    assert.throws(() => decodeNifti(bytes, NII, { slices: [25] }), (e) => isMedadError(e, ErrorCode.BadUserInput) && /0-24/.test(e.message));
  });
});

describe('decodeNifti on synthetic volumes', () => {
  const dims: [number, number, number] = [4, 3, 2];
  const ramp = Array.from({ length: 24 }, (_, n) => (n * 37) % 101 - 30);
  const volume = (datatype: SyntheticNifti['datatype'], littleEndian: boolean): Uint8Array => writeNifti({ dims, datatype, littleEndian, voxels: ramp });

  it('gives identical slices for both byte orders and for int16/int32/float32/float64', () => {
    const reference = decodeNifti(volume('int16', true), 'le.nii');
    assert.equal(reference.meta.littleEndian, true);
    for (const [type, le] of [['int16', false], ['int32', false], ['float32', true], ['float64', false]] as const) {
      const other = decodeNifti(volume(type, le), `${type}.nii`);
      assert.equal(other.meta.littleEndian, le);
      assert.deepEqual(other.slices, reference.slices, `${type} ${le ? 'LE' : 'BE'}`);
    }
  });

  it('applies scl_slope/scl_inter and uses cal_min/cal_max as the file window', () => {
    const scaled = decodeNifti(writeNifti({ dims, datatype: 'uint8', littleEndian: true, voxels: ramp.map((v) => v + 30), sclSlope: 2, sclInter: -10 }), 's.nii');
    // Stored uint8 = ramp + 30 (0..97 for this ramp); scaled = 2 * stored - 10.
    assert.deepEqual(scaled.meta.valueRange, { min: 2 * Math.min(...ramp) + 50, max: 2 * Math.max(...ramp) + 50 });
    assert.deepEqual(scaled.meta.valueRange, { min: -10, max: 184 });
    const cal = decodeNifti(writeNifti({ dims, datatype: 'int16', littleEndian: true, voxels: ramp, calMin: 0, calMax: 50 }), 'cal.nii');
    assert.deepEqual(cal.meta.appliedWindow, { center: 25, width: 50, source: 'file' });
  });

  it('orients slices radiologically (assumed RAS without a transform, the sform otherwise)', () => {
    const marked = new Array(24).fill(0);
    marked[3 + 4 * 2 + 12 * 1] = 200; // i=3 (right), j=2 (anterior), k=1 (superior)
    marked[0] = 100; // i=0 (left), j=0 (posterior), k=0 (inferior)
    const opts = { percentiles: [0, 100] as [number, number] };
    const ras = writeNifti({ dims, datatype: 'int16', littleEndian: true, voxels: marked });
    const axial = decodeNifti(ras, 'ras.nii', opts);
    assert.equal(axial.meta.orientation.source, 'assumed-ras');
    assert.equal(axial.slices[1]!.data[0], 255, 'right-anterior voxel at the top-left of the upper slice');
    assert.equal(axial.slices[0]!.data[2 * 4 + 3], 128, 'left-posterior voxel at the bottom-right of the lower slice');
    const coronal = decodeNifti(ras, 'ras.nii', { ...opts, axis: 'coronal' });
    assert.deepEqual([coronal.slices.length, coronal.slices[2]!.width, coronal.slices[2]!.height, coronal.slices[2]!.data[0]], [3, 4, 2, 255]);
    const sagittal = decodeNifti(ras, 'ras.nii', { ...opts, axis: 'sagittal', slices: [3] });
    assert.deepEqual([sagittal.slices[0]!.width, sagittal.slices[0]!.height, sagittal.slices[0]!.data[0]], [3, 2, 255]);
    const las = writeNifti({ dims, datatype: 'int16', littleEndian: true, voxels: marked, sform: [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] });
    const lasAxial = decodeNifti(las, 'las.nii', opts);
    assert.equal(lasAxial.meta.orientation.voxelAxesToWorld, 'LAS');
    assert.equal(lasAxial.slices[0]!.data[2 * 4 + 0], 128, 'i=0 is now the patient right: image left');
    const permuted = writeNifti({ dims, datatype: 'int16', littleEndian: true, voxels: marked, sform: [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]] });
    const p = decodeNifti(permuted, 'perm.nii', opts);
    assert.deepEqual([p.meta.orientation.voxelAxesToWorld, p.meta.sliceCount, p.slices[0]!.width, p.slices[0]!.height], ['SRA', 4, 3, 2]);
  });

  it('selects a volume of a 4-D series', () => {
    const series = writeNifti({ dims: [2, 2, 1, 2], datatype: 'uint8', littleEndian: false, voxels: [0, 1, 2, 3, 9, 9, 9, 0] });
    const second = decodeNifti(series, '4d.nii', { volume: 1, percentiles: [0, 100] });
    assert.equal(second.meta.volumes, 2);
    // Volume 1 is [9, 9, 9, 0] in voxel order; displayed with j flipped and i mirrored.
    assert.deepEqual([...second.slices[0]!.data], [0, 255, 255, 255]);
  });
});
