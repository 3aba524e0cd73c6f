import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int } from 'type-graphql';
import type { RunStatus } from '@medad/core';
import type { RunKind } from '../domain.js';
import { RunKindEnum, RunStatusEnum } from './run.type.js';

/**
 * The GraphQL inputs are a view of the run specs (@medad/core runspec): `hyper` and `compute` are
 * JSON objects validated by the spec's schemas (fields, ranges and defaults live there; the
 * `runSpecSchema(kind)` query returns them as JSON Schema), and errors name the field
 * (`input.hyper.steps`). Only the evaluation's seeds default differently: [1, 2, 3], sampled.
 */
export const EVAL_INPUT_DEFAULTS = { seeds: [1, 2, 3], split: 'test' as const };

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
  @Field(() => String, { defaultValue: 'tfjs-vlm' })
  plugin!: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "Validated against the plugin's config schema, e.g. { preset: \"tiny\", model: { dModel: 48 } }." })
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
  @Field(() => String, { defaultValue: 'rule' })
  plugin!: string;
  @Field(() => GraphQLJSONObject, { nullable: true })
  config?: Record<string, unknown>;
}

/** `startSftRun`. */
@InputType()
export class SftRunInput {
  @Field(() => DatasetInput)
  dataset!: DatasetInput;
  @Field(() => BackboneInput, { nullable: true })
  backbone?: BackboneInput;
  @Field(() => Int, { nullable: true, description: 'Default 0.' })
  seed?: number;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'SFT hyper-parameters (the sft spec\'s `hyper`: steps, batchSize, lr, saveEvery, grounding, …); omitted fields take the spec defaults.' })
  hyper?: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Compute settings (the spec\'s `compute`: device, gradEngine, threads, backend).' })
  compute?: Record<string, unknown>;
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
  @Field(() => Int, { nullable: true, description: 'Default 0.' })
  seed?: number;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Con-GRPO hyper-parameters (the con-grpo spec\'s `hyper`: steps, promptsPerStep, groupSize, beta, epsilon, lr, temperature, oversample, mu, advantageScale, …); omitted fields take the spec defaults.' })
  hyper?: Record<string, unknown>;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Compute settings (the spec\'s `compute`: device, gradEngine, threads, backend).' })
  compute?: Record<string, unknown>;
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
  @Field(() => String, { nullable: true, description: 'none (default), predicted (zoom into the region the model predicts; needs a grounding head) or oracle (into the labelled lesion box, an upper bound).' })
  zoom?: string;
}

/** `buildDataset`: the embedded benchmark generator. */
@InputType()
export class BuildDatasetInput {
  @Field(() => String, { description: 'Directory name under the first dataset root; also the dataset id.' })
  name!: string;
  @Field(() => Int, { nullable: true, description: "Default: the synthetic generator's (2,000)." })
  samples?: number;
  @Field(() => Int, { nullable: true, description: "Default: the synthetic generator's (0)." })
  seed?: number;
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
