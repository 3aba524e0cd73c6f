import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ErrorCode, isMedadError, SeededRng } from '@medad/core';
import jpeg from 'jpeg-js';
import { decodeFrame, loadDicomCodecs } from './dicom-codecs.js';
import { decodeDicom } from './dicom.js';
import { writeDicom, type SyntheticDicom } from './testing/dicom-writer.js';
import { realFixture, tempDir } from './testing/fixtures.js';

const RLE = '1.2.840.10008.1.2.5';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const JPEG_LS = '1.2.840.10008.1.2.4.80';
const J2K = '1.2.840.10008.1.2.4.90';
const HTJ2K = '1.2.840.10008.1.2.4.201';

/** PackBits, as RLE Lossless codes each byte plane (PS3.5 G.3.1): literal runs and replicate runs of at most 128. */
function packBits(plane: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < plane.length) {
    let run = 1;
    while (i + run < plane.length && run < 128 && plane[i + run] === plane[i]) run++;
    if (run >= 2) {
      out.push(257 - run, plane[i]!);
      i += run;
      continue;
    }
    const start = i;
    while (i < plane.length && i - start < 128 && !(i + 1 < plane.length && plane[i + 1] === plane[i])) i++;
    if (i === start) i++;
    out.push(i - start - 1, ...plane.subarray(start, i));
  }
  return Uint8Array.from(out);
}

/** An RLE Lossless frame written by the test: header of offsets, then one PackBits segment per byte plane (most significant first). */
function rleFrame(values: ArrayLike<number>, bytesPerSample: number, samplesPerPixel = 1): Uint8Array {
  const pixels = values.length / samplesPerPixel;
  const segments: Uint8Array[] = [];
  for (let s = 0; s < samplesPerPixel; s++)
    for (let b = bytesPerSample - 1; b >= 0; b--) {
      const plane = Uint8Array.from({ length: pixels }, (_, p) => (values[p * samplesPerPixel + s]! >> (8 * b)) & 0xff);
      const seg = packBits(plane);
      segments.push(seg.length % 2 ? Uint8Array.of(...seg, 0x80) : seg); // even length: a -128 no-op pads it
    }
  const header = new DataView(new ArrayBuffer(64));
  header.setUint32(0, segments.length, true);
  let at = 64;
  segments.forEach((seg, k) => {
    header.setUint32(4 + 4 * k, at, true);
    at += seg.length;
  });
  const out = new Uint8Array(at);
  out.set(new Uint8Array(header.buffer));
  let o = 64;
  for (const seg of segments) {
    out.set(seg, o);
    o += seg.length;
  }
  return out;
}

interface WasmEncoder {
  getDecodedBuffer(info: { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean; isUsingColorTransform: boolean }): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  setDecompositions?(n: number): void;
}

/** Lossless JPEG 2000 or JPEG-LS made with the codec packages' own encoders. */
const ENCODERS = {
  j2k: ['@cornerstonejs/codec-openjpeg/wasmjs', 'J2KEncoder'],
  jls: ['@cornerstonejs/codec-charls/wasmjs', 'JpegLSEncoder'],
  htj2k: ['@cornerstonejs/codec-openjph/wasmjs', 'HTJ2KEncoder'],
} as const;

async function wasmEncode(which: keyof typeof ENCODERS, values: Uint16Array, width: number, height: number): Promise<Uint8Array> {
  const require = createRequire(import.meta.url);
  const [pkg, name] = ENCODERS[which];
  const m = await (require(pkg) as (o: object) => Promise<Record<string, new () => WasmEncoder>>)({ print: () => undefined, printErr: () => undefined });
  const enc = new m[name]!();
  enc.setDecompositions?.(2);
  const buf = enc.getDecodedBuffer({ width, height, bitsPerSample: 16, componentCount: 1, isSigned: false, isUsingColorTransform: false });
  buf.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  enc.encode();
  return enc.getEncodedBuffer().slice();
}

describe('compressed DICOM: RLE, JPEG Baseline, JPEG-LS, JPEG 2000 and HTJ2K decode to the pixels of the same file uncompressed', () => {
  const dir = tempDir('dicom-codecs');
  const rows = 24;
  const cols = 20;
  const rng = new SeededRng(5);
  // A CT-like 16-bit image with flat runs (for RLE's replicate runs) and noise (for its literal runs).
  const frame = (f: number): Uint16Array => Uint16Array.from({ length: rows * cols }, (_, i) => ((i % cols) < 6 ? 1000 + f * 50 : 200 + Math.floor(rng.next() * 3000)));
  const frames = [frame(0), frame(1)];
  const base: SyntheticDicom = { rows, cols, bitsAllocated: 16, bitsStored: 12, rescaleIntercept: -1024, windowCenter: 40, windowWidth: 400, modality: 'CT', pixels: [] };
  const native = (n: number) => decodeDicom(writeDicom({ ...base, frames: n, pixels: Array.from(frames.slice(0, n).flatMap((f) => Array.from(f))) }), 'native.dcm');

  before(() => loadDicomCodecs());

  it('RLE Lossless, written by the test: one and two frames (with and without an offset table), 16-bit and 8-bit RGB', () => {
    const one = decodeDicom(writeDicom({ ...base, transferSyntax: RLE, fragments: [rleFrame(frames[0]!, 2)] }), join(dir, 'rle.dcm'));
    assert.deepEqual(one.slices, native(1).slices);
    assert.equal(one.meta.transferSyntaxName, 'RLE Lossless');
    for (const offsetTable of [false, true]) {
      const two = decodeDicom(writeDicom({ ...base, frames: 2, transferSyntax: RLE, fragments: frames.map((f) => rleFrame(f, 2)), offsetTable }), 'rle2.dcm');
      assert.deepEqual(two.slices, native(2).slices, `two frames, offset table ${offsetTable}`);
    }
    const rgb = Uint8Array.from({ length: rows * cols * 3 }, (_, i) => (i * 7) % 256);
    const colour = decodeDicom(writeDicom({ rows, cols, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB', transferSyntax: RLE, pixels: [], fragments: [rleFrame(rgb, 1, 3)] }), 'rle-rgb.dcm');
    assert.deepEqual(Array.from(colour.slices[0]!.data), Array.from(rgb));
  });

  it('JPEG 2000, HTJ2K and JPEG-LS (lossless), made with the codecs’ own encoders', async () => {
    for (const [ts, which] of [[J2K, 'j2k'], [HTJ2K, 'htj2k'], [JPEG_LS, 'jls']] as const) {
      const coded = await Promise.all(frames.map((f) => wasmEncode(which, f, cols, rows)));
      const got = decodeDicom(writeDicom({ ...base, frames: 2, transferSyntax: ts, fragments: coded, offsetTable: true }), `${which}.dcm`);
      assert.deepEqual(got.slices, native(2).slices, which);
    }
  });

  it('JPEG Baseline (YBR_FULL_422 colour) decodes to RGB close to the source', () => {
    const rgba = new Uint8Array(rows * cols * 4);
    for (let p = 0; p < rows * cols; p++) rgba.set([(p * 5) % 256, 128, 255 - ((p * 5) % 256), 255], p * 4);
    const coded = new Uint8Array(jpeg.encode({ data: rgba, width: cols, height: rows }, 95).data);
    const got = decodeDicom(writeDicom({ rows, cols, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'YBR_FULL_422', transferSyntax: JPEG_BASELINE, pixels: [], fragments: [coded] }), 'jpeg.dcm');
    const out = got.slices[0]!;
    assert.equal(out.channels, 3);
    let worst = 0;
    for (let p = 0; p < rows * cols; p++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(out.data[p * 3 + c]! - rgba[p * 4 + c]!));
    assert.ok(worst < 40, `largest difference ${worst}`);
  });

  it('JPEG Lossless (process 14): a real MR slice decodes to the checksum its decoder package publishes', () => {
    const path = realFixture('jpeg_lossless_sel1.dcm');
    const bytes = new Uint8Array(readFileSync(path));
    const ds = dicomParser.parseDicom(bytes);
    const frame = dicomParser.readEncapsulatedPixelDataFromFragments(ds, ds.elements.x7fe00010!, 0, 1);
    const stored = decodeFrame('1.2.840.10008.1.2.4.57', frame, { rows: 256, cols: 256, samplesPerPixel: 1, bitsAllocated: 16, signed: true }, path);
    assert.equal(crc32(stored), 3476557349);
    const { slices, meta } = decodeDicom(bytes, path);
    assert.equal(slices.length, 1);
    assert.deepEqual([slices[0]!.width, slices[0]!.height, meta.modality, meta.transferSyntaxName], [256, 256, 'MR', 'JPEG Lossless, Non-Hierarchical (Process 14)']);
    assert.ok(new Set(slices[0]!.data).size > 50, 'a real image, not a constant');
  });

  it('a corrupt stream is an error naming the file and the codec; frames without boundaries are refused', async () => {
    const coded = await wasmEncode('j2k', frames[0]!, cols, rows);
    const path = join(dir, 'cut-j2k.dcm');
    assert.throws(
      () => decodeDicom(writeDicom({ ...base, transferSyntax: J2K, fragments: [coded.subarray(0, 40)] }), path),
      (e) => isMedadError(e, ErrorCode.InvalidData) && e.message.startsWith(`${path}: `) && /jpeg2000/.test(e.message),
    );
    const rle = rleFrame(frames[0]!, 2);
    assert.throws(
      () => decodeDicom(writeDicom({ ...base, frames: 3, transferSyntax: RLE, fragments: [rle, rle] }), 'three-in-two.dcm'),
      (e) => isMedadError(e, ErrorCode.Unsupported) && /3 frames in 2 fragments without a basic offset table/.test(e.message),
    );
  });
});
