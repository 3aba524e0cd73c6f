import { ErrorCode, MedadError, isMedadError, parsePluginConfig, z, type PluginKind, type PluginRegistry } from '@medad/core';

/** Parses `value` with `schema`; problems become one BAD_USER_INPUT error naming every field under `prefix`. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ field: [prefix, ...i.path.map(String)].join('.'), message: i.message }));
  throw new MedadError(ErrorCode.BadUserInput, issues.map((i) => `${i.field}: ${i.message}`).join('; '), {
    fix: 'correct the field(s) named above',
    details: { issues },
  });
}

/** A BAD_USER_INPUT error about one field. */
export function badInput(field: string, problem: string, fix: string): MedadError {
  return new MedadError(ErrorCode.BadUserInput, `${field}: ${problem}`, { fix, details: { field } });
}

/** Checks a plugin id exists (listing the known ones otherwise) and validates its config with the plugin's schema. */
export function pluginConfig(registry: PluginRegistry, kind: PluginKind, id: string, config: unknown, field: string): Record<string, unknown> {
  if (!registry.has(kind, id)) {
    const known = registry.list(kind).map((p) => p.id);
    throw badInput(`${field}.plugin`, `unknown ${kind} plugin "${id}"`, known.length ? `use one of: ${known.join(', ')}` : `no ${kind} plugins are installed; build the workspace (npm run build)`);
  }
  try {
    return parsePluginConfig(registry.get(kind, id), config ?? {}) as Record<string, unknown>;
  } catch (err) {
    if (isMedadError(err, ErrorCode.InvalidConfig)) {
      throw new MedadError(ErrorCode.BadUserInput, `${field}.config: ${err.message.replace(/\. Fix: .*$/, '')}`, { fix: err.fix, details: { field: `${field}.config`, ...err.details } });
    }
    throw err;
  }
}

/** A dataset name: a directory name. */
export const DATASET_NAME = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit');
