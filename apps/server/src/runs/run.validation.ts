import { ErrorCode, MedadError, configFieldRoles, isMedadError, parsePluginConfig, z, type PluginKind, type PluginRegistry } from '@medad/core';
import { confinePath } from '../http/paths.js';

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

/** What a plugin config may point at from the control plane: paths under the roots, URLs to allowed hosts, allowed key variables. */
export interface ConfigGuard {
  roots: readonly string[];
  allowedHosts: readonly string[];
  allowedKeyEnvs: readonly string[];
}

/**
 * Confines the fields a plugin marks (`pathField`, `urlField`, `envNameField` in @medad/core):
 * paths must lie inside the data roots (symlinks resolved; FORBIDDEN otherwise), URLs must name an
 * allowed host, key variables must be allowed ones — so a config can neither read outside the data
 * nor send the server's secrets elsewhere. Returns the config with paths made absolute.
 */
export function guardPluginConfig(schema: z.ZodType, config: Record<string, unknown>, field: string, guard: ConfigGuard): Record<string, unknown> {
  const out = { ...config };
  for (const { key, role } of configFieldRoles(schema)) {
    const value = out[key];
    if (typeof value !== 'string') continue;
    const name = `${field}.config.${key}`;
    if (role === 'path') out[key] = confinePath(value, guard.roots, name, 'data');
    else if (role === 'url') {
      let host: string;
      try {
        host = new URL(value).host.toLowerCase();
      } catch {
        throw badInput(name, `"${value}" is not a URL`, 'give an http(s) URL such as http://127.0.0.1:8000/v1');
      }
      const bare = host.replace(/:\d+$/, '');
      if (!guard.allowedHosts.includes(host) && !guard.allowedHosts.includes(bare)) {
        throw new MedadError(ErrorCode.Forbidden, `${name}: host "${host}" is not an allowed outbound host`, {
          fix: `use one of: ${guard.allowedHosts.join(', ')} (the server's MEDAD_ALLOWED_HOSTS setting adds hosts)`,
          details: { field: name, allowedHosts: guard.allowedHosts },
        });
      }
    } else if (!guard.allowedKeyEnvs.includes(value)) {
      throw new MedadError(ErrorCode.Forbidden, `${name}: "${value}" is not an allowed API-key variable`, {
        fix: `use one of: ${guard.allowedKeyEnvs.join(', ')} (the server's MEDAD_ALLOWED_KEY_ENVS setting adds names)`,
        details: { field: name },
      });
    }
  }
  return out;
}

/** Checks a plugin id exists (listing the known ones otherwise), validates its config with the plugin's schema and confines it ({@link guardPluginConfig}). */
export function pluginConfig(registry: PluginRegistry, kind: PluginKind, id: string, config: unknown, field: string, guard?: ConfigGuard): Record<string, unknown> {
  if (!registry.has(kind, id)) {
    const known = registry.list(kind).map((p) => p.id);
    throw badInput(`${field}.plugin`, `unknown ${kind} plugin "${id}"`, known.length ? `use one of: ${known.join(', ')}` : `no ${kind} plugins are installed; build the workspace (npm run build)`);
  }
  try {
    const parsed = parsePluginConfig(registry.get(kind, id), config ?? {}) as Record<string, unknown>;
    return guard ? guardPluginConfig(registry.get(kind, id).configSchema, parsed, field, guard) : parsed;
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
