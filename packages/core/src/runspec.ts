import { z } from 'zod';
import { ErrorCode, MedadError } from './errors.js';
import { TASKS, type BBox } from './domain.js';

/**
 * Run specs (DESIGN.md §3): one zod schema per run kind, with its defaults — the single source of
 * truth. The CLI's flags, the GraphQL inputs, reproduce presets and the dashboard's forms (from
 * {@link runSpecJsonSchema}) are views of these; a run directory holds its resolved spec
 * (`spec.json`) and `medad run SPEC.json` runs any of them.
 *
 * A path field may hold `run:<id>` instead of a directory: the control plane resolves such a
 * reference to that run's output when it launches the run.
 */

/** A plugin and its config (validated by the plugin's own schema when the run is composed). */
export const pluginChoiceSchema = z.object({
  plugin: z.string().min(1).describe('plugin id (see `medad plugins`)'),
  config: z.record(z.string(), z.unknown()).default({}).describe("the plugin's config (validated by its schema)"),
});
/** A plugin and its config. */
export type PluginChoice = z.output<typeof pluginChoiceSchema>;

/** A reward term and its weight λ in R = Σ λ·R. */
export const weightedRewardSchema = pluginChoiceSchema.extend({
  weight: z.number().min(0, 'must be ≥ 0').max(1000).describe('λ of this reward in R = Σ λ·R'),
});
/** A reward term and its weight. */
export type WeightedRewardChoice = z.output<typeof weightedRewardSchema>;

const int = (min: number, max: number) => z.number().int('must be an integer').min(min, `must be ≥ ${min}`).max(max, `must be ≤ ${max}`);
const positive = (max: number) => z.number().gt(0, 'must be > 0').max(max, `must be ≤ ${max}`);
const path = z.string().min(1, 'must not be empty');
const seed = int(0, 0xffffffff).default(0).describe('random seed');

/** Where ONNX Runtime computes: `auto` = CUDA when its provider is installed and loads, else CPU. */
export const deviceSchema = z
  .enum(['auto', 'cpu', 'cuda'], { message: 'must be auto, cpu or cuda' })
  .default('auto')
  .describe('where ONNX Runtime computes rollouts, gradients and evaluation: auto = CUDA when its provider is installed, else the CPU; cuda = fail if it is not');

/** Compute settings shared by the training kinds. */
/**
 * ONNX Runtime intra-op threads of generation (rollouts, held-out and `medad eval` decoding): the
 * small model's decode steps run faster on 1 thread than on 2 on a 2-core machine, with the same
 * greedy tokens (trainer README, "Step time").
 */
export const DEFAULT_DECODE_THREADS = 1;

export const trainComputeSchema = z.object({
  device: deviceSchema,
  gradEngine: z.enum(['auto', 'ort', 'tfjs'], { message: 'must be auto, ort or tfjs' }).default('auto').describe('gradient engine: ort = forward + reverse mode as one ONNX Runtime graph; tfjs = tfjs autodiff; auto = ort unless the config has rotary positions'),
  threads: z.union([z.literal('auto'), int(1, 256)], { message: 'must be "auto" or a positive integer' }).default('auto').describe('threads computing gradients (ort: intra-op threads; tfjs: data-parallel workers; auto = every core)'),
  backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu'], { message: 'must be auto, tensorflow, wasm or cpu' }).default('auto').describe('tfjs compute backend'),
  decodeThreads: int(1, 256)
    .default(DEFAULT_DECODE_THREADS)
    .describe('ONNX Runtime intra-op threads of generation (Con-GRPO rollouts, held-out evaluation); decoding the small model runs faster on 1 than on 2 (trainer README)'),
});

/** Compute settings of a training run. */
export type TrainCompute = z.output<typeof trainComputeSchema>;

/** A task → relative sampling weight map. */
export const taskWeightsSchema = z.partialRecord(z.enum(TASKS), z.number().min(0, 'must be ≥ 0').max(1000));

/** Stage 1 (SFT) hyper-parameters, with the defaults measured for the `small` preset on 2 cores (trainer README). */
export const sftHyperSchema = z.object({
  steps: int(1, 10_000_000).default(8000).describe('optimisation steps'),
  batchSize: int(1, 4096).default(16).describe('samples per micro-batch'),
  gradAccumulation: int(1, 1024).default(1).describe('micro-batches per step'),
  lr: positive(1).default(2e-3).describe('peak learning rate'),
  warmupSteps: int(0, 10_000_000).default(50).describe('linear warmup steps'),
  minLr: z.number().min(0).max(1).default(2e-4).describe('learning rate at the end of the cosine'),
  weightDecay: z.number().min(0).max(1).default(0.01).describe('AdamW weight decay'),
  clipNorm: positive(1e6).default(1).describe('global gradient-norm clip'),
  evalEvery: int(0, 10_000_000).default(500).describe('held-out evaluation every N steps (0 = at the end)'),
  evalSamples: int(0, 1_000_000).default(150).describe('held-out samples per evaluation'),
  saveEvery: int(1, 10_000_000).default(100).describe('checkpoint every N steps'),
  answerWeight: z.number().min(0).max(1000).default(1).describe('loss weight of the answer-letter tokens relative to the other target tokens'),
  focalGamma: z.number().min(0).max(10).default(0).describe('focal token loss: weight each target token by (1 − p)^γ (0 = plain cross-entropy)'),
  grounding: z.number().min(0, 'must be ≥ 0 (0 = off)').max(100, 'must be ≤ 100').default(1).describe("weight of the lesion grounding loss: image tokens also learn which patches a sample's bbox covers (0 = off)"),
  zoom: z
    .enum(['none', 'oracle'])
    .default('none')
    .describe("coarse-to-fine (MedReason-R1): oracle = also learn each answer on the image zoomed into its labelled lesion box (a decoy box without one), the second pass of `eval --zoom predicted`; the grounding loss (hyper.grounding) teaches the first pass, where to look, on the global image"),
  target: z.enum(['cot', 'base']).default('cot').describe('what the policy learns: cot = the CoT and answer (SFT); base = a general description of each image and a uniformly drawn answer letter — the answer format and looking at images with no task supervision (the base stage RL-only starts from)'),
  baseCaption: z.enum(['look', 'caption']).default('look').describe("the base stage's description: look = brightness, contrast and colour only; caption = also the modality and body region, as an image captioner pre-trained on medical images would say (the answer letter stays uniformly drawn either way)"),
  baseMcq: z.number().min(0, 'must be ≥ 0').max(1, 'must be ≤ 1').default(0).describe("fraction of the base stage's samples whose question becomes a general one about the image's look (brightness, contrast, colour) with its key the option the description names — general multiple-choice reading, as a pre-trained VLM has, still with no task supervision (0 = off)"),
  taskWeights: taskWeightsSchema.optional().describe('relative sampling weight per task, e.g. anatomy_identification=0.5 (absent tasks weigh 1)'),
  timeBudget: positive(1e9).optional().describe('stop (evaluated and checkpointed) at the first step past this wall time in seconds; the schedule still follows steps'),
});
/** SFT hyper-parameters. */
export type SftHyper = z.output<typeof sftHyperSchema>;

/** The trainable default backbone. */
const DEFAULT_BACKBONE = { plugin: 'tfjs-vlm', config: {} };

/** `medad train sft`: SFT ("cognitive injection") on CoT + answer. */
export const sftSpecSchema = z.object({
  kind: z.literal('sft'),
  data: path.describe('dataset directory (samples.jsonl + images), e.g. from `medad data synth`'),
  out: path.describe('run directory: metrics.jsonl, checkpoint/, run.json; an existing one is resumed'),
  from: path.optional().describe("a checkpoint or run directory whose weights and tokenizer a fresh run starts from (e.g. the base stage's); absent = a fresh policy from the backbone config"),
  seed,
  dataset: pluginChoiceSchema.default({ plugin: 'medad', config: {} }).describe('dataset plugin reading `data` (its config gets dir = data)'),
  backbone: pluginChoiceSchema.default(DEFAULT_BACKBONE).describe('the policy: a trainable backbone plugin and its config (model size, shape)'),
  hyper: sftHyperSchema.default(() => sftHyperSchema.parse({})),
  compute: trainComputeSchema.default(() => trainComputeSchema.parse({})),
});
/** A resolved SFT spec. */
export type SftSpec = z.output<typeof sftSpecSchema>;

/** Stage 2 (Con-GRPO) hyper-parameters; the paper's G=8, β=0.04, ε=0.2, with lr 1e-4 for our ~10⁴× smaller policy (trainer README). */
export const conGrpoHyperSchema = z.object({
  steps: int(1, 10_000_000).default(100).describe('optimisation steps'),
  promptsPerStep: int(1, 4096).default(8).describe('prompts per step'),
  groupSize: int(2, 256).default(8).describe('completions per prompt (G)'),
  temperature: positive(5).default(1).describe('sampling temperature'),
  topP: positive(1).default(1).describe('nucleus mass'),
  maxNewTokens: int(1, 4096).default(64).describe('completion token budget'),
  lr: positive(1).default(1e-4).describe('learning rate'),
  beta: z.number().min(0, 'must be ≥ 0').max(10, 'must be ≤ 10').default(0.04).describe('KL coefficient β (k3 to the frozen start)'),
  epsilon: z.number().gt(0, 'must be > 0').lt(1, 'must be < 1').default(0.2).describe('clip ε'),
  epsilonHigh: z.number().gt(0).lt(10).optional().describe('upper clip (DAPO clip-higher); defaults to ε'),
  advantageScale: z.enum(['none', 'group', 'batch']).default('group').describe('none = paper R − mean; group/batch divide by the std'),
  lossAggregation: z.enum(['grpo', 'dr_grpo', 'dapo']).default('grpo').describe('loss aggregation'),
  mu: int(1, 64).default(2).describe('optimisation passes per rollout batch (μ; > 1 so the clipped ratio acts; chosen in docs/results/rl-defaults.md)'),
  clipNorm: positive(1e6).default(1).describe('global gradient-norm clip'),
  logCompletions: int(0, 1000).default(1).describe("prompt groups per step whose completions go to completions.jsonl for the completions viewer: text, parsed answer, the judge's deduction, each reward and the advantage (0 = none)"),
  oversample: z.number().min(1, 'must be ≥ 1 (1 = no dynamic sampling)').max(16, 'must be ≤ 16').default(3).describe('dynamic sampling (DAPO): roll out x × the prompts, train on the first groups whose rewards differ (1 = off)'),
  rollout: z.enum(['ort', 'tfjs']).default('ort').describe('rollout engine'),
  zoom: z
    .enum(['none', 'predicted', 'oracle'])
    .default('none')
    .describe("coarse-to-fine (MedReason-R1): roll out and train on images zoomed into the region the starting policy's grounding head predicts (predicted; computed once when the run starts) or into the labelled lesion box (oracle); the held-out evaluation zooms the same way"),
  evalEvery: int(0, 10_000_000).default(25).describe('held-out evaluation every N steps'),
  evalSamples: int(0, 1_000_000).default(150).describe('held-out samples per evaluation'),
  saveEvery: int(1, 10_000_000).default(25).describe('checkpoint every N steps'),
  emaDecay: z.number().min(0, 'must be ≥ 0').lt(1, 'must be < 1').default(0.995).describe("decay of the EMA reference (ref ← decay·ref + (1 − decay)·policy), kept only when a reward needs the answer likelihood (care); GRPO-CARE's 0.995"),
  emaEvery: int(1, 10_000_000).default(10).describe("update the EMA reference every N steps (GRPO-CARE's 10)"),
});
/** Con-GRPO hyper-parameters. */
export type ConGrpoHyper = z.output<typeof conGrpoHyperSchema>;

/** The paper's composite reward: format, accuracy and consistency at 1/3 each. */
export const DEFAULT_REWARDS: WeightedRewardChoice[] = [
  { plugin: 'format', weight: 1 / 3, config: {} },
  { plugin: 'accuracy', weight: 1 / 3, config: {} },
  { plugin: 'consistency', weight: 1 / 3, config: {} },
];

/** `medad train con-grpo`: GRPO with R = Σ λ·R (format, accuracy, consistency via the judge). */
export const conGrpoSpecSchema = z.object({
  kind: z.literal('con-grpo'),
  data: path.describe('dataset directory'),
  out: path.describe('run directory; an existing one is resumed'),
  from: path.optional().describe('SFT run directory or checkpoint to start from (also the frozen KL reference); absent = RL-only from a fresh policy'),
  seed,
  dataset: pluginChoiceSchema.default({ plugin: 'medad', config: {} }).describe('dataset plugin reading `data`'),
  backbone: pluginChoiceSchema.default(DEFAULT_BACKBONE).describe('the policy for RL-only (ignored with `from`)'),
  rewards: z
    .array(weightedRewardSchema)
    .min(1, 'give at least one reward')
    .default(() => DEFAULT_REWARDS.map((r) => ({ ...r, config: {} })))
    .refine((rs) => new Set(rs.map((r) => r.plugin)).size === rs.length, 'list each reward once')
    .refine((rs) => rs.some((r) => r.weight > 0), 'give at least one reward a weight > 0')
    .describe('reward plugins with weights λ'),
  judge: pluginChoiceSchema.nullable().default({ plugin: 'rule', config: {} }).describe('judge the consistency reward consults (null = none)'),
  hyper: conGrpoHyperSchema.default(() => conGrpoHyperSchema.parse({})),
  compute: trainComputeSchema.default(() => trainComputeSchema.parse({})),
});
/** A resolved Con-GRPO spec. */
export type ConGrpoSpec = z.output<typeof conGrpoSpecSchema>;

/** `medad eval`: per-task accuracy, consistency, format, think-correctness over seeds. */
export const evalSpecSchema = z.object({
  kind: z.literal('eval'),
  data: path.describe('dataset directory'),
  out: path.optional().describe('write predictions.jsonl and eval.json here (an existing predictions file is resumed)'),
  checkpoint: path.optional().describe('run directory or checkpoint (tfjs weights, or a directory with exported ONNX files)'),
  dataset: pluginChoiceSchema.default({ plugin: 'medad', config: {} }).describe('dataset plugin reading `data`'),
  backbone: pluginChoiceSchema.default({ plugin: 'auto', config: {} }).describe('backbone plugin; auto = onnx when the checkpoint holds decoder_model.onnx, else tfjs-vlm'),
  judge: pluginChoiceSchema.nullable().default({ plugin: 'rule', config: {} }).describe('judge of the consistency rate (null = skip)'),
  seeds: z.array(int(0, 2 ** 31 - 1)).min(1, 'give at least one seed').max(10, 'at most 10 seeds').refine((s) => new Set(s).size === s.length, 'seeds must be distinct').default([0]).describe('seeds (one decoding pass per seed with sample)'),
  decoding: z.enum(['greedy', 'sample']).default('greedy').describe('greedy answers once; sample answers once per seed'),
  temperature: positive(5).default(1).describe('sampling temperature with decoding=sample'),
  split: z.enum(['test', 'train']).default('test').describe('which split to answer'),
  limit: int(1, 100_000_000).optional().describe('only the first N samples of the split'),
  batchSize: int(1, 4096).default(16).describe('prompts per generate call'),
  zoom: z
    .enum(['none', 'predicted', 'oracle'])
    .default('none')
    .describe('coarse-to-fine (MedReason-R1): answer on the image with a zoomed inset of the region the model predicts (predicted; needs a grounding head) or of the labelled lesion box (oracle, an upper bound); none = the image as it is'),
  device: deviceSchema,
});
/** A resolved evaluation spec. */
export type EvalSpec = z.output<typeof evalSpecSchema>;

/** `medad data synth` and other dataset builds: a dataset plugin that writes `out` when created. */
export const datasetSpecSchema = z.object({
  kind: z.literal('dataset'),
  out: path.describe('output dataset directory (written atomically)'),
  generator: pluginChoiceSchema.default({ plugin: 'synthetic', config: {} }).describe('dataset plugin that builds the data (its config gets dir = out)'),
});
/** A resolved dataset-build spec. */
export type DatasetSpec = z.output<typeof datasetSpecSchema>;

/** `medad train judge`: the learned consistency judge on a dataset's ground-truth CoTs. */
export const judgeSpecSchema = z.object({
  kind: z.literal('judge'),
  data: path.describe('dataset directory with train and test splits'),
  out: path.describe('checkpoint directory: judge.json and report.json'),
  seed,
  epochs: int(1, 100_000).optional().describe("maximum epochs (early stopping on a validation slice); default: the learned judge's own"),
  minConfidence: z.number().min(0).max(1).optional().describe("report threshold: a lower top probability is a null deduction; default: the learned judge's own"),
});
/** A resolved judge-training spec. */
export type JudgeSpec = z.output<typeof judgeSpecSchema>;

/** Every run spec, by kind. */
export const RUN_SPEC_SCHEMAS = {
  dataset: datasetSpecSchema,
  sft: sftSpecSchema,
  'con-grpo': conGrpoSpecSchema,
  eval: evalSpecSchema,
  judge: judgeSpecSchema,
} as const;
/** A run kind with a spec. */
export type RunSpecKind = keyof typeof RUN_SPEC_SCHEMAS;
/** The run kinds, in pipeline order. */
export const RUN_SPEC_KINDS = Object.keys(RUN_SPEC_SCHEMAS) as RunSpecKind[];
/** Any resolved run spec. */
export type RunSpec = SftSpec | ConGrpoSpec | EvalSpec | DatasetSpec | JudgeSpec;
/** The resolved spec of one kind. */
export type RunSpecOf<K extends RunSpecKind> = z.output<(typeof RUN_SPEC_SCHEMAS)[K]>;

/** The union schema (discriminated by `kind`). */
export const runSpecSchema = z.discriminatedUnion('kind', [datasetSpecSchema, sftSpecSchema, conGrpoSpecSchema, evalSpecSchema, judgeSpecSchema]);

/** One problem with a spec: the dotted field path and what is wrong. */
export interface SpecIssue {
  field: string;
  message: string;
}

/** Turns zod issues into named fields (`hyper.steps`), under `prefix` when given. */
export function specIssues(error: z.ZodError, prefix = ''): SpecIssue[] {
  return error.issues.map((i) => ({ field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(spec)', message: i.message }));
}

function assertKind(kind: string, where: string): asserts kind is RunSpecKind {
  if (!(kind in RUN_SPEC_SCHEMAS)) {
    throw new MedadError(ErrorCode.BadUserInput, `${where}: unknown run kind "${kind}"`, { fix: `use one of: ${RUN_SPEC_KINDS.join(', ')}`, details: { field: 'kind' } });
  }
}

/**
 * Validates a spec and fills its defaults. `where` names its origin (a file, `input`) in the error,
 * which lists every bad field (`where: hyper.steps: must be ≥ 1`).
 */
export function parseRunSpec(raw: unknown, where = 'spec', expectedKind?: RunSpecKind): RunSpec {
  const kind = typeof raw === 'object' && raw !== null ? (raw as { kind?: unknown }).kind : undefined;
  if (typeof kind !== 'string') {
    throw new MedadError(ErrorCode.BadUserInput, `${where}: field "kind" is missing`, { fix: `set "kind" to one of: ${RUN_SPEC_KINDS.join(', ')}`, details: { field: 'kind' } });
  }
  assertKind(kind, where);
  if (expectedKind && kind !== expectedKind) {
    throw new MedadError(ErrorCode.BadUserInput, `${where}: field "kind" is "${kind}", expected "${expectedKind}"`, { fix: `set "kind": "${expectedKind}"`, details: { field: 'kind' } });
  }
  const r = RUN_SPEC_SCHEMAS[kind].safeParse(raw);
  if (r.success) return r.data;
  const issues = specIssues(r.error);
  throw new MedadError(ErrorCode.BadUserInput, `${where}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, {
    fix: `correct the field(s) named above (\`medad spec --kind ${kind}\` prints the schema)`,
    details: { issues },
  });
}

/** The JSON Schema of a kind's spec (what `medad spec --kind K` prints and the dashboard's forms read). */
export function runSpecJsonSchema(kind: RunSpecKind): Record<string, unknown> {
  assertKind(kind, 'runSpecJsonSchema');
  return z.toJSONSchema(RUN_SPEC_SCHEMAS[kind], { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** The defaults of a kind's spec given only its required fields. */
export function defaultRunSpec<K extends RunSpecKind>(kind: K, required: Record<string, unknown>): RunSpecOf<K> {
  return parseRunSpec({ ...required, kind }, `defaults of ${kind}`) as RunSpecOf<K>;
}

/** The file a run's output directory holds its resolved spec in (`medad run` writes it; the control plane launches it). */
export const RUN_SPEC_FILE = 'spec.json';

/** Where a Con-GRPO run writes the completions of `logCompletions` groups per step (JSONL, one {@link CompletionRecord} per line). */
export const COMPLETIONS_FILE = 'completions.jsonl';

/** One rolled-out completion of a Con-GRPO step, with how it was scored. */
export interface CompletionRecord {
  step: number;
  /** Which of the step's prompt groups. */
  group: number;
  sampleId: string;
  task: string;
  /** The answer key. */
  answer: string;
  completion: string;
  /** The letter read from the answer tag, or null. */
  parsed: string | null;
  wellFormed: boolean;
  /** The judge's deduction from the think (null: none; absent judge: null). */
  judgeDeduction: string | null;
  /** The weighted total reward. */
  reward: number;
  /** Each reward's unweighted score. */
  rewards: Record<string, number>;
  /** The advantage the update used, or null when the group was not trained on (no reward variance). */
  advantage: number | null;
  /** With `hyper.zoom`: the region the image's inset enlarged, in the image's pixels. */
  zoomBox?: BBox;
}

/** `run:<id>`: a reference to another run's output, resolved by the control plane at launch. */
export const RUN_REF = /^run:([A-Za-z0-9._-]+)$/;

/** The run id of a `run:<id>` reference, or undefined for a plain path. */
export function runRefId(value: string | undefined): string | undefined {
  return value ? RUN_REF.exec(value)?.[1] : undefined;
}

/**
 * What the demo pipelines (`npm start`, `medad demo`) pair with the default SFT: a 20,000-sample
 * embedded benchmark — the 10-minute SFT memorises the 2,000-sample default within ~2,000 steps and
 * levels at ~55% held-out, on 20,000 it reaches ~96% (trainer README "SFT options for learning speed") — and 1,200 test
 * questions per evaluation seed (about a minute for three seeds).
 */
export const DEMO_DEFAULTS = { samples: 20_000, evalLimit: 1200 };
