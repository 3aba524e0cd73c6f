import { Arg, Query, Resolver } from 'type-graphql';
import { injectable } from 'tsyringe';
import { GraphQLJSONObject } from 'graphql-scalars';
import { PluginRegistry, RUN_SPEC_KINDS, runSpecJsonSchema, z, type PluginKind, type RunSpecKind } from '@medad/core';
import { badInput } from '../runs/run.validation.js';
import { DatasetService } from './dataset.service.js';
import { DatasetType } from './dataset.type.js';
import { PluginKindEnum, PluginType } from './plugin.type.js';

function jsonSchema(schema: unknown): Record<string, unknown> | null {
  try {
    return z.toJSONSchema(schema as z.ZodType) as Record<string, unknown>;
  } catch {
    return null; // schemas with transforms have no JSON Schema form
  }
}

/** Queries over what is installed and available: plugins and datasets. */
@injectable()
@Resolver()
export class CatalogResolver {
  constructor(
    private readonly registry: PluginRegistry,
    private readonly datasetService: DatasetService,
  ) {}

  @Query(() => [PluginType], { description: 'Installed plugins, optionally of one kind.' })
  plugins(@Arg('kind', () => PluginKindEnum, { nullable: true }) kind?: PluginKindEnum): PluginType[] {
    return this.registry.list(kind as PluginKind | undefined).map((p) => ({
      kind: p.kind as PluginKindEnum,
      id: p.id,
      version: p.version,
      package: p.package,
      description: p.description ?? null,
      configSchema: jsonSchema(this.registry.get(p.kind, p.id).configSchema),
    }));
  }

  @Query(() => GraphQLJSONObject, { description: "JSON Schema of a run kind's spec (dataset, sft, con-grpo, eval, judge): the fields, ranges and defaults the start mutations' hyper/compute inputs are validated against." })
  runSpecSchema(@Arg('kind', () => String) kind: string): Record<string, unknown> {
    if (!(RUN_SPEC_KINDS as readonly string[]).includes(kind)) throw badInput('kind', `"${kind}" is not a run kind`, `use one of: ${RUN_SPEC_KINDS.join(', ')}`);
    return runSpecJsonSchema(kind as RunSpecKind);
  }

  @Query(() => [DatasetType], { description: 'Datasets built by runs or found under the dataset roots.' })
  datasets(): Promise<DatasetType[]> {
    return this.datasetService.list();
  }
}
