import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, MedadError, TASKS, parseRunSpec, type ProgressReporter } from '@medad/core';
import {
  datasetStats,
  formatIssue,
  importSegmentation,
  importVolumes,
  readSamplesJsonl,
  runBaselines,
  zoomDatasetDir,
  type DatasetStats,
  type ImportReport,
  type CotFormat,
} from '@medad/dataset';
import { DEFAULT_COT_FORMAT, DEFAULT_IMAGE_SIZE, DEFAULT_SAMPLES, syntheticDatasetConfig } from '@medad/plugin-dataset-synthetic';
import { addSectionFlags, sectionValues } from '../run/flags.js';
import { runSpecNow } from './train.js';
import { terminalProgress } from '../progress.js';
import { printTable } from '../table.js';

function integer(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got "${raw}".`);
    return n;
  };
}

function windowSpec(raw: string): { center: number; width: number } {
  const [c, w] = raw.split(',').map(Number);
  if (!Number.isFinite(c) || !Number.isFinite(w) || !(w! > 0)) throw new InvalidArgumentError(`"${raw}" is not CENTER,WIDTH (e.g. 40,400).`);
  return { center: c!, width: w! };
}

function percentiles(raw: string): [number, number] {
  const [lo, hi] = raw.split(',').map(Number);
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo! >= 0 && hi! <= 100 && lo! < hi!)) throw new InvalidArgumentError(`"${raw}" is not LOW,HIGH percentiles with 0 <= LOW < HIGH <= 100 (e.g. 1,99).`);
  return [lo!, hi!];
}

function requireDir(dir: string, what: string): string {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new MedadError(ErrorCode.NotFound, `${what} ${abs} is not a directory`, { fix: 'pass an existing directory (make a benchmark with `medad data synth --out DIR`)' });
  }
  return abs;
}

function progress(): ProgressReporter {
  return terminalProgress(process.stderr, 2000);
}

function pct(n: number, total: number): string {
  return total ? `${((100 * n) / total).toFixed(1)}%` : '-';
}

function printCounts(title: string, counts: Record<string, number>, total: number): void {
  process.stdout.write(`\n${title}\n`);
  printTable(['', 'count', 'share'], Object.entries(counts).map(([k, v]) => [k, v, pct(v, total)]));
}

function printStats(s: DatasetStats): void {
  process.stdout.write(`${s.root}: ${s.total} samples${s.invalidLines ? ` (${s.invalidLines} invalid lines skipped; see \`medad data validate\`)` : ''}\n`);
  printCounts('split', s.bySplit, s.total);
  process.stdout.write('\ntask\n');
  printTable(
    ['', 'count', 'train', 'test', 'A', 'B', 'C', 'D'],
    Object.entries(s.byTask).map(([t, n]) => {
      const a = s.byTaskAnswer[t] ?? {};
      return [t, n, s.bySplitTask.train?.[t] ?? 0, s.bySplitTask.test?.[t] ?? 0, a.A ?? 0, a.B ?? 0, a.C ?? 0, a.D ?? 0];
    }),
  );
  printCounts('modality', s.byModality, s.total);
  printCounts('anatomy', s.byAnatomy, s.total);
  printCounts('source', s.bySource, s.total);
  printCounts('answer letter', s.byAnswer, s.total);
}

function printImport(r: ImportReport, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  } else {
    for (const s of r.skipped) process.stderr.write(`skipped ${s.reason.startsWith(s.path) ? s.reason : `${s.path}: ${s.reason}`}\n`);
    process.stdout.write(`imported ${r.imported}, skipped ${r.skipped.length}; wrote ${r.samples} samples over ${r.images} images to ${r.dir}\n`);
    printTable(['task', 'samples'], Object.entries(r.byTask).map(([t, n]) => [t, n]));
  }
  if (r.samples === 0) process.exitCode = 1;
}

function registerImport(data: Command): void {
  const imp = data.command('import').description('import an existing dataset as MedAD samples (bad files are skipped and reported; written atomically: a failed import leaves nothing)');
  imp
    .command('seg')
    .description('a segmentation dataset laid out as images/ + masks/ (Kvasir-SEG, BUSI, ISIC2018, CVC-ClinicDB) → samples for all five tasks')
    .requiredOption('--images <dir>', 'directory of images (PNG/JPEG)')
    .requiredOption('--masks <dir>', 'directory of masks named like the images (optionally with _mask or _segmentation)')
    .requiredOption('--modality <name>', 'modality of every image, e.g. Endoscopy')
    .requiredOption('--anatomy <name>', 'anatomy of every image, e.g. Colon')
    .requiredOption('--out <dir>', 'output dataset directory')
    .option('--pathology <name>', 'pathology of every lesion (e.g. Polyp); enables pathology questions')
    .option('--source <name>', 'source name recorded in each sample (default: the dataset folder name)')
    .option('--max-side <px>', 'scale larger images down to this longest side', integer('--max-side', 16, 4096), 256)
    .option('--seed <n>', 'seed of the split, letters and paraphrases', integer('--seed', 0, 0xffffffff), 0)
    .option('--force', 'replace an existing --out')
    .option('--json', 'print the report as JSON')
    .action(async (o: { images: string; masks: string; modality: string; anatomy: string; out: string; pathology?: string; source?: string; maxSide: number; seed: number; force?: boolean; json?: boolean }) => {
      const r = await importSegmentation({
        images: requireDir(o.images, '--images'),
        masks: requireDir(o.masks, '--masks'),
        modality: o.modality,
        anatomy: o.anatomy,
        pathology: o.pathology,
        source: o.source,
        out: o.out,
        maxSide: o.maxSide,
        seed: o.seed,
        force: o.force,
        progress: progress(),
      });
      printImport(r, o.json);
    });
  for (const format of ['dicom', 'nifti'] as const) {
    imp
      .command(format)
      .description(`${format === 'dicom' ? 'DICOM' : 'NIfTI'} files or directories → windowed PNG slices with modality/anatomy questions`)
      .argument('<paths...>', 'files or directories (searched recursively)')
      .requiredOption('--out <dir>', 'output dataset directory')
      .option('--modality <name>', format === 'dicom' ? 'modality (default: from the DICOM header)' : 'modality of the volumes, e.g. MRI')
      .option('--anatomy <name>', 'anatomy of the images, e.g. Brain (enables anatomy questions)')
      .option('--window <center,width>', 'explicit intensity window (default: the file’s own window, else percentiles)', windowSpec)
      .option('--percentiles <low,high>', 'percentile window when the file has none (default 1,99)', percentiles)
      .addOption(new Option('--axis <plane>', 'NIfTI slicing plane').choices(['axial', 'coronal', 'sagittal']).default('axial'))
      .addOption(new Option('--slices <which>', 'NIfTI slices to keep').choices(['all', 'middle']).default('all'))
      .option('--seed <n>', 'seed of the split, letters and paraphrases', integer('--seed', 0, 0xffffffff), 0)
      .option('--force', 'replace an existing --out')
      .option('--json', 'print the report as JSON')
      .action(async (paths: string[], o: { out: string; modality?: string; anatomy?: string; window?: { center: number; width: number }; percentiles?: [number, number]; axis: 'axial' | 'coronal' | 'sagittal'; slices: 'all' | 'middle'; seed: number; force?: boolean; json?: boolean }) => {
        const r = await importVolumes({ paths, format, out: o.out, modality: o.modality, anatomy: o.anatomy, window: o.window, percentiles: o.percentiles, axis: o.axis, slices: o.slices, seed: o.seed, force: o.force, progress: progress() });
        printImport(r, o.json);
      });
  }
}

/** `medad data …`: synthesize the embedded benchmark, count it, run the baselines, validate JSONL, zoom, import. */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('build, inspect, validate and import MedAD benchmarks');

  // The generator's knobs (difficulty, CoT noise, …) become flags from the plugin's config schema;
  // the fields below have hand-written flags (or are set by the command).
  const handWritten = ['dir', 'build', 'cacheDir', 'samples', 'seed', 'imageSize', 'zoom', 'cotFormat'];
  const synth = data
    .command('synth')
    .description('write the embedded benchmark: <out>/images/*.png, samples.jsonl, dataset.json (same seed and knobs ⇒ same bytes)')
    .requiredOption('--out <dir>', 'output directory')
    .option('--samples <n>', 'number of samples', integer('--samples', 10, 1_000_000), DEFAULT_SAMPLES)
    .option('--seed <n>', 'generator seed', integer('--seed', 0, 0xffffffff), 0)
    .option('--image-size <px>', 'stored image side in pixels', integer('--image-size', 24, 512), DEFAULT_IMAGE_SIZE)
    .option('--zoom', 'embed the local-zoom inset (MedReason-R1) of the lesion in every image')
    .option('--cot-format <f>', 'how each CoT names its answer: letter-first "(C) CT" or text-first "CT (C)" (text-first pairs with the policy\'s option-match features)', DEFAULT_COT_FORMAT);
  addSectionFlags(synth, syntheticDatasetConfig, handWritten)
    .option('--print-spec', 'print the resolved run spec (JSON, for `medad run`) instead of running it')
    .action(async (o: { out: string; samples: number; seed: number; imageSize: number; zoom?: boolean; cotFormat: CotFormat; printSpec?: boolean } & Record<string, unknown>) => {
      // Regenerates when the directory holds a benchmark made with other settings (build: changed).
      const knobs = sectionValues(o, syntheticDatasetConfig);
      for (const field of handWritten) delete knobs[field];
      const config = { ...knobs, samples: o.samples, seed: o.seed, imageSize: o.imageSize, zoom: Boolean(o.zoom), cotFormat: o.cotFormat, build: 'changed' };
      const spec = parseRunSpec({ kind: 'dataset', out: resolve(o.out), generator: { plugin: 'synthetic', config } }, 'flags');
      if (o.printSpec) {
        process.stdout.write(JSON.stringify(spec, null, 2) + '\n');
        return;
      }
      const started = Date.now();
      const outcome = await runSpecNow(spec, undefined, true, progress());
      if (outcome.kind !== 'dataset') return;
      const { counts, id } = outcome.info;
      process.stdout.write(`wrote ${(counts.train ?? 0) + (counts.test ?? 0)} samples (${counts.train ?? 0} train, ${counts.test ?? 0} test) to ${outcome.dir} in ${((Date.now() - started) / 1000).toFixed(1)} s [${id}]\n`);
    });

  data
    .command('stats')
    .description('counts by split, task, modality, anatomy, source and answer letter')
    .argument('<dir>', 'dataset directory')
    .option('--json', 'print JSON')
    .action((dir: string, o: { json?: boolean }) => {
      const s = datasetStats(requireDir(dir, 'dataset'));
      if (o.json) process.stdout.write(JSON.stringify(s, null, 2) + '\n');
      else printStats(s);
    });

  data
    .command('baselines')
    .description('train the image-only and text-only baselines on the train split; print test accuracy per task')
    .argument('<dir>', 'dataset directory')
    .option('--seed <n>', 'seed of the held-out split that picks the L2 penalty', integer('--seed', 0, 0xffffffff), 0)
    .option('--json', 'print JSON (with per-sample predictions)')
    .action((dir: string, o: { seed: number; json?: boolean }) => {
      const r = runBaselines(requireDir(dir, 'dataset'), { seed: o.seed, progress: progress() });
      if (o.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      const order = (t: string) => TASKS.indexOf(t as (typeof TASKS)[number]);
      printTable(
        ['task', 'train', 'test', 'image-only %', 'text-only %', 'chance %'],
        [...r.rows].sort((a, b) => order(a.task) - order(b.task)).map((row) => [row.task, row.train, row.test, row.imageOnly.toFixed(1), row.textOnly.toFixed(1), '25.0']),
      );
      process.stdout.write(`overall (${r.overall.test} test samples): image-only ${r.overall.imageOnly.toFixed(1)}%, text-only ${r.overall.textOnly.toFixed(1)}%  [${r.seconds.toFixed(1)} s]\n`);
    });

  data
    .command('validate')
    .description('check every line of a samples JSONL file; prints file:line field: problem for each bad one')
    .argument('<file>', 'JSONL file')
    .action((file: string) => {
      const r = readSamplesJsonl(resolve(file));
      for (const issue of r.issues) process.stdout.write(formatIssue(issue) + '\n');
      process.stdout.write(`${r.lines} lines: ${r.samples.length} valid, ${r.skipped} invalid\n`);
      if (r.skipped) process.exitCode = 1;
    });

  data
    .command('zoom')
    .description('copy a dataset with the local-zoom inset (MedReason-R1) embedded in every image (ROI from bbox or mask)')
    .argument('<dir>', 'source dataset directory')
    .requiredOption('--out <dir>', 'output dataset directory')
    .option('--seed <n>', 'seed of decoy regions and corners', integer('--seed', 0, 0xffffffff), 0)
    .action((dir: string, o: { out: string; seed: number }) => {
      const r = zoomDatasetDir(requireDir(dir, 'dataset'), resolve(o.out), { seed: o.seed, progress: progress() });
      process.stdout.write(`wrote ${r.samples} zoomed samples to ${resolve(o.out)}\n`);
    });

  registerImport(data);
}
