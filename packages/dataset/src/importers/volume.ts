import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ErrorCode, MedadError, silentProgress, type ProgressReporter } from '@medad/core';
import { writePngFile } from '../image/codec.js';
import { writeSamplesJsonl } from '../jsonl.js';
import { decodeMany, decodeMedical, detectMedicalFormat, loadDicomCodecs, type DecodedMedical, type MedicalFormat, type NiftiAxis, type WindowSpec } from '../medical/index.js';
import { SAMPLES_FILE, writeDescriptor } from '../store.js';
import { ANATOMIES, MODALITIES } from '../vocab.js';
import { anatomyEvidence, countByTask, finishSamples, importInto, modalityEvidence, splitGroups, vocabularyValue, type Draft, type ImportReport, type ImportSkip } from './common.js';

/** DICOM modality codes (0008,0060) → benchmark modality names. */
export const DICOM_MODALITY_NAMES: Readonly<Record<string, string>> = Object.freeze({
  CT: 'CT',
  MR: 'MRI',
  US: 'Ultrasound',
  CR: 'X-ray',
  DX: 'X-ray',
  DR: 'X-ray',
  MG: 'X-ray',
  RF: 'X-ray',
  OCT: 'OCT',
  OPT: 'OCT',
  OP: 'Fundus photography',
  ES: 'Endoscopy',
  XC: 'Dermoscopy',
  SM: 'Microscopy',
});

/** Options of {@link importVolumes}. */
export interface VolumeImportOptions {
  /** Files or directories (searched recursively). */
  paths: string[];
  /** Only accept this format; files of the other format are skipped with a reason. */
  format: MedicalFormat;
  out: string;
  /** Modality of every image (default: from the DICOM header; required for NIfTI). */
  modality?: string;
  /** Anatomy of every image; anatomy questions are made only when given. */
  anatomy?: string;
  window?: WindowSpec;
  percentiles?: [number, number];
  /** NIfTI: plane and which slices (default: axial, all). */
  axis?: NiftiAxis;
  slices?: 'all' | 'middle';
  source?: string;
  seed?: number;
  progress?: ProgressReporter;
  /** Replace an existing, non-empty `out` (default: refuse). */
  force?: boolean;
}

function expand(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    if (existsSync(p) && statSync(p).isDirectory()) for (const n of readdirSync(p).sort()) walk(join(p, n));
    else out.push(p);
  };
  for (const p of paths) walk(resolve(p));
  return out;
}

/**
 * Imports DICOM or NIfTI files as PNG slices (windowed: explicit window, the file's window, else
 * percentiles) and modality / anatomy questions. A truncated, corrupt or unsupported file is
 * reported with its path and reason and the import goes on; all slices of a file share a split.
 */
export async function importVolumes(options: VolumeImportOptions): Promise<ImportReport> {
  // Flags are checked before anything is read or written.
  const modalityFlag = options.modality === undefined ? undefined : vocabularyValue('--modality', options.modality, MODALITIES);
  const anatomyFlag = options.anatomy === undefined ? undefined : vocabularyValue('--anatomy', options.anatomy, ANATOMIES);
  const files = expand(options.paths);
  if (!files.length) throw new MedadError(ErrorCode.BadUserInput, 'No input files', { fix: `pass one or more ${options.format} files or directories` });
  return importInto(options.out, options.force, (out) => importVolumesInto(out, files, { ...options, modality: modalityFlag, anatomy: anatomyFlag }));
}

async function importVolumesInto(out: string, files: string[], options: VolumeImportOptions): Promise<ImportReport> {
  const progress = options.progress ?? silentProgress;
  const seed = options.seed ?? 0;
  const skipped: ImportSkip[] = [];
  let done = 0;
  if (options.format === 'dicom') await loadDicomCodecs();
  progress.start(files.length, `import ${options.format}`);
  const decoded = await decodeMany(files, (bytes, path) => {
    progress.update(++done);
    const found = detectMedicalFormat(bytes, path);
    if (found && found !== options.format) {
      throw new MedadError(ErrorCode.Unsupported, `${path}: is a ${found.toUpperCase()} file, not ${options.format.toUpperCase()}`, {
        fix: `import it with \`medad data import ${found}\``,
      });
    }
    return decodeMedical(bytes, path, {
      window: options.window,
      percentiles: options.percentiles,
      axis: options.axis,
      slices: options.slices === 'middle' ? 'middle' : 'all',
    });
  });
  progress.stop();
  for (const s of decoded.skipped) skipped.push({ path: s.path, reason: s.reason });
  // Files of one patient (PatientID), else of one series (SeriesInstanceUID), share a split: no
  // patient or series has slices in both train and test.
  const groups: Array<{ key: string; splitKey: string; drafts: (split: Draft['split']) => Draft[] }> = [];
  const used = new Set<string>();
  for (const { path, value } of decoded.ok) {
    const v = value as DecodedMedical;
    const headerModality = v.format === 'dicom' && v.meta.modality ? DICOM_MODALITY_NAMES[v.meta.modality] : undefined;
    const modality = options.modality ?? headerModality;
    if (!modality && !options.anatomy) {
      skipped.push({ path, reason: `${path}: no modality in the header and no --modality/--anatomy given, so no question can be asked` });
      continue;
    }
    let key = basename(path).replace(/\.(dcm|dicom|ima|nii|nii\.gz)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_') || 'volume';
    while (used.has(key)) key += '_';
    used.add(key);
    const images = v.slices.map((slice, k) => {
      const rel = `images/${key}-${String(k).padStart(3, '0')}.png`;
      writePngFile(join(out, rel), slice);
      return rel;
    });
    const meta = { importedFrom: path, format: v.format, window: v.meta.appliedWindow ?? null };
    const patient = v.format === 'dicom' ? v.meta.patientId : undefined;
    const series = v.format === 'dicom' ? v.meta.seriesInstanceUid : undefined;
    groups.push({
      key,
      splitKey: patient ? `patient:${patient}` : series ? `series:${series}` : `file:${key}`,
      drafts: (split) =>
        images.flatMap((image, k) => {
          const base = { image, modality: modality ?? 'unknown', anatomy: options.anatomy ?? 'unknown', source: options.source ?? `${v.format}-import`, split, meta: { ...meta, slice: k } };
          const d: Draft[] = [];
          if (modality) d.push({ ...base, key: `${key}-${k}-modality`, question: { task: 'modality_classification', answer: modality, evidence: modalityEvidence(modality) } });
          if (options.anatomy) d.push({ ...base, key: `${key}-${k}-anatomy`, question: { task: 'anatomy_identification', answer: options.anatomy, evidence: anatomyEvidence(options.anatomy) } });
          return d;
        }),
    });
  }
  const splits = splitGroups([...new Set(groups.map((g) => g.splitKey))], seed);
  const samples = finishSamples(groups.flatMap((g) => g.drafts(splits.get(g.splitKey)!)), seed);
  if (samples.length) {
    writeSamplesJsonl(join(out, SAMPLES_FILE), samples);
    writeDescriptor(out, {
      format: 'medad-jsonl',
      version: 1,
      id: `${options.format}-${basename(resolve(options.out))}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-'),
      name: `${options.format.toUpperCase()} import (${groups.length} files)`,
      samplesFile: SAMPLES_FILE,
      provenance: { importer: options.format, files: decoded.ok.map((o) => o.path), modality: options.modality ?? null, anatomy: options.anatomy ?? null, seed },
    });
  }
  return { dir: out, imported: groups.length, skipped, images: new Set(samples.map((s) => s.image)).size, samples: samples.length, byTask: countByTask(samples) };
}
