import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writePngFile } from '../image/codec.js';
import { loadDatasetDir } from '../store.js';
import { realFixture, tempDir } from '../medical/testing/fixtures.js';
import { findingOfMask, importSegmentation } from './seg.js';
import { importVolumes } from './volume.js';
import { writeDicom } from '../medical/testing/dicom-writer.js';

function square(size: number, boxes: Array<[number, number, number]>): Uint8Array {
  const m = new Uint8Array(size * size);
  for (const [x0, y0, s] of boxes) for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) m[y * size + x] = 255;
  return m;
}

describe('segmentation importer', () => {
  const root = tempDir('seg');
  const images = join(root, 'kvasir', 'images');
  const masks = join(root, 'kvasir', 'masks');
  mkdirSync(images, { recursive: true });
  mkdirSync(masks, { recursive: true });
  const rgb = (seed: number) => ({ width: 32, height: 32, channels: 3 as const, data: Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * seed) % 251) });
  const layouts: Record<string, Array<[number, number, number]>> = {
    a: [[2, 2, 6]],
    b: [[22, 24, 6]],
    c: [[13, 13, 6]],
    d: [[2, 2, 5], [24, 24, 5]],
    e: [],
  };
  Object.entries(layouts).forEach(([name, boxes], i) => {
    writePngFile(join(images, `${name}.png`), rgb(i + 3));
    writePngFile(join(masks, name === 'b' ? 'b_mask.png' : `${name}.png`), { width: 32, height: 32, channels: 1, data: square(32, boxes) });
  });
  writePngFile(join(images, 'orphan.png'), rgb(9));
  writeFileSync(join(images, 'broken.png'), 'not a png');
  writePngFile(join(masks, 'broken.png'), { width: 32, height: 32, channels: 1, data: square(32, [[1, 1, 3]]) });

  it('makes samples for all five tasks, the region from the mask centroid, and reports bad pairs', async () => {
    const out = join(root, 'out');
    const r = await importSegmentation({ images, masks, modality: 'Endoscopy', anatomy: 'Colon', pathology: 'Polyp', out });
    assert.equal(r.imported, 5);
    assert.deepEqual(r.skipped.map((s) => s.path.split('/').pop()).sort(), ['broken.png', 'orphan.png']);
    assert.match(r.skipped.find((s) => s.path.endsWith('orphan.png'))!.reason, /no mask named orphan/);
    const { samples, issues } = loadDatasetDir(out);
    assert.equal(issues.length, 0);
    const loc = Object.fromEntries(samples.filter((s) => s.task === 'lesion_localization').map((s) => [s.id, s.region]));
    assert.deepEqual(loc, { 'a-localization': 'Left Upper', 'b-localization': 'Right Lower', 'c-localization': 'Center' });
    const anomaly = Object.fromEntries(samples.filter((s) => s.task === 'anomaly_detection').map((s) => [s.id, s.options['ABCD'.indexOf(s.answer)]]));
    assert.equal(anomaly['d-anomaly'], 'Multiple focal lesions');
    assert.equal(anomaly['e-anomaly'], 'No abnormality');
    assert.equal(anomaly['a-anomaly'], 'A single focal lesion');
    const path = samples.find((s) => s.task === 'pathology_characterization')!;
    assert.equal(path.options['ABCD'.indexOf(path.answer)], 'Polyp');
    assert.deepEqual(r.byTask, { modality_classification: 5, anatomy_identification: 5, anomaly_detection: 5, lesion_localization: 3, pathology_characterization: 4 });
    const splitOf = new Map<string, Set<string>>();
    for (const s of samples) splitOf.set(s.image, (splitOf.get(s.image) ?? new Set()).add(s.split));
    for (const [, splits] of splitOf) assert.equal(splits.size, 1);
  });

  it('flags match the vocabulary whatever their case; an unknown one is refused before anything is written, listing the known values', async () => {
    const out = join(root, 'cased');
    const r = await importSegmentation({ images, masks, modality: ' endoscopy ', anatomy: 'COLON', pathology: 'malignant TUMOR', out });
    const { samples } = loadDatasetDir(r.dir);
    const key = (task: string) => samples.filter((s) => s.task === task).map((s) => s.options['ABCD'.indexOf(s.answer)])[0];
    assert.deepEqual([key('modality_classification'), key('anatomy_identification'), key('pathology_characterization')], ['Endoscopy', 'Colon', 'Malignant tumor']);
    const typo = join(root, 'typo');
    await assert.rejects(importSegmentation({ images, masks, modality: 'Endoscopy', anatomy: 'Colonn', out: typo }), (err: Error) => {
      assert.match(err.message, /--anatomy "Colonn" is not in the benchmark's vocabulary\. Fix: use one of: Brain, Lung, .*Colon \(any case\)/);
      return true;
    });
    assert.equal(existsSync(typo), false, 'nothing written');
  });

  it('an existing output is refused unless force; a failed import leaves nothing behind, the old output included', async () => {
    const out = join(root, 'again');
    await importSegmentation({ images, masks, modality: 'Endoscopy', anatomy: 'Colon', out, seed: 1 });
    const before = readFileSync(join(out, 'samples.jsonl'), 'utf8');
    await assert.rejects(importSegmentation({ images, masks, modality: 'Endoscopy', anatomy: 'Colon', out, seed: 2 }), /already exists\. Fix: choose another --out, or pass --force to replace it/);
    assert.equal(readFileSync(join(out, 'samples.jsonl'), 'utf8'), before, 'the existing dataset is untouched');
    const replaced = await importSegmentation({ images, masks, modality: 'Endoscopy', anatomy: 'Colon', out, seed: 2, force: true });
    assert.equal(replaced.dir, out);
    assert.notEqual(readFileSync(join(out, 'samples.jsonl'), 'utf8'), before, 'replaced with --force');
    // Every image unusable (no masks match): the import fails and neither a partial folder nor a temporary one is left.
    const empty = join(root, 'nomasks');
    mkdirSync(empty);
    writePngFile(join(empty, 'zzz.png'), { width: 4, height: 4, channels: 1, data: new Uint8Array(16) });
    const failed = join(root, 'failed');
    await assert.rejects(importSegmentation({ images, masks: empty, modality: 'Endoscopy', anatomy: 'Colon', out: failed }), /None of the 7 images could be imported/);
    assert.equal(existsSync(failed), false);
    assert.deepEqual(readdirSync(root).filter((n) => n.includes('.importing-')), [], 'no temporary folder left');
  });

  it('ignores specks when counting lesions', () => {
    const m = square(32, [[2, 2, 8], [30, 30, 1]]);
    assert.equal(findingOfMask({ width: 32, height: 32, data: m }), 'A single focal lesion');
  });
});

describe('DICOM and NIfTI importers (real files)', () => {
  it('imports a real CT slice and skips a truncated copy and a NIfTI with reasons', async () => {
    const dir = tempDir('dicom');
    copyFileSync(realFixture('CT_small.dcm'), join(dir, 'ct.dcm'));
    const bytes = (await import('node:fs')).readFileSync(realFixture('CT_small.dcm'));
    writeFileSync(join(dir, 'cut.dcm'), bytes.subarray(0, 2000));
    const out = join(dir, 'out');
    const r = await importVolumes({ paths: [dir, realFixture('anatomical.nii')], format: 'dicom', out, anatomy: 'Brain' });
    assert.equal(r.imported, 1);
    assert.equal(r.skipped.length, 2);
    assert.ok(r.skipped.some((s) => s.path.endsWith('cut.dcm')));
    assert.ok(r.skipped.some((s) => /is a NIFTI file/.test(s.reason)));
    const { samples } = loadDatasetDir(out);
    const mod = samples.find((s) => s.task === 'modality_classification')!;
    assert.equal(mod.options['ABCD'.indexOf(mod.answer)], 'CT');
    assert.equal(samples.length, 2);
  });

  it('a mixed folder: every decodable file imports (native, RLE, multi-frame), each other one is reported by name with the reason', async () => {
    const dir = tempDir('dicom-mixed');
    copyFileSync(realFixture('CT_small.dcm'), join(dir, 'ct.dcm'));
    const pixels = Array.from({ length: 16 * 16 }, (_, i) => (i * 13) % 4096);
    // An RLE frame: two segments (high, then low bytes), each one literal run per 128 bytes.
    const plane = (hi: boolean) => Uint8Array.from(pixels, (v) => (hi ? v >> 8 : v & 0xff));
    const packed = (p: Uint8Array) => Uint8Array.from([127, ...p.subarray(0, 128), 127, ...p.subarray(128)]);
    const segs = [packed(plane(true)), packed(plane(false))];
    const rle = new Uint8Array(64 + segs[0]!.length + segs[1]!.length);
    new DataView(rle.buffer).setUint32(0, 2, true);
    new DataView(rle.buffer).setUint32(4, 64, true);
    new DataView(rle.buffer).setUint32(8, 64 + segs[0]!.length, true);
    rle.set(segs[0]!, 64);
    rle.set(segs[1]!, 64 + segs[0]!.length);
    const mr = { rows: 16, cols: 16, bitsAllocated: 16 as const, bitsStored: 12, modality: 'MR' };
    writeFileSync(join(dir, 'rle.dcm'), writeDicom({ ...mr, transferSyntax: '1.2.840.10008.1.2.5', pixels: [], fragments: [rle] }));
    writeFileSync(join(dir, 'multi.dcm'), writeDicom({ ...mr, frames: 3, pixels: [...pixels, ...pixels, ...pixels] }));
    writeFileSync(join(dir, 'video.dcm'), writeDicom({ ...mr, transferSyntax: '1.2.840.10008.1.2.4.102', pixels, encapsulated: true }));
    writeFileSync(join(dir, 'cut.dcm'), readFileSync(realFixture('CT_small.dcm')).subarray(0, 3000));
    const out = join(dir, 'out');
    const r = await importVolumes({ paths: [dir], format: 'dicom', out });
    assert.equal(r.imported, 3);
    assert.equal(r.images, 1 + 1 + 3, 'the multi-frame file gives one image per frame');
    assert.deepEqual(r.skipped.map((s) => s.path.split('/').pop()).sort(), ['cut.dcm', 'video.dcm']);
    assert.match(r.skipped.find((s) => s.path.endsWith('video.dcm'))!.reason, /video\.dcm: .*H\.264.* is not decoded/);
    const answers = new Set(loadDatasetDir(out).samples.map((s) => s.options['ABCD'.indexOf(s.answer)]));
    assert.deepEqual([...answers].sort(), ['CT', 'MRI']);
  });

  it('files of one series (SeriesInstanceUID) share a split, and so do all series of one patient (PatientID)', async () => {
    const dir = tempDir('dicom-series');
    for (let i = 0; i < 12; i++) {
      const series = `1.2.826.0.1.${i % 4}`;
      writeFileSync(join(dir, `s${i}.dcm`), writeDicom({ rows: 8, cols: 8, bitsAllocated: 8, modality: 'CT', seriesInstanceUid: series, pixels: Array.from({ length: 64 }, (_, k) => (k * (i + 1)) % 256) }));
    }
    // Eight series of four patients (two each): a patient's two series share a split.
    const byPatient = tempDir('dicom-patients');
    for (let i = 0; i < 16; i++) {
      writeFileSync(join(byPatient, `p${i}.dcm`), writeDicom({ rows: 8, cols: 8, bitsAllocated: 8, modality: 'MR', patientId: `P${i % 4}`, seriesInstanceUid: `1.2.826.0.2.${i % 8}`, pixels: Array.from({ length: 64 }, (_, k) => (k * (i + 3)) % 256) }));
    }
    await importVolumes({ paths: [byPatient], format: 'dicom', out: join(byPatient, 'out') });
    const patientSplits = new Map<string, Set<string>>();
    for (const s of loadDatasetDir(join(byPatient, 'out')).samples) {
      const n = Number(String((s.meta as { importedFrom: string }).importedFrom).split('/').pop()!.slice(1, -4));
      patientSplits.set(`P${n % 4}`, (patientSplits.get(`P${n % 4}`) ?? new Set()).add(s.split));
    }
    assert.deepEqual([...patientSplits.values()].map((s) => s.size), [1, 1, 1, 1], 'each patient in one split');
    const out = join(dir, 'out');
    await importVolumes({ paths: [dir], format: 'dicom', out, anatomy: 'Lung' });
    const splitsBySeries = new Map<string, Set<string>>();
    for (const s of loadDatasetDir(out).samples) {
      const file = String((s.meta as { importedFrom: string }).importedFrom).split('/').pop()!;
      const series = Number(file.slice(1, -4)) % 4;
      splitsBySeries.set(String(series), (splitsBySeries.get(String(series)) ?? new Set()).add(s.split));
    }
    assert.equal(splitsBySeries.size, 4);
    for (const [series, splits] of splitsBySeries) assert.equal(splits.size, 1, `series ${series} is in one split`);
    assert.deepEqual(new Set([...splitsBySeries.values()].map((s) => [...s][0])), new Set(['train', 'test']), 'both splits are used');
  });

  it('slices a real NIfTI volume into PNG samples split by volume', async () => {
    const dir = tempDir('nifti');
    const out = join(dir, 'out');
    const r = await importVolumes({ paths: [realFixture('anatomical.nii')], format: 'nifti', out, modality: 'mri', anatomy: 'brain', slices: 'middle' });
    assert.equal(r.imported, 1);
    assert.equal(r.images, 1);
    assert.deepEqual(r.byTask, { modality_classification: 1, anatomy_identification: 1 });
    const { samples } = loadDatasetDir(out);
    assert.ok(samples.every((s) => s.split === 'train'));
    assert.deepEqual([...new Set(samples.map((s) => s.options['ABCD'.indexOf(s.answer)]))].sort(), ['Brain', 'MRI'], 'lowercase flags get the vocabulary spelling');
  });

  it('a volume import with nothing usable fails and leaves no folder', async () => {
    const dir = tempDir('nifti-none');
    const bad = join(dir, 'bad.nii');
    writeFileSync(bad, 'not a volume');
    const out = join(dir, 'out');
    await assert.rejects(importVolumes({ paths: [bad], format: 'nifti', out, modality: 'MRI' }), /Nothing to import: 1 file\(s\) skipped \(first: .*bad\.nii/);
    assert.deepEqual(readdirSync(dir), ['bad.nii']);
    await assert.rejects(importVolumes({ paths: [bad], format: 'nifti', out, modality: 'PET' }), /--modality "PET" is not in the benchmark's vocabulary/);
  });
});
