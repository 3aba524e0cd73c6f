import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { RunStatus } from '@medad/core';
import { RunKind } from '../domain.js';

/** An enum object whose GraphQL value names are its values (QUEUED, SFT...), whatever the TS key spelling. */
function byValue<E extends Record<string, string>>(e: E): Record<string, E[keyof E]> {
  return Object.fromEntries(Object.values(e).map((v) => [v, v])) as Record<string, E[keyof E]>;
}

/** RunKind as registered with GraphQL. */
export const RunKindEnum = byValue(RunKind);
/** RunStatus as registered with GraphQL. */
export const RunStatusEnum = byValue(RunStatus);
registerEnumType(RunKindEnum, { name: 'RunKind', description: 'What a run does.' });
registerEnumType(RunStatusEnum, { name: 'RunStatus', description: 'Lifecycle of a run.' });

/** A run (dataset build, SFT, Con-GRPO or evaluation); its other fields are resolved by RunResolver. */
@ObjectType('Run')
export class RunType {
  @Field(() => ID)
  id!: string;
  @Field(() => RunKindEnum)
  kind!: RunKind;
  @Field(() => RunStatusEnum)
  status!: RunStatus;
  @Field(() => String, { nullable: true, description: 'Why the run ended as it did (exit code, signal and last stderr lines on failure).' })
  statusMessage!: string | null;
  @Field(() => GraphQLJSONObject, { description: 'The validated config the run was started with.' })
  config!: Record<string, unknown>;
  @Field(() => [String], { nullable: true, description: 'The child command of the last attempt (after `medad`).' })
  command!: string[] | null;
  @Field(() => String, { description: 'Directory with the run outputs and logs.' })
  dir!: string;
  @Field(() => String, { nullable: true, description: 'Compute backend the run reported (wasm, tensorflow, ort-cpu...).' })
  backend!: string | null;
  @Field(() => ID, { nullable: true })
  dependsOn!: string | null;
  @Field(() => Int)
  attempts!: number;
  @Field(() => Int, { nullable: true, description: 'Process id while running.' })
  pid!: number | null;
  @Field(() => String, { nullable: true })
  worker!: string | null;
  @Field(() => GraphQLISODateTime)
  createdAt!: Date;
  @Field(() => GraphQLISODateTime, { nullable: true })
  startedAt!: Date | null;
  @Field(() => GraphQLISODateTime, { nullable: true })
  finishedAt!: Date | null;
}

/** All the scalars a run reported at one step. */
@ObjectType()
export class MetricPoint {
  @Field(() => ID)
  runId!: string;
  @Field(() => Int)
  step!: number;
  @Field(() => GraphQLISODateTime)
  time!: Date;
  @Field(() => GraphQLJSONObject, { description: 'Metric name → value (loss, reward, kl, accuracy...).' })
  values!: Record<string, number>;
}

/** A checkpoint a training run saved. */
@ObjectType()
export class Checkpoint {
  @Field(() => Int)
  step!: number;
  @Field(() => String)
  path!: string;
  @Field(() => GraphQLISODateTime)
  createdAt!: Date;
}

/** A status change or log line of a run. */
@ObjectType()
export class RunEventEntry {
  @Field(() => String, { description: 'status or log' })
  type!: string;
  @Field(() => RunStatusEnum, { nullable: true })
  status!: RunStatus | null;
  @Field(() => String, { nullable: true })
  level!: string | null;
  @Field(() => String, { nullable: true })
  message!: string | null;
  @Field(() => GraphQLISODateTime)
  time!: Date;
}

/** A run changed status (subscription payload). */
@ObjectType()
export class RunStatusChange {
  @Field(() => ID)
  runId!: string;
  @Field(() => RunKindEnum)
  kind!: RunKind;
  @Field(() => RunStatusEnum)
  status!: RunStatus;
  @Field(() => String, { nullable: true })
  message!: string | null;
  @Field(() => GraphQLISODateTime)
  time!: Date;
}

/** A metric as mean ± sample std over seeds (percent). */
@ObjectType()
export class Score {
  @Field(() => Float, { nullable: true })
  mean!: number | null;
  @Field(() => Float, { nullable: true })
  std!: number | null;
}

/** Accuracy on one of the five MedAD tasks. */
@ObjectType()
export class TaskScore {
  @Field(() => String, { description: 'anatomy_identification, modality_classification, anomaly_detection, pathology_characterization or lesion_localization.' })
  task!: string;
  @Field(() => Float, { nullable: true })
  mean!: number | null;
  @Field(() => Float, { nullable: true })
  std!: number | null;
}

/** An evaluation's table (the paper's Table 1 row): per task, overall, consistency, format. */
@ObjectType()
export class Evaluation {
  @Field(() => Score)
  overall!: Score;
  @Field(() => [TaskScore])
  perTask!: TaskScore[];
  @Field(() => Score, { nullable: true })
  consistency!: Score | null;
  @Field(() => Score, { nullable: true })
  formatRate!: Score | null;
  @Field(() => Float, { nullable: true })
  invalidRate!: number | null;
  @Field(() => Score, { nullable: true })
  thinkCorrectness!: Score | null;
  @Field(() => [Int])
  seeds!: number[];
  @Field(() => Int, { nullable: true, description: 'Questions evaluated per seed.' })
  n!: number | null;
  @Field(() => GraphQLJSONObject, { description: 'eval.json as written by the evaluation.' })
  raw!: Record<string, unknown>;
}

/** Relay page info. */
@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;
  @Field(() => Boolean)
  hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true })
  startCursor!: string | null;
  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

/** A run and its cursor. */
@ObjectType()
export class RunEdge {
  @Field(() => String)
  cursor!: string;
  @Field(() => RunType)
  node!: RunType;
}

/** A page of runs, newest first. */
@ObjectType()
export class RunConnection {
  @Field(() => [RunEdge])
  edges!: RunEdge[];
  @Field(() => PageInfo)
  pageInfo!: PageInfo;
  @Field(() => Int, { description: 'Runs matching the filter, over all pages.' })
  totalCount!: number;
}

/** A paired difference A − B in accuracy points (the evaluator's hierarchical bootstrap over seeds, then questions). */
@ObjectType()
export class PairedDifferenceType {
  @Field(() => String, { description: 'A task, or "overall".' })
  task!: string;
  @Field(() => Float, { nullable: true, description: 'Mean over shared seeds of the per-seed accuracy difference on shared questions; null when nothing is shared.' })
  mean!: number | null;
  @Field(() => [Float], { description: 'The 95% interval [low, high]; empty when nothing is shared.' })
  ci95!: number[];
  @Field(() => [Int], { description: 'Seeds both evaluations answered.' })
  seeds!: number[];
  @Field(() => Int, { description: 'Paired questions per seed (the smallest).' })
  questions!: number;
  @Field(() => Boolean, { description: 'The interval excludes 0; otherwise the difference is a tie.' })
  significant!: boolean;
}

/** One question an evaluation answered (predictions.jsonl), with its sample. */
@ObjectType('Prediction')
export class PredictionType {
  @Field(() => ID, { description: 'The sample id.' })
  id!: string;
  @Field(() => Int)
  seed!: number;
  @Field(() => String)
  task!: string;
  @Field(() => String, { description: 'The answer key (A–D).' })
  answer!: string;
  @Field(() => String, { nullable: true, description: 'The letter read from the answer tag, or null.' })
  parsed!: string | null;
  @Field(() => Boolean)
  correct!: boolean;
  @Field(() => Boolean, { description: 'The judge reading the findings (conclusion stripped) reached the model\'s answer.' })
  consistent!: boolean;
  @Field(() => Boolean, { nullable: true, description: 'The judge reading the whole think reached it (when that reading ran).' })
  consistentKeep!: boolean | null;
  @Field(() => String, { nullable: true })
  judgeDeduction!: string | null;
  @Field(() => String, { nullable: true })
  judgeDeductionKeep!: string | null;
  @Field(() => Boolean)
  formatOk!: boolean;
  @Field(() => Boolean, { nullable: true })
  thinkCorrect!: boolean | null;
  @Field(() => String, { nullable: true, description: 'The reasoning inside <think>.' })
  think!: string | null;
  @Field(() => String, { description: 'The model\'s whole output.' })
  raw!: string;
  @Field(() => String, { nullable: true })
  question!: string | null;
  @Field(() => [String], { nullable: true })
  options!: string[] | null;
  @Field(() => String, { nullable: true, description: 'Image path inside the dataset directory.' })
  image!: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "What the viewer draws on the image, in its pixels: the lesion `bbox`, the local zoom's `crop` and `inset` (MedReason-R1) when the dataset is zoomed, and `zoomed`, the region an evaluation with zoom enlarged; null when there is none." })
  annotations!: Record<string, unknown> | null;
}

/** A prediction and its cursor. */
@ObjectType()
export class PredictionEdge {
  @Field(() => String)
  cursor!: string;
  @Field(() => PredictionType)
  node!: PredictionType;
}

/** A page of an evaluation's predictions, in file order. */
@ObjectType()
export class PredictionConnection {
  @Field(() => Int, { description: 'Predictions that pass the filter.' })
  totalCount!: number;
  @Field(() => [PredictionEdge])
  edges!: PredictionEdge[];
  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

/** A completion a Con-GRPO step rolled out (completions.jsonl), with how it was scored. */
@ObjectType('Completion')
export class CompletionType {
  @Field(() => Int)
  step!: number;
  @Field(() => Int, { description: "Which of the step's prompt groups." })
  group!: number;
  @Field(() => ID)
  sampleId!: string;
  @Field(() => String)
  task!: string;
  @Field(() => String, { description: 'The answer key.' })
  answer!: string;
  @Field(() => String)
  completion!: string;
  @Field(() => String, { nullable: true })
  think!: string | null;
  @Field(() => String, { nullable: true })
  parsed!: string | null;
  @Field(() => Boolean)
  wellFormed!: boolean;
  @Field(() => String, { nullable: true })
  judgeDeduction!: string | null;
  @Field(() => Float)
  reward!: number;
  @Field(() => GraphQLJSONObject, { description: "Each reward's unweighted score, by name." })
  rewards!: Record<string, number>;
  @Field(() => Float, { nullable: true, description: 'The advantage the update used; null when the group was not trained on.' })
  advantage!: number | null;
  @Field(() => String, { nullable: true })
  question!: string | null;
  @Field(() => [String], { nullable: true })
  options!: string[] | null;
  @Field(() => String, { nullable: true })
  image!: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "What the viewer draws on the image, in its pixels: the lesion `bbox`, the local zoom's `crop` and `inset` (MedReason-R1) when the dataset is zoomed, and `zoomed`, the region an evaluation with zoom enlarged; null when there is none." })
  annotations!: Record<string, unknown> | null;
}

/** A completion and its cursor. */
@ObjectType()
export class CompletionEdge {
  @Field(() => String)
  cursor!: string;
  @Field(() => CompletionType)
  node!: CompletionType;
}

/** A page of a Con-GRPO run's logged completions, in step order. */
@ObjectType()
export class CompletionConnection {
  @Field(() => Int)
  totalCount!: number;
  @Field(() => [CompletionEdge])
  edges!: CompletionEdge[];
  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
