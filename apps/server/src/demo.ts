import { DEMO_DEFAULTS } from '@medad/core';
import type { RunRecord } from './domain.js';
import type { RunService } from './runs/run.service.js';
import type { Store } from './store/store.js';

/** Sizes of the demo pipeline (defaults: `DEMO_DEFAULTS` of @medad/core and the training defaults). */
export interface DemoOptions {
  samples?: number;
  sftSteps?: number;
  grpoSteps?: number;
  /** Evaluate on the first N test questions (undefined = all). */
  evalLimit?: number;
}

/**
 * On an empty database, queues the demo pipeline: build the embedded benchmark → SFT → Con-GRPO
 * → evaluation, each waiting for the previous one; returns the queued runs (none when the
 * database already holds runs).
 */
export async function queueDemoPipeline(store: Store, runs: RunService, o: DemoOptions = {}): Promise<RunRecord[]> {
  if (!(await store.isEmpty())) return [];
  const existing = (await store.datasets()).find((d) => d.id === 'demo');
  const built = existing ? undefined : await runs.buildDataset({ name: 'demo', samples: o.samples ?? DEMO_DEFAULTS.samples, seed: 42, zoom: false });
  const dataset = built ? { fromRun: built.id } : { id: 'demo' };
  const sft = await runs.startSft({ dataset, seed: 42, ...(o.sftSteps ? { hyper: { steps: o.sftSteps } } : {}) });
  const grpo = await runs.startConGrpo({ dataset, from: { fromRun: sft.id }, seed: 42, ...(o.grpoSteps ? { hyper: { steps: o.grpoSteps } } : {}) });
  const evaluation = await runs.startEvaluation({ dataset, checkpoint: { fromRun: grpo.id }, seeds: [1, 2, 3], limit: o.evalLimit ?? DEMO_DEFAULTS.evalLimit });
  return [...(built ? [built] : []), sft, grpo, evaluation];
}
