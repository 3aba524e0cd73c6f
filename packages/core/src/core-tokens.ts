import type { Dataset } from './contracts/dataset.js';
import type { Judge } from './contracts/judge.js';
import type { Reward } from './contracts/reward.js';
import type { RunSpec } from './runspec.js';
import type { EventSink, ProgressReporter } from './events.js';
import type { Logger } from './logger.js';
import type { PluginRegistry } from './registry.js';
import type { SeededRng } from './rng.js';
import { createToken } from './tokens.js';

/** Identity and location of the current run. */
export interface RunInfo {
  runId: string;
  /** Directory holding the run's checkpoints, metrics and reports. */
  dir: string;
  seed: number;
}

/** Structured logger. */
export const LoggerToken = createToken<Logger>('Logger');
/** Where run events go. */
export const EventSinkToken = createToken<EventSink>('EventSink');
/** Progress bars for long work. */
export const ProgressToken = createToken<ProgressReporter>('Progress');
/** The run's seeded RNG. */
export const RngToken = createToken<SeededRng>('Rng');
/** The current run. */
export const RunInfoToken = createToken<RunInfo>('RunInfo');
/** The plugin registry. */
export const PluginRegistryToken = createToken<PluginRegistry>('PluginRegistry');
/** The judge a consistency reward consults. */
export const JudgeToken = createToken<Judge>('Judge');
/** The run's resolved spec. */
export const RunSpecToken = createToken<RunSpec>('RunSpec');
/** The dataset a run reads (composed from its spec through the registry). */
export const DatasetToken = createToken<Dataset>('Dataset');
/** The weighted reward terms of R = Σ λ·R (composed from the spec through the registry). */
export const RewardsToken = createToken<Array<{ reward: Reward; weight: number }>>('Rewards');
