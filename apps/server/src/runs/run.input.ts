import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int } from 'type-graphql';
import type { RunStatus } from '@medad/core';
import type { RunKind } from '../domain.js';
import { RunKindEnum, RunStatusEnum } from './run.type.js';

/**
 * Defaults applied to omitted inputs: the trainer's own defaults (SFT_DEFAULTS, CON_GRPO_DEFAULTS
 * in @medad/trainer; a test keeps them equal). Con-GRPO uses the paper's G=8, β=0.04, ε=0.2,
 * λ = 1/3 each, but lr 1e-4 instead of the paper's 1e-6: our policy is ~10⁴× smaller and trains
 * for ~100 steps, where 1e-6 moves nothing (see packages/trainer/README.md).
 */
export const RUN_DEFAULTS = {
  seed: 42,
  backbone: { plugin: 'tfjs-vlm', preset: 'small' },
  judge: 'rule',
  sft: { steps: 8000, batchSize: 16, learningRate: 2e-3, warmupSteps: 50, checkpointEvery: 100, gradEngine: 'auto', grounding: 1 },
  conGrpo: { steps: 100, promptsPerStep: 8, groupSize: 8, beta: 0.04, clipEpsilon: 0.2, learningRate: 1e-4, temperature: 1, checkpointEvery: 25, oversample: 3, gradEngine: 'auto' },
  rewards: [
    { plugin: 'format', weight: 1 / 3 },
    { plugin: 'accuracy', weight: 1 / 3 },
    { plugin: 'consistency', weight: 1 / 3 },
  ],
  evalSeeds: [1, 2, 3],
  split: 'test' as const,
  dataset: { samples: 2000, seed: 42 },
};

const GRAD_ENGINE_DESCRIPTION = 'Gradient engine: auto (ONNX Runtime unless the config needs tfjs), ort or tfjs.';

/** Where a run reads its data: exactly one of a known dataset id, a path under a dataset root, or a buildDataset run. */
@InputType({ description: 'Exactly one of id, path or fromRun.' })
export class DatasetInput {
  @Field(() => String, { nullable: true, description: 'Id of a dataset listed by the `datasets` query.' })
  id?: string;
  @Field(() => String, { nullable: true, description: 'A dataset directory under one of the configured dataset roots.' })
  path?: string;
  @Field(() => ID, { nullable: true, description: 'A buildDataset run; this run waits for it to succeed.' })
  fromRun?: string;
}

/** Where a run reads a checkpoint: exactly one of a path or a training run's latest checkpoint. */
@InputType({ description: 'Exactly one of path or fromRun.' })
export class CheckpointInput {
  @Field(() => String, { nullable: true, description: 'A checkpoint under one of the configured checkpoint roots.' })
  path?: string;
  @Field(() => ID, { nullable: true, description: "A training run; its latest checkpoint when this run starts (this run waits for it)." })
  fromRun?: string;
}

/** The policy's backbone plugin. */
@InputType()
export class BackboneInput {
  @Field(() => String, { defaultValue: RUN_DEFAULTS.backbone.plugin })
  plugin!: string;
  @Field(() => String, { defaultValue: RUN_DEFAULTS.backbone.preset })
  preset!: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "Validated against the plugin's config schema." })
  config?: Record<string, unknown>;
}

/** One reward term and its weight λ in R = Σ λ·R. */
@InputType()
export class RewardInput {
  @Field(() => String, { description: 'A reward plugin id (see `plugins(kind: "reward")`).' })
  plugin!: string;
  @Field(() => Float)
  weight!: number;
  @Field(() => GraphQLJSONObject, { nullable: true })
  config?: Record<string, unknown>;
}

/** The judge that deduces an answer from the think text (consistency reward and rate). */
@InputType()
export class JudgeInput {
  @Field(() => String, { defaultValue: RUN_DEFAULTS.judge })
  plugin!: string;
  @Field(() => GraphQLJSONObject, { nullable: true })
  config?: Record<string, unknown>;
}

/** Stage 1 (SFT) hyper-parameters. */
@InputType()
export class SftHyperInput {
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.sft.steps })
  steps!: number;
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.sft.batchSize })
  batchSize!: number;
  @Field(() => Float, { defaultValue: RUN_DEFAULTS.sft.learningRate })
  learningRate!: number;
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.sft.warmupSteps })
  warmupSteps!: number;
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.sft.checkpointEvery })
  checkpointEvery!: number;
  @Field(() => String, { defaultValue: RUN_DEFAULTS.sft.gradEngine, description: GRAD_ENGINE_DESCRIPTION })
  gradEngine!: string;
  @Field(() => Float, {
    defaultValue: RUN_DEFAULTS.sft.grounding,
    description: "Weight of the lesion grounding loss: the image tokens also learn which patches a sample's bbox covers (0 = off).",
  })
  grounding!: number;
}

/** Stage 2 (Con-GRPO) hyper-parameters. */
@InputType()
export class ConGrpoHyperInput {
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.conGrpo.steps })
  steps!: number;
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.conGrpo.promptsPerStep })
  promptsPerStep!: number;
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.conGrpo.groupSize, description: 'G, completions per prompt.' })
  groupSize!: number;
  @Field(() => Float, { defaultValue: RUN_DEFAULTS.conGrpo.beta, description: 'β, KL weight to the frozen SFT policy.' })
  beta!: number;
  @Field(() => Float, { defaultValue: RUN_DEFAULTS.conGrpo.clipEpsilon, description: 'ε, ratio clip.' })
  clipEpsilon!: number;
  @Field(() => Float, { defaultValue: RUN_DEFAULTS.conGrpo.learningRate })
  learningRate!: number;
  @Field(() => Float, { defaultValue: RUN_DEFAULTS.conGrpo.temperature })
  temperature!: number;
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.conGrpo.checkpointEvery })
  checkpointEvery!: number;
  @Field(() => Float, {
    defaultValue: RUN_DEFAULTS.conGrpo.oversample,
    description: 'Dynamic sampling (DAPO): roll out oversample × promptsPerStep prompts, train on the groups whose rewards differ (1 = off).',
  })
  oversample!: number;
  @Field(() => String, { defaultValue: RUN_DEFAULTS.conGrpo.gradEngine, description: GRAD_ENGINE_DESCRIPTION })
  gradEngine!: string;
}

/** `startSftRun`. */
@InputType()
export class SftRunInput {
  @Field(() => DatasetInput)
  dataset!: DatasetInput;
  @Field(() => BackboneInput, { nullable: true })
  backbone?: BackboneInput;
  @Field(() => Int, { nullable: true, description: `Default ${RUN_DEFAULTS.seed}.` })
  seed?: number;
  @Field(() => SftHyperInput, { nullable: true })
  hyper?: SftHyperInput;
}

/** `startConGrpoRun`. */
@InputType()
export class ConGrpoRunInput {
  @Field(() => DatasetInput)
  dataset!: DatasetInput;
  @Field(() => CheckpointInput, { description: 'The SFT checkpoint to start from (also the frozen KL reference).' })
  from!: CheckpointInput;
  @Field(() => [RewardInput], { nullable: true, description: 'Default: format, accuracy, consistency with weight 1/3 each.' })
  rewards?: RewardInput[];
  @Field(() => JudgeInput, { nullable: true })
  judge?: JudgeInput;
  @Field(() => Int, { nullable: true })
  seed?: number;
  @Field(() => ConGrpoHyperInput, { nullable: true })
  hyper?: ConGrpoHyperInput;
}

/** `startEvaluation`. */
@InputType()
export class EvaluationInput {
  @Field(() => DatasetInput)
  dataset!: DatasetInput;
  @Field(() => CheckpointInput)
  checkpoint!: CheckpointInput;
  @Field(() => JudgeInput, { nullable: true })
  judge?: JudgeInput;
  @Field(() => [Int], { nullable: true, description: 'Default [1, 2, 3]: results are mean ± std over these seeds.' })
  seeds?: number[];
  @Field(() => String, { nullable: true, description: 'greedy, or sample (temperature 1, one pass per seed). Default: sample when more than one seed is given, else greedy.' })
  decoding?: string;
  @Field(() => String, { nullable: true, description: 'train or test (default test).' })
  split?: string;
  @Field(() => Int, { nullable: true, description: 'Only the first N samples of the split.' })
  limit?: number;
}

/** `buildDataset`: the embedded benchmark generator. */
@InputType()
export class BuildDatasetInput {
  @Field(() => String, { description: 'Directory name under the first dataset root; also the dataset id.' })
  name!: string;
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.dataset.samples })
  samples!: number;
  @Field(() => Int, { defaultValue: RUN_DEFAULTS.dataset.seed })
  seed!: number;
  @Field(() => Boolean, { defaultValue: false, description: 'Embed a zoomed inset of the region of interest (MedReason-R1).' })
  zoom!: boolean;
}

/** Which runs `runs` lists. */
@InputType()
export class RunFilter {
  @Field(() => [RunKindEnum], { nullable: true })
  kinds?: RunKind[];
  @Field(() => [RunStatusEnum], { nullable: true })
  statuses?: RunStatus[];
}
