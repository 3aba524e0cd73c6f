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

/** Integer in [min, max]. */
export const intIn = (min: number, max: number) => z.number().int(`must be an integer`).min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);
/** Finite number in (min, max]. */
export const positiveUpTo = (max: number) => z.number().gt(0, 'must be > 0').max(max, `must be ≤ ${max}`);

const GRAD_ENGINE = z.enum(['auto', 'ort', 'tfjs'], { message: 'must be auto, ort or tfjs' });

/** Schemas of the hyper-parameters (ranges that catch typos, not taste). */
export const HYPER_SCHEMAS = {
  sft: z.object({
    steps: intIn(1, 1_000_000),
    batchSize: intIn(1, 4096),
    learningRate: positiveUpTo(1),
    warmupSteps: intIn(0, 1_000_000),
    checkpointEvery: intIn(1, 1_000_000),
    gradEngine: GRAD_ENGINE,
    grounding: z.number().min(0, 'must be ≥ 0 (0 = off)').max(100, 'must be ≤ 100'),
  }),
  conGrpo: z.object({
    steps: intIn(1, 1_000_000),
    promptsPerStep: intIn(1, 4096),
    groupSize: intIn(2, 256),
    beta: z.number().min(0, 'must be ≥ 0').max(10, 'must be ≤ 10'),
    clipEpsilon: z.number().gt(0, 'must be > 0').lt(1, 'must be < 1'),
    learningRate: positiveUpTo(1),
    temperature: positiveUpTo(5),
    checkpointEvery: intIn(1, 1_000_000),
    oversample: z.number().min(1, 'must be ≥ 1 (1 = no dynamic sampling)').max(16, 'must be ≤ 16'),
    gradEngine: GRAD_ENGINE,
  }),
};

/** Seeds of an evaluation. */
export const SEEDS_SCHEMA = z
  .array(intIn(0, 2 ** 31 - 1))
  .min(1, 'give at least one seed')
  .max(10, 'at most 10 seeds')
  .refine((s) => new Set(s).size === s.length, 'seeds must be distinct');

/** A dataset name: a directory name. */
export const DATASET_NAME = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit');
