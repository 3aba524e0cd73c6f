import type { MedAdSample, RawImage, Split, Task } from '../domain.js';

/** Summary of a dataset, as `describe()` returns it. */
export interface DatasetInfo {
  /** Stable identifier (e.g. `synthetic-s42-n2000`). */
  id: string;
  /** Human-readable name. */
  name: string;
  /** Absolute directory that sample image paths are relative to. */
  root: string;
  /** Sample counts per split. */
  counts: Partial<Record<Split, number>>;
  /** Sample counts per task, over all splits. */
  tasks: Partial<Record<Task, number>>;
}

/** The dataset contract (DESIGN.md §3): describe, list splits, iterate samples, load images. */
export interface Dataset {
  describe(): DatasetInfo | Promise<DatasetInfo>;
  splits(): Split[] | Promise<Split[]>;
  samples(split: Split): AsyncIterable<MedAdSample>;
  /** Decodes a sample's image (relative to the dataset root). */
  loadImage(sample: MedAdSample): Promise<RawImage>;
}
