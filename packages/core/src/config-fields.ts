import { z } from 'zod';

/**
 * What a plugin config field refers to outside the process, so the control plane can confine it
 * (DESIGN.md §6): a filesystem `path` (kept inside the data roots, symlinks resolved), an outbound
 * `url` (its host must be allow-listed) or the name of an environment variable holding a secret
 * (`env-name`, allow-listed too).
 */
export type ConfigFieldRole = 'path' | 'url' | 'env-name';

const ROLE_KEY = 'medadRole';

/** Marks a config field as a filesystem path (a directory or file the plugin reads or writes). */
export function pathField<S extends z.ZodType>(schema: S): S {
  return schema.meta({ [ROLE_KEY]: 'path' }) as S;
}

/** Marks a config field as an outbound URL (an endpoint the plugin sends requests to). */
export function urlField<S extends z.ZodType>(schema: S): S {
  return schema.meta({ [ROLE_KEY]: 'url' }) as S;
}

/** Marks a config field as the name of an environment variable the plugin reads a secret from. */
export function envNameField<S extends z.ZodType>(schema: S): S {
  return schema.meta({ [ROLE_KEY]: 'env-name' }) as S;
}

function roleOf(schema: z.ZodType): ConfigFieldRole | undefined {
  let s: z.ZodType | undefined = schema;
  while (s) {
    const role = (s.meta() as Record<string, unknown> | undefined)?.[ROLE_KEY];
    if (role === 'path' || role === 'url' || role === 'env-name') return role;
    s = s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable ? (s.unwrap() as z.ZodType) : undefined;
  }
  return undefined;
}

/** The marked top-level fields of a config schema, with their roles. */
export function configFieldRoles(schema: z.ZodType): Array<{ key: string; role: ConfigFieldRole }> {
  if (!(schema instanceof z.ZodObject)) return [];
  const out: Array<{ key: string; role: ConfigFieldRole }> = [];
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const role = roleOf(field);
    if (role) out.push({ key, role });
  }
  return out;
}
