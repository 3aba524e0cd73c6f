import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CON_GRPO_DEFAULTS, SFT_DEFAULTS } from '@medad/trainer';
import { RUN_DEFAULTS } from './run.input.js';

test('the control plane applies the trainer’s own defaults to omitted hyper-parameters', () => {
  assert.deepEqual(RUN_DEFAULTS.sft, {
    steps: SFT_DEFAULTS.steps,
    batchSize: SFT_DEFAULTS.batchSize,
    learningRate: SFT_DEFAULTS.lr,
    warmupSteps: SFT_DEFAULTS.warmupSteps,
    checkpointEvery: SFT_DEFAULTS.saveEvery,
    gradEngine: SFT_DEFAULTS.gradEngine,
    grounding: SFT_DEFAULTS.grounding,
  });
  assert.equal(RUN_DEFAULTS.backbone.preset, SFT_DEFAULTS.preset);
  assert.deepEqual(RUN_DEFAULTS.conGrpo, {
    steps: CON_GRPO_DEFAULTS.steps,
    promptsPerStep: CON_GRPO_DEFAULTS.promptsPerStep,
    groupSize: CON_GRPO_DEFAULTS.groupSize,
    beta: CON_GRPO_DEFAULTS.beta,
    clipEpsilon: CON_GRPO_DEFAULTS.epsilon,
    learningRate: CON_GRPO_DEFAULTS.lr,
    temperature: CON_GRPO_DEFAULTS.temperature,
    checkpointEvery: CON_GRPO_DEFAULTS.saveEvery,
    oversample: CON_GRPO_DEFAULTS.oversample,
    gradEngine: CON_GRPO_DEFAULTS.gradEngine,
  });
});
