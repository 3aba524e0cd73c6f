import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ErrorCode, isMedadError, SeededRng } from '@medad/core';
import { decodeDicom } from './dicom.js';
import { writeDicom, type SyntheticDicom } from './testing/dicom-writer.js';
import { realFixture, tempDir } from './testing/fixtures.js';

const CT = realFixture('CT_small.dcm');

/** The CT's stored pixels, located independently of dicom-parser: the OW pixel data element header. */
function ctStoredPixels(bytes: Uint8Array): Int16Array {
  const marker = [0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57, 0, 0];
  let at = -1;
  for (let i = bytes.length - marker.length; i >= 0 && at < 0; i--) if (marker.every((b, k) => bytes[i + k] === b)) at = i;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at + 12, 128 * 128 * 2);
  return Int16Array.from({ length: 128 * 128 }, (_, i) => view.getInt16(i * 2, true));
}

function numpyPercentile(sorted: number[], p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const i = Math.floor(rank);
  return sorted[i]! + (rank - i) * ((sorted[i + 1] ?? sorted[i]!) - sorted[i]!);
}

describe('decodeDicom on the real CT slice (explicit VR little endian, signed 16-bit)', () => {
  const bytes = new Uint8Array(readFileSync(CT));
  const { slices, meta } = decodeDicom(bytes, CT);
  const hu = Array.from(ctStoredPixels(bytes), (v) => v * 1 - 1024);

  it('reads the geometry and rescale from the header', () => {
    assert.equal(slices.length, 1);
    assert.deepEqual([slices[0]!.width, slices[0]!.height, slices[0]!.channels], [128, 128, 1]);
    assert.deepEqual([meta.rows, meta.cols, meta.frames, meta.modality], [128, 128, 1, 'CT']);
    assert.deepEqual([meta.rescaleSlope, meta.rescaleIntercept, meta.pixelRepresentation, meta.bitsStored], [1, -1024, 1, 16]);
    assert.equal(meta.transferSyntax, '1.2.840.10008.1.2.1');
    assert.equal(meta.pixelPaddingValue, -2000);
    assert.equal(meta.windowCenter, undefined);
  });

  it('gives the HU range computed independently from the raw pixels (-896..1167)', () => {
    assert.deepEqual(meta.valueRange, { min: Math.min(...hu), max: Math.max(...hu) });
    assert.deepEqual(meta.valueRange, { min: -896, max: 1167 });
  });

  it('windows by the 1st-99th percentiles when the file has no window, pixel for pixel', () => {
    const sorted = [...hu].sort((a, b) => a - b);
    const low = numpyPercentile(sorted, 1);
    const high = numpyPercentile(sorted, 99);
    assert.equal(meta.appliedWindow?.source, 'percentile');
    assert.equal(meta.appliedWindow?.center, (low + high) / 2);
    assert.equal(meta.appliedWindow?.width, high - low);
    const expected = hu.map((v) => Math.min(255, Math.max(0, Math.round(((v - low) * 255) / (high - low)))));
    assert.deepEqual([...slices[0]!.data], expected);
  });

  it('has a sane histogram: ~1% black, ~1% white, many grey levels', () => {
    const data = slices[0]!.data;
    const frac = (pred: (v: number) => boolean): number => data.filter(pred).length / data.length;
    assert.ok(frac((v) => v === 0) > 0.005 && frac((v) => v === 0) < 0.03, `black fraction ${frac((v) => v === 0)}`);
    assert.ok(frac((v) => v === 255) > 0.005 && frac((v) => v === 255) < 0.03, `white fraction ${frac((v) => v === 255)}`);
    assert.ok(new Set(data).size > 200, `${new Set(data).size} grey levels`);
  });

  it('applies an explicit window (CT soft tissue 40/400)', () => {
    const { slices: s, meta: m } = decodeDicom(bytes, CT, { window: { center: 40, width: 400 } });
    assert.deepEqual(m.appliedWindow, { center: 40, width: 400, source: 'explicit' });
    const i = hu.findIndex((v) => v > -160 && v < 240);
    assert.equal(s[0]!.data[i], Math.round(((hu[i]! + 160) * 255) / 400));
  });
});

describe('decodeDicom on bad files', () => {
  const dir = tempDir('dicom');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = readFileSync(CT);

  it('reports a truncated copy with its path', () => {
    for (const cut of [1000, 20000, bytes.length - 200]) {
      const path = join(dir, `truncated-${cut}.dcm`);
      writeFileSync(path, bytes.subarray(0, cut));
      assert.throws(
        () => decodeDicom(new Uint8Array(readFileSync(path)), path),
        (e) => isMedadError(e, ErrorCode.InvalidData) && e.message.includes(path) && /truncated/.test(e.message) && /Fix:/.test(e.message),
      );
    }
  });

  it('reports random bytes as not DICOM, naming the path', () => {
    const rng = new SeededRng(7);
    const path = join(dir, 'random.dcm');
    writeFileSync(path, Uint8Array.from({ length: 4096 }, () => rng.int(256)));
    assert.throws(
      () => decodeDicom(new Uint8Array(readFileSync(path)), path),
      (e) => isMedadError(e, ErrorCode.InvalidData) && e.message.startsWith(`${path}: not a DICOM file`),
    );
  });

  it('rejects the compressed transfer syntaxes it does not decode as UNSUPPORTED with the gdcmconv fix', () => {
    // The syntaxes not decoded yet (RLE, JPEG Baseline and Lossless, JPEG-LS, JPEG 2000 and HTJ2K are: dicom-codecs.test.ts).
    const cases = {
      '1.2.840.10008.1.2.4.51': /JPEG Extended/,
      '1.2.840.10008.1.2.4.100': /MPEG2/,
      '1.2.840.10008.1.2.4.92': /JPEG 2000 Part 2/,
      '1.2.840.10008.1.2.4.102': /H\.264/,
    };
    for (const [ts, name] of Object.entries(cases)) {
      const path = join(dir, `compressed-${ts}.dcm`);
      const file = writeDicom({ transferSyntax: ts, rows: 4, cols: 4, bitsAllocated: 8, pixels: new Array(16).fill(9), encapsulated: true });
      assert.throws(
        () => decodeDicom(file, path),
        (e) => isMedadError(e, ErrorCode.Unsupported) && e.message.includes(path) && name.test(e.message) && e.message.includes('gdcmconv --raw'),
      );
    }
  });

  it('rejects encapsulated pixel data under a native syntax, and a file without pixel data', () => {
    const enc = writeDicom({ rows: 2, cols: 2, bitsAllocated: 8, pixels: [1, 2, 3, 4], encapsulated: true });
    assert.throws(() => decodeDicom(enc, 'enc.dcm'), (e) => isMedadError(e, ErrorCode.Unsupported) && /encapsulated/.test(e.message));
    const none = writeDicom({ rows: 2, cols: 2, bitsAllocated: 8, pixels: [], omitPixelData: true });
    assert.throws(() => decodeDicom(none, 'none.dcm'), (e) => isMedadError(e, ErrorCode.InvalidData) && /no pixel data/.test(e.message));
  });
});

describe('decodeDicom on synthetic files', () => {
  const signed16: SyntheticDicom = {
    rows: 3,
    cols: 4,
    bitsAllocated: 16,
    pixelRepresentation: 1,
    pixels: [-1000, -500, 0, 500, 1000, 1500, -32768, 32767, 7, -7, 300, 42],
    rescaleSlope: 2,
    rescaleIntercept: -100,
    modality: 'CT',
  };

  it('gives identical images for big endian, little endian, implicit and deflated encodings', () => {
    const decode = (ts: string): ReturnType<typeof decodeDicom> => decodeDicom(writeDicom({ ...signed16, transferSyntax: ts }), `${ts}.dcm`);
    const le = decode('1.2.840.10008.1.2.1');
    const be = decode('1.2.840.10008.1.2.2');
    assert.equal(be.meta.littleEndian, false);
    assert.deepEqual(le.meta.valueRange, { min: -32768 * 2 - 100, max: 32767 * 2 - 100 });
    for (const other of [be, decode('1.2.840.10008.1.2'), decode('1.2.840.10008.1.2.1.99')]) {
      assert.deepEqual(other.slices, le.slices);
      assert.deepEqual(other.meta.valueRange, le.meta.valueRange);
      assert.deepEqual(other.meta.appliedWindow, le.meta.appliedWindow);
    }
  });

  it('uses the file window (on rescaled values) and inverts MONOCHROME1', () => {
    const file = { ...signed16, windowCenter: 0, windowWidth: 2000 };
    const mono2 = decodeDicom(writeDicom(file), 'm2.dcm');
    assert.deepEqual(mono2.meta.appliedWindow, { center: 0, width: 2000, source: 'file' });
    // Stored 0 → rescaled -100 → (−100 + 1000) / 2000 * 255 = 114.75 → 115.
    assert.equal(mono2.slices[0]!.data[2], 115);
    const mono1 = decodeDicom(writeDicom({ ...file, photometric: 'MONOCHROME1' }), 'm1.dcm');
    assert.deepEqual([...mono1.slices[0]!.data], [...mono2.slices[0]!.data].map((v) => 255 - v));
  });

  it('masks bits above BitsStored and sign-extends 12-bit signed values', () => {
    // 0xF123 has garbage in the top 4 bits; stored 12-bit value 0x123 = 291. 0x0FFF is -1 as signed 12-bit.
    const file = writeDicom({ rows: 1, cols: 3, bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1, pixels: [0xf123, 0x0fff, 0x0800] });
    const { meta } = decodeDicom(file, 'b12.dcm');
    assert.deepEqual(meta.valueRange, { min: -2048, max: 291 });
  });

  it('decodes 8-bit unsigned multi-frame files with one window for the whole series', () => {
    const frame = (k: number): number[] => Array.from({ length: 6 }, (_, i) => k * 50 + i * 10);
    const { slices, meta } = decodeDicom(writeDicom({ rows: 2, cols: 3, frames: 3, bitsAllocated: 8, pixels: [...frame(0), ...frame(1), ...frame(2)] }), 'mf.dcm', {
      percentiles: [0, 100],
    });
    assert.equal(meta.frames, 3);
    assert.equal(slices.length, 3);
    assert.deepEqual(meta.valueRange, { min: 0, max: 150 });
    assert.deepEqual([...slices[0]!.data], [0, 17, 34, 51, 68, 85]);
    assert.deepEqual([...slices[2]!.data], [170, 187, 204, 221, 238, 255]);
  });

  it('renders padding black and leaves it out of the value range', () => {
    const { slices, meta } = decodeDicom(
      writeDicom({ rows: 1, cols: 4, bitsAllocated: 16, pixelRepresentation: 1, pixels: [-2000, 10, 20, 30], pixelPaddingValue: -2000 }),
      'pad.dcm',
      { percentiles: [0, 100] },
    );
    assert.deepEqual(meta.valueRange, { min: 10, max: 30 });
    assert.deepEqual([...slices[0]!.data], [0, 0, 128, 255]);
  });

  it('keeps 8-bit RGB as 3 channels, interleaved or planar', () => {
    const rgb = [10, 20, 30, 40, 50, 60];
    const planar = [10, 40, 20, 50, 30, 60];
    const a = decodeDicom(writeDicom({ rows: 1, cols: 2, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB', pixels: rgb }), 'rgb.dcm');
    const b = decodeDicom(
      writeDicom({ rows: 1, cols: 2, bitsAllocated: 8, samplesPerPixel: 3, photometric: 'RGB', planarConfiguration: 1, pixels: planar }),
      'planar.dcm',
    );
    assert.deepEqual(a.slices[0], { width: 2, height: 1, channels: 3, data: Uint8Array.from(rgb) });
    assert.deepEqual(b.slices, a.slices);
    assert.equal(a.meta.appliedWindow, undefined);
  });
});
