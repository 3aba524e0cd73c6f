import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ObjectType, registerEnumType } from 'type-graphql';

/** Plugin kinds as a GraphQL enum (values are core's kind names). */
export enum PluginKindEnum {
  DATASET = 'dataset',
  BACKBONE = 'backbone',
  REWARD = 'reward',
  JUDGE = 'judge',
}
registerEnumType(PluginKindEnum, { name: 'PluginKind' });

/** An installed plugin. */
@ObjectType('Plugin')
export class PluginType {
  @Field(() => PluginKindEnum)
  kind!: PluginKindEnum;
  @Field(() => String)
  id!: string;
  @Field(() => String)
  version!: string;
  @Field(() => String, { description: 'npm package that provides it.' })
  package!: string;
  @Field(() => String, { nullable: true })
  description!: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'JSON Schema of its config.' })
  configSchema!: Record<string, unknown> | null;
}
