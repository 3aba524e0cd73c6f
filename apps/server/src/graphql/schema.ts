import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { CatalogResolver } from '../catalog/catalog.resolver.js';
import { RunResolver } from '../runs/run.resolver.js';
import type { GraphQLContext } from './context.js';

/** Builds the control plane's schema; resolvers are created per request from the request's DI container. */
export async function buildControlPlaneSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [RunResolver, CatalogResolver],
    container: ({ context }: { context: GraphQLContext }) => ({ get: (cls: new (...args: never[]) => unknown) => context.container.resolve(cls) }),
    validate: false,
    // Every subscription here brings its own `subscribe` (over the EventBus); type-graphql still wants a PubSub.
    pubSub: {
      publish() {
        throw new Error('use the EventBus to publish run events');
      },
      subscribe() {
        throw new Error('subscriptions in this schema define their own subscribe function');
      },
    },
  });
}

/** The schema as committed SDL (sorted, so the file only changes when the API does). */
export function schemaSdl(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
