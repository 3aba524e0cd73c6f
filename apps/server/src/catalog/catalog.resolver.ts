import { Arg, Query, Resolver } from 'type-graphql';
import { injectable } from 'tsyringe';
import { PluginRegistry, z, type PluginKind } from '@medad/core';
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

  @Query(() => [DatasetType], { description: 'Datasets built by runs or found under the dataset roots.' })
  datasets(): Promise<DatasetType[]> {
    return this.datasetService.list();
  }
}
