import { OPTION_LETTERS, REGIONS, SPLITS, TASKS, z, type MedAdSample } from '@medad/core';

const relativePath = (what: string) =>
  z
    .string()
    .min(1, `${what} path is empty`)
    .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(p), `${what} path must be relative to the dataset root`)
    .refine((p) => !p.split(/[\\/]/).includes('..'), `${what} path must not leave the dataset root ("..")`);

const nonEmpty = (what: string) => z.string().trim().min(1, `${what} is empty`);

/** A pixel bounding box: non-negative corner, positive size. */
export const BBoxSchema = z.object({
  x: z.number().min(0, 'x must be >= 0'),
  y: z.number().min(0, 'y must be >= 0'),
  width: z.number().positive('width must be > 0'),
  height: z.number().positive('height must be > 0'),
});

/** The zod schema of a {@link MedAdSample} (DESIGN.md §4); unknown keys are dropped. */
export const MedAdSampleSchema = z.object({
  id: nonEmpty('id'),
  image: relativePath('image'),
  modality: nonEmpty('modality'),
  anatomy: nonEmpty('anatomy'),
  task: z.enum(TASKS, { message: `must be one of ${TASKS.join(', ')}` }),
  question: nonEmpty('question'),
  options: z
    .tuple([nonEmpty('option A'), nonEmpty('option B'), nonEmpty('option C'), nonEmpty('option D')], {
      message: 'must be an array of exactly 4 option strings',
    })
    .refine((o) => new Set(o.map((s) => s.trim().toLowerCase())).size === 4, 'the 4 options must all differ'),
  answer: z.enum(OPTION_LETTERS, { message: 'must be one of A, B, C, D' }),
  cot: nonEmpty('cot'),
  source: nonEmpty('source'),
  split: z.enum(SPLITS, { message: `must be one of ${SPLITS.join(', ')}` }),
  region: z.enum(REGIONS, { message: `must be one of ${REGIONS.join(', ')}` }).optional(),
  bbox: BBoxSchema.optional(),
  mask: relativePath('mask').optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** One problem with one field of a sample. */
export interface FieldIssue {
  /** Dotted path of the field (e.g. `options.2`), or `(sample)` for the whole record. */
  field: string;
  problem: string;
}

/** Result of {@link validateSample}. */
export type SampleValidation = { ok: true; sample: MedAdSample } | { ok: false; issues: FieldIssue[] };

/** Validates an unknown value as a sample; lists every bad field rather than stopping at the first. */
export function validateSample(raw: unknown): SampleValidation {
  const result = MedAdSampleSchema.safeParse(raw);
  if (result.success) return { ok: true, sample: result.data as MedAdSample };
  return {
    ok: false,
    issues: result.error.issues.map((i) => {
      const top = i.path.length === 1 && typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)[String(i.path[0])] : null;
      return {
        field: i.path.length ? i.path.map(String).join('.') : '(sample)',
        problem: top === undefined ? 'is missing' : i.message,
      };
    }),
  };
}
