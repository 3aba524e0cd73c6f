import { z } from 'zod';
import type { Backbone } from './contracts/backbone.js';
import type { Dataset } from './contracts/dataset.js';
import type { Judge } from './contracts/judge.js';
import type { Reward } from './contracts/reward.js';
import { ErrorCode, MedadError } from './errors.js';
import type { Resolver } from './tokens.js';

/**
 * Maps each plugin kind to the interface its plugins implement.
 * Extend it with declaration merging to add a kind.
 */
export interface PluginKindMap {
  dataset: Dataset;
  backbone: Backbone;
  reward: Reward;
  judge: Judge;
}

/** A plugin kind. */
export type PluginKind = keyof PluginKindMap;

/** The plugin kinds known at run time (kept in sync with {@link PluginKindMap}). */
export const PLUGIN_KINDS: readonly PluginKind[] = ['dataset', 'backbone', 'reward', 'judge'];

const PLUGIN_BRAND = Symbol.for('medad.plugin');
const ID_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** A plugin: a plain object that validates its config and creates its implementation. */
export interface PluginDefinition<K extends PluginKind = PluginKind, C = unknown> {
  readonly kind: K;
  readonly id: string;
  readonly version: string;
  readonly description?: string;
  readonly configSchema: z.ZodType<C>;
  create(deps: Resolver, config: C): PluginKindMap[K] | Promise<PluginKindMap[K]>;
}

/** Input to {@link definePlugin}. */
export interface PluginSpec<K extends PluginKind, S extends z.ZodType> {
  kind: K;
  id: string;
  version: string;
  description?: string;
  configSchema: S;
  create(deps: Resolver, config: z.output<S>): PluginKindMap[K] | Promise<PluginKindMap[K]>;
}

/** Defines a plugin; checks the kind, the id (kebab-case) and the version, and brands the object. */
export function definePlugin<K extends PluginKind, S extends z.ZodType>(
  spec: PluginSpec<K, S>,
): PluginDefinition<K, z.output<S>> {
  if (!PLUGIN_KINDS.includes(spec.kind)) {
    throw new MedadError(ErrorCode.BadUserInput, `Plugin "${spec.id}" has unknown kind "${String(spec.kind)}"`, {
      fix: `use one of: ${PLUGIN_KINDS.join(', ')}`,
    });
  }
  if (typeof spec.id !== 'string' || !ID_PATTERN.test(spec.id)) {
    throw new MedadError(ErrorCode.BadUserInput, `Plugin id "${String(spec.id)}" is not kebab-case`, {
      fix: 'use lowercase letters, digits and single dashes, starting with a letter (e.g. "length-penalty")',
    });
  }
  if (typeof spec.version !== 'string' || !/^\d+\.\d+\.\d+/.test(spec.version)) {
    throw new MedadError(ErrorCode.BadUserInput, `Plugin "${spec.id}" has version "${String(spec.version)}"`, {
      fix: 'use a semver version such as "0.1.0"',
    });
  }
  const def = { ...spec } as PluginDefinition<K, z.output<S>>;
  Object.defineProperty(def, PLUGIN_BRAND, { value: true, enumerable: false });
  return Object.freeze(def);
}

/** True when `x` was made by {@link definePlugin} (in any copy of this package). */
export function isPluginDefinition(x: unknown): x is PluginDefinition {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}

/** Turns a zod error into one line per problem: field path, what was expected, what was given. */
export function describeConfigIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.map(String).join('.') : '(config root)';
    return `field "${field}": ${issue.message}`;
  });
}

/** Validates a plugin config; throws an INVALID_CONFIG error naming the plugin and each bad field. */
export function parsePluginConfig<C>(def: PluginDefinition<PluginKind, C>, raw: unknown): C {
  const result = def.configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const problems = describeConfigIssues(result.error);
  throw new MedadError(
    ErrorCode.InvalidConfig,
    `Invalid config for ${def.kind} plugin "${def.id}": ${problems.join('; ')}`,
    {
      fix: `correct the field(s) above in the ${def.kind} "${def.id}" config`,
      details: { plugin: def.id, kind: def.kind, issues: result.error.issues },
    },
  );
}
