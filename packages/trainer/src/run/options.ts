import type { Dataset, EventSink, Logger, ProgressReporter, TrainablePolicyRequest } from '@medad/core';
import type { VlmConfig, VlmPreset } from '@medad/policy';

/**
 * What every training run (SFT, Con-GRPO) takes besides its hyper-parameters: where the data and
 * the run directory are, the policy it starts from, and the composed run's services.
 */
export interface TrainRunOptions {
  dataDir: string;
  /** Run directory: `metrics.jsonl`, `checkpoint/`, `run.json`. Re-running resumes from its checkpoint. */
  outDir: string;
  /** The dataset to train on (composed from the spec); default: the `dataDir` directory. */
  dataset?: Dataset;
  /**
   * A checkpoint (or run directory) whose weights and tokenizer a fresh run starts from: for SFT
   * e.g. the base stage's; for Con-GRPO the SFT's (omitted: RL-only from a fresh policy).
   */
  from?: string;
  preset?: VlmPreset;
  /** Overrides of the preset's model config for a fresh policy (e.g. `{ dModel: 64 }`). */
  modelConfig?: Partial<VlmConfig>;
  /** Creates the fresh policy (a trainable backbone's `createTrainable`, composed from the spec); default: `preset` + `modelConfig`. */
  createPolicy?: (request: TrainablePolicyRequest) => Promise<unknown>;
  seed?: number;
  runId?: string;
  sink?: EventSink;
  progress?: ProgressReporter;
  logger?: Logger;
  /** Stop (as if killed) after this many steps of this invocation; for resume tests. */
  stopAfter?: number;
}
