import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, GraphQLISODateTime, ID, ObjectType } from 'type-graphql';

/** A benchmark directory (samples.jsonl + images) runs can train and evaluate on. */
@ObjectType('Dataset')
export class DatasetType {
  @Field(() => ID)
  id!: string;
  @Field(() => String)
  name!: string;
  @Field(() => String)
  path!: string;
  @Field(() => ID, { nullable: true, description: 'The buildDataset run that made it.' })
  runId!: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'dataset.json (counts per split and task...), when present.' })
  info!: Record<string, unknown> | null;
  @Field(() => GraphQLISODateTime)
  createdAt!: Date;
}
