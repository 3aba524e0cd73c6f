import type { DependencyContainer } from 'tsyringe';
import type { Principal } from '../http/auth.js';

/** Per-request GraphQL context: the caller and a child DI container that resolvers are created from. */
export interface GraphQLContext {
  principal: Principal;
  container: DependencyContainer;
}
