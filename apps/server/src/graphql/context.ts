import type { DependencyContainer } from 'tsyringe';
import type { Principal } from '../http/auth.js';

/** Per-request GraphQL context: the caller and a child DI container that resolvers are created from. */
export interface GraphQLContext {
  principal: Principal;
  container: DependencyContainer;
  /**
   * Whether the HTTP layer may store the answer: true once every operation resolved to a query,
   * false for any other operation or a response with errors. An object, because Apollo hands
   * plugins a shallow copy of the context.
   */
  answer?: { cacheable?: boolean };
}
