import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ErrorCode, SeededRng } from '@medad/core';
import { decodeMany, decodeMedical, detectMedicalFormat } from './bulk.js';
import { decodeDicom } from './dicom.js';
import { realFixture, tempDir } from './testing/fixtures.js';

const CT = realFixture('CT_small.dcm');
const NII = realFixture('anatomical.nii');

describe('detectMedicalFormat and decodeMedical', () => {
  it('recognises both fixtures by their magic bytes, whatever the name', () => {
    assert.equal(detectMedicalFormat(readFileSync(CT), 'noext'), 'dicom');
    assert.equal(detectMedicalFormat(readFileSync(NII), 'noext'), 'nifti');
    assert.equal(detectMedicalFormat(new Uint8Array(10), 'scan.nii.gz'), 'nifti');
    assert.equal(detectMedicalFormat(new Uint8Array(10), 'photo.png'), null);
  });

  it('dispatches to the right decoder and rejects other files', () => {
    const dicom = decodeMedical(readFileSync(CT), CT);
    const nifti = decodeMedical(readFileSync(NII), NII, { slices: 'middle', axis: 'coronal' });
    assert.deepEqual([dicom.format, dicom.slices.length, nifti.format, nifti.slices.length, nifti.slices[0]!.height], ['dicom', 1, 'nifti', 1, 25]);
    assert.throws(() => decodeMedical(new Uint8Array(400), 'x.png'), /x\.png: not a DICOM or NIfTI file/);
  });
});

describe('decodeMany', () => {
  const dir = tempDir('bulk');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every good file in order and reports each bad one with path, code and reason', async () => {
    const good1 = join(dir, 'a.dcm');
    const good2 = join(dir, 'e.dcm');
    const truncated = join(dir, 'b.dcm');
    const random = join(dir, 'c.dcm');
    const missing = join(dir, 'd.dcm');
    copyFileSync(CT, good1);
    copyFileSync(CT, good2);
    writeFileSync(truncated, readFileSync(CT).subarray(0, 30000));
    const rng = new SeededRng(3);
    writeFileSync(random, Uint8Array.from({ length: 1000 }, () => rng.int(256)));
    const result = await decodeMany([good1, truncated, random, missing, good2], (bytes, path) => decodeDicom(bytes, path));
    assert.deepEqual(
      result.ok.map((o) => [o.path, o.value.slices[0]!.width]),
      [
        [good1, 128],
        [good2, 128],
      ],
    );
    assert.deepEqual(
      result.skipped.map((s) => [s.path, s.code]),
      [
        [truncated, ErrorCode.InvalidData],
        [random, ErrorCode.InvalidData],
        [missing, ErrorCode.NotFound],
      ],
    );
    for (const s of result.skipped) assert.ok(s.reason.startsWith(`${s.path}: `), s.reason);
    assert.match(result.skipped[0]!.reason, /truncated/);
    assert.match(result.skipped[2]!.reason, /ENOENT/);
  });

  it('does not throw when the decoder itself throws a plain error', async () => {
    const result = await decodeMany([CT], () => {
      throw new Error('boom');
    });
    assert.deepEqual(result, { ok: [], skipped: [{ path: CT, code: ErrorCode.Internal, reason: `${CT}: boom` }] });
  });
});
