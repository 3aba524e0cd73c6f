/**
 * The validated configs runs are stored with (`runs.config`), one per run kind. The GraphQL
 * inputs are turned into these by the run service; `run-commands.ts` turns them into argv.
 */

/** A dataset: a directory, or the output of a `buildDataset` run (resolved when the run starts). */
export type DatasetRef = { path: string } | { fromRun: string };

/** A checkpoint: a path, or the latest checkpoint of a training run (resolved when the run starts). */
export type CheckpointRef = { path: string } | { fromRun: string };

/** A plugin choice with its (already validated) config. */
export interface PluginChoice {
  plugin: string;
  config: Record<string, unknown>;
}

/** A reward and its weight λ in R = Σ λ·R_i. */
export interface WeightedReward extends PluginChoice {
  weight: number;
}

/** `buildDataset`: the embedded benchmark generator. */
export interface BuildDatasetConfig {
  name: string;
  samples: number;
  seed: number;
  zoom: boolean;
  /** Absolute output directory (inside the first dataset root). */
  outDir: string;
}

/** Stage 1 hyper-parameters. */
export interface SftHyper {
  steps: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  /** Save a checkpoint every N steps (what a resume restarts from). */
  checkpointEvery: number;
  /** `auto`, `ort` or `tfjs` (absent in configs stored before it existed = auto). */
  gradEngine?: string;
  /** Grounding loss weight (absent in configs stored before it existed = the trainer's default). */
  grounding?: number;
}

/** `startSftRun`. */
export interface SftConfig {
  dataset: DatasetRef;
  backbone: PluginChoice & { preset: string };
  seed: number;
  hyper: SftHyper;
}

/** Stage 2 hyper-parameters (paper defaults: G=8, β=0.04, ε=0.2, lr 1e-6). */
export interface ConGrpoHyper {
  steps: number;
  promptsPerStep: number;
  groupSize: number;
  beta: number;
  clipEpsilon: number;
  learningRate: number;
  temperature: number;
  checkpointEvery: number;
  /** DAPO dynamic sampling factor (absent in configs stored before it existed = the trainer default). */
  oversample?: number;
  gradEngine?: string;
}

/** `startConGrpoRun`. */
export interface ConGrpoConfig {
  dataset: DatasetRef;
  from: CheckpointRef;
  rewards: WeightedReward[];
  judge: PluginChoice;
  seed: number;
  hyper: ConGrpoHyper;
}

/** `startEvaluation`. */
export interface EvalConfig {
  dataset: DatasetRef;
  checkpoint: CheckpointRef;
  judge: PluginChoice;
  seeds: number[];
  /** Greedy answers once, or sampled answers once per seed (then mean ± std is over seeds). */
  decoding: 'greedy' | 'sample';
  split: 'train' | 'test';
  /** Only the first N samples (quick looks); undefined = the whole split. */
  limit?: number;
}
