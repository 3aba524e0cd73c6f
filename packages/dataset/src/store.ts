import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ErrorCode, MedadError, SPLITS, errorMessage, z, type MedAdSample, type RawImage, type Split, type Task } from '@medad/core';
import type { Dataset, DatasetInfo } from '@medad/core';
import { readImageFile } from './image/codec.js';
import { formatIssue, readSamplesJsonl, type JsonlIssue } from './jsonl.js';

/** The samples file inside a dataset directory. */
export const SAMPLES_FILE = 'samples.jsonl';
/** The descriptor file inside a dataset directory. */
export const DESCRIPTOR_FILE = 'dataset.json';

/** `dataset.json`: what a dataset directory holds and how it was made. */
export const DatasetDescriptorSchema = z.object({
  format: z.literal('medad-jsonl'),
  version: z.literal(1),
  id: z.string().min(1),
  name: z.string().min(1),
  samplesFile: z.string().min(1).default(SAMPLES_FILE),
  /** How the dataset was made (generator and its parameters, importer and its inputs). */
  provenance: z.record(z.string(), z.unknown()).optional(),
});
/** A parsed `dataset.json`. */
export type DatasetDescriptor = z.output<typeof DatasetDescriptorSchema>;

/** Writes `dataset.json` (stable key order, trailing newline). */
export function writeDescriptor(dir: string, descriptor: DatasetDescriptor): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, DESCRIPTOR_FILE), JSON.stringify(descriptor, null, 2) + '\n');
}

/** Reads `dataset.json` if present; otherwise a descriptor named after the directory. */
export function readDescriptor(dir: string): DatasetDescriptor {
  const file = join(dir, DESCRIPTOR_FILE);
  if (!existsSync(file)) {
    return { format: 'medad-jsonl', version: 1, id: basename(resolve(dir)), name: basename(resolve(dir)), samplesFile: SAMPLES_FILE };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MedadError(ErrorCode.InvalidData, `${file}:1 (file): not valid JSON (${errorMessage(err)})`, {
      fix: 'repair the JSON or delete dataset.json (the directory name is then used as the id)',
    });
  }
  const parsed = DatasetDescriptorSchema.safeParse(raw);
  if (!parsed.success) {
    const what = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new MedadError(ErrorCode.InvalidData, `${file} is not a dataset descriptor: ${what}`, {
      fix: 'give it {"format":"medad-jsonl","version":1,"id":...,"name":...} or delete it',
    });
  }
  return parsed.data;
}

/** A dataset directory loaded into memory: good samples plus the issues of the bad lines. */
export interface LoadedDataset {
  root: string;
  descriptor: DatasetDescriptor;
  samples: MedAdSample[];
  issues: JsonlIssue[];
}

/** Loads `<dir>/samples.jsonl` (and `dataset.json`); bad lines are reported in `issues`, good ones kept. */
export function loadDatasetDir(dir: string): LoadedDataset {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new MedadError(ErrorCode.NotFound, `Dataset directory ${root} does not exist`, {
      fix: 'create one with `medad data synth --out DIR` or point to a directory holding samples.jsonl',
    });
  }
  const descriptor = readDescriptor(root);
  const file = join(root, descriptor.samplesFile);
  if (!existsSync(file)) {
    throw new MedadError(ErrorCode.NotFound, `${root} has no ${descriptor.samplesFile}`, {
      fix: 'a dataset directory holds samples.jsonl (one MedAdSample per line) and the images it references',
    });
  }
  const { samples, issues } = readSamplesJsonl(file);
  return { root, descriptor, samples, issues };
}

/** A {@link Dataset} over a directory of `samples.jsonl` + images (what both dataset plugins return). */
export class JsonlDataset implements Dataset {
  readonly root: string;
  readonly descriptor: DatasetDescriptor;
  /** Problems with lines that were skipped (empty when every line is valid). */
  readonly issues: JsonlIssue[];
  private readonly bySplit = new Map<Split, MedAdSample[]>();
  private readonly all: MedAdSample[];

  constructor(loaded: LoadedDataset) {
    this.root = loaded.root;
    this.descriptor = loaded.descriptor;
    this.issues = loaded.issues;
    this.all = loaded.samples;
    for (const s of loaded.samples) {
      const list = this.bySplit.get(s.split) ?? [];
      list.push(s);
      this.bySplit.set(s.split, list);
    }
    if (this.all.length === 0) {
      const first = loaded.issues.slice(0, 3).map(formatIssue).join('; ');
      throw new MedadError(ErrorCode.InvalidData, `Dataset ${this.root} has no valid samples${first ? `: ${first}` : ''}`, {
        fix: 'run `medad data validate <file>` to list every bad line, then repair them',
      });
    }
  }

  /** Opens a dataset directory. */
  static open(dir: string): JsonlDataset {
    return new JsonlDataset(loadDatasetDir(dir));
  }

  describe(): DatasetInfo {
    const counts: Partial<Record<Split, number>> = {};
    const tasks: Partial<Record<Task, number>> = {};
    for (const s of this.all) {
      counts[s.split] = (counts[s.split] ?? 0) + 1;
      tasks[s.task] = (tasks[s.task] ?? 0) + 1;
    }
    return { id: this.descriptor.id, name: this.descriptor.name, root: this.root, counts, tasks };
  }

  splits(): Split[] {
    return SPLITS.filter((s) => this.bySplit.has(s));
  }

  /** Every valid sample of a split, in file order. */
  list(split?: Split): MedAdSample[] {
    return split ? (this.bySplit.get(split) ?? []) : this.all;
  }

  async *samples(split: Split): AsyncIterable<MedAdSample> {
    for (const s of this.bySplit.get(split) ?? []) yield s;
  }

  async loadImage(sample: MedAdSample): Promise<RawImage> {
    return readImageFile(join(this.root, sample.image));
  }
}
