import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_REWARDS, ErrorCode, MedadError, conGrpoHyperSchema, parseRunSpec, sftHyperSchema, trainComputeSchema, type ProgressReporter, type RunSpec } from '@medad/core';
import { terminalProgress } from '../progress.js';
import { addSectionFlags, sectionValues } from '../run/flags.js';
import { executeSpec } from '../run/execute.js';
import { discoverAll, int, jsonObject, num, parseJudgeSpec, rewardWeights, runIo } from './shared.js';
import { registerTrainJudgeCommand } from './train-judge.js';

/** Flags that shape a fresh model; each maps onto `backbone.config.model` of the spec. */
const MODEL_FLAGS = [
  ['--rotary-dims <n>', 'rotaryDims', 'rotary positions on N columns per attention head (even, ≤ dModel/nHeads; fresh runs only)'],
  ['--patch-stem <channels>', 'patchStem', 'nonlinear patch stem with N channels per quarter patch (preset default: small 64; 0 = linear patches; fresh runs only)'],
  ['--pos-init-std <x>', 'posInitStd', 'init std of the positional and token embeddings (preset default 0.3; fresh runs only)'],
  ['--image-size <px>', 'imageSize', "input image side in pixels (a multiple of the preset's patch size; fresh runs only)"],
  ['--d-model <n>', 'dModel', 'model width (fresh runs only)'],
  ['--max-text-len <n>', 'maxTextLen', 'longest prompt + completion in tokens (fresh runs only)'],
] as const;

/** The backbone flags every training command has: plugin, preset, shape and a JSON config. */
function addBackboneFlags(cmd: Command, what: string): Command {
  cmd
    .option('--backbone <id>', `backbone plugin (${what})`, 'tfjs-vlm')
    .addOption(new Option('--preset <preset>', `model size (${what})`).choices(['tiny', 'small', 'base']))
    .option('--backbone-config <json>', 'the backbone plugin\'s config as JSON, e.g. {"model":{"dModel":64}} (flags below override it)', jsonObject);
  for (const [flag, , help] of MODEL_FLAGS) cmd.option(flag, help, num);
  return cmd.option('--no-option-match', 'turn off the exact-match option features (each token knows which options contain it; fresh runs only)');
}

/** The backbone choice of the spec from the flags. */
function backboneOf(o: Record<string, unknown>): { plugin: string; config: Record<string, unknown> } {
  const config: Record<string, unknown> = { ...(o.backboneConfig as Record<string, unknown> | undefined) };
  const model: Record<string, unknown> = { ...(config.model as Record<string, unknown> | undefined) };
  for (const [flag, field] of MODEL_FLAGS) {
    const attr = flag.slice(2).split(' ')[0]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (o[attr] !== undefined) model[field] = o[attr];
  }
  if (Object.keys(model).length) config.model = model;
  if (o.preset !== undefined) config.preset = o.preset;
  if (o.optionMatch === false) config.optionMatch = false;
  return { plugin: String(o.backbone), config };
}

/** Runs a spec built from flags, or prints it with --print-spec. */
async function runFromFlags(raw: Record<string, unknown>, o: { printSpec?: boolean; runId?: string }): Promise<void> {
  const spec = parseRunSpec(raw, 'flags');
  if (o.printSpec) {
    process.stdout.write(JSON.stringify(spec, null, 2) + '\n');
    return;
  }
  await runSpecNow(spec, o.runId);
}

/** Runs a resolved spec in this process with terminal progress and the control plane's IPC sink; logs the outcome. */
export async function runSpecNow(spec: RunSpec, runId?: string, quiet = false, progress?: ProgressReporter): Promise<Awaited<ReturnType<typeof executeSpec>>> {
  const io = runIo(quiet);
  const { registry } = await discoverAll();
  const outcome = await executeSpec(spec, registry, { ...io, progress: progress ?? (quiet ? undefined : terminalProgress()), runId: runId ?? process.env.MEDAD_RUN_ID });
  if (outcome.kind === 'sft') io.logger.info(`SFT done: ${outcome.result.steps} steps on ${outcome.result.backend}; held-out ${JSON.stringify(outcome.result.finalEval)}`);
  if (outcome.kind === 'con-grpo') io.logger.info(`Con-GRPO done: ${outcome.result.steps} steps; held-out ${JSON.stringify(outcome.result.finalEval)}`);
  return outcome;
}

const COMMON = (cmd: Command): Command =>
  cmd
    .option('--run-id <id>', 'id reported in events (set by the control plane)')
    .option('--print-spec', 'print the resolved run spec (JSON, for `medad run`) instead of running it');

/** `medad train sft|con-grpo` (and `judge`): flags are a view of the run spec (`medad spec --kind sft`). */
export function registerTrainCommands(program: Command): void {
  const train = program.command('train').description('train the policy: SFT ("cognitive injection"), then Con-GRPO');
  const sftLike = (name: string, description: string, target?: 'base'): void => {
    const cmd = train
      .command(name)
      .description(description)
      .requiredOption('--data <dir>', 'dataset directory (samples.jsonl + images), e.g. from `medad data synth`')
      .requiredOption('--out <dir>', 'run directory: spec.json, metrics.jsonl, checkpoint/, run.json')
      .option('--from <dir>', "start from this checkpoint's (or run directory's) weights and tokenizer, e.g. a `medad train base` run")
      .option('--seed <n>', 'random seed', int);
    addBackboneFlags(cmd, 'default tfjs-vlm, small');
    addSectionFlags(cmd, sftHyperSchema, target ? ['target'] : []);
    addSectionFlags(cmd, trainComputeSchema);
    COMMON(cmd).action(async (o: Record<string, unknown>) => {
      const hyper = { ...sectionValues(o, sftHyperSchema), ...(target ? { target } : {}) };
      await runFromFlags(
        { kind: 'sft', data: resolve(String(o.data)), out: resolve(String(o.out)), ...(o.from ? { from: resolve(String(o.from)) } : {}), seed: o.seed, backbone: backboneOf(o), hyper, compute: sectionValues(o, trainComputeSchema) },
        o,
      );
    });
  };
  sftLike('sft', 'supervised fine-tuning on CoT + answer; re-running with the same --out resumes from its checkpoint');
  sftLike(
    'base',
    'the base stage (what a pre-trained VLM brings): the answer format and a general description of each image, with a uniformly drawn answer letter — no supervision of the five tasks (an sft spec with hyper.target = base); RL-only starts from it',
    'base',
  );

  const grpo = train
    .command('con-grpo')
    .description('Con-GRPO (GRPO + consistency reward); without --from it is RL-only from a fresh policy')
    .option('--from <dir>', 'SFT run directory or checkpoint to start from (omit for RL-only)')
    .requiredOption('--data <dir>', 'dataset directory')
    .requiredOption('--out <dir>', 'run directory; re-running resumes')
    .option('--rewards <spec>', 'reward plugin ids with weights λ, e.g. format=0.3333,accuracy=0.3333,consistency=0.3333 (default: the paper\'s 1/3 each)')
    .option('--reward-config <id=json>', 'a reward plugin\'s config, e.g. consistency={"x":1} (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--judge <id>', 'judge plugin for the consistency reward: ID, ID:CHECKPOINT or ID:{json} (none to disable)', 'rule')
    .option('--seed <n>', 'random seed', int);
  addBackboneFlags(grpo, 'for RL-only');
  addSectionFlags(grpo, conGrpoHyperSchema);
  addSectionFlags(grpo, trainComputeSchema);
  COMMON(grpo).action(async (o: Record<string, unknown>) => {
    const configs = new Map<string, Record<string, unknown>>();
    for (const entry of (o.rewardConfig as string[] | undefined) ?? []) {
      const eq = entry.indexOf('=');
      configs.set(entry.slice(0, eq).trim(), jsonObject(entry.slice(eq + 1)));
    }
    const chosen = o.rewards ? rewardWeights(String(o.rewards)).map((r) => ({ plugin: r.id, weight: r.weight })) : configs.size ? DEFAULT_REWARDS : undefined;
    const rewards = chosen?.map((r) => ({ plugin: r.plugin, weight: r.weight, config: configs.get(r.plugin) ?? {} }));
    for (const id of configs.keys()) {
      if (!rewards?.some((r) => r.plugin === id)) throw new MedadError(ErrorCode.BadUserInput, `--reward-config names "${id}", which is not among the rewards`, { fix: `add it to --rewards (e.g. --rewards ${id}=1,...) or drop its --reward-config` });
    }
    const judge = o.judge === 'none' ? null : parseJudgeSpec(String(o.judge));
    await runFromFlags(
      {
        kind: 'con-grpo',
        data: resolve(String(o.data)),
        out: resolve(String(o.out)),
        ...(o.from ? { from: resolve(String(o.from)) } : {}),
        seed: o.seed,
        backbone: backboneOf(o),
        ...(rewards ? { rewards } : {}),
        judge: judge && { plugin: judge.id, config: judge.config },
        hyper: sectionValues(o, conGrpoHyperSchema),
        compute: sectionValues(o, trainComputeSchema),
      },
      o,
    );
  });
  registerTrainJudgeCommand(train);
}
