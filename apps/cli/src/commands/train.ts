import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { trainConGrpo, trainSft, CON_GRPO_DEFAULTS, SFT_DEFAULTS } from '@medad/trainer';
import { terminalProgress } from '../progress.js';
import { DEFAULT_REWARDS, int, num, rewardsAndJudge, runIo, taskWeightsArg } from './shared.js';
import { registerTrainJudgeCommand } from './train-judge.js';

/** `--threads auto|N`. */
function threadsArg(v: string): number | 'auto' {
  return v === 'auto' ? 'auto' : int(v);
}

/** `--grad-engine auto|ort|tfjs` (a fresh Option per command). */
const GRAD_ENGINE_OPTION = (): Option =>
  new Option('--grad-engine <e>', 'gradient engine: ort = forward + reverse mode as one ONNX Runtime graph; tfjs = tfjs autodiff; auto = ort unless the config has rotary positions')
    .choices(['auto', 'ort', 'tfjs'])
    .default(SFT_DEFAULTS.gradEngine);

/** `medad train sft|con-grpo`. */
export function registerTrainCommands(program: Command): void {
  const train = program.command('train').description('train the policy: SFT ("cognitive injection"), then Con-GRPO');
  train
    .command('sft')
    .description('supervised fine-tuning on CoT + answer; re-running with the same --out resumes from its checkpoint')
    .requiredOption('--data <dir>', 'dataset directory (samples.jsonl + images), e.g. from `medad data synth`')
    .requiredOption('--out <dir>', 'run directory: metrics.jsonl, checkpoint/, run.json')
    .addOption(new Option('--preset <preset>', 'model size').choices(['tiny', 'small', 'base']).default(SFT_DEFAULTS.preset))
    .option('--seed <n>', 'random seed', int, SFT_DEFAULTS.seed)
    .option('--steps <n>', 'optimisation steps', int, SFT_DEFAULTS.steps)
    .option('--batch-size <n>', 'samples per micro-batch', int, SFT_DEFAULTS.batchSize)
    .option('--grad-accumulation <n>', 'micro-batches per step', int, SFT_DEFAULTS.gradAccumulation)
    .option('--lr <x>', 'peak learning rate', num, SFT_DEFAULTS.lr)
    .option('--warmup-steps <n>', 'linear warmup steps', int, SFT_DEFAULTS.warmupSteps)
    .option('--eval-every <n>', 'held-out evaluation every N steps (0 = at the end)', int, SFT_DEFAULTS.evalEvery)
    .option('--eval-samples <n>', 'held-out samples per evaluation', int, SFT_DEFAULTS.evalSamples)
    .option('--save-every <n>', 'checkpoint every N steps', int, SFT_DEFAULTS.saveEvery)
    .option('--answer-weight <x>', 'loss weight of the answer-letter tokens relative to the other target tokens', num, SFT_DEFAULTS.answerWeight)
    .option('--time-budget <seconds>', 'stop (evaluated and checkpointed) at the first step past this wall time; the schedule still follows --steps', num)
    .option('--rotary-dims <n>', 'rotary positions on N columns per attention head (even, ≤ dModel/nHeads; fresh runs only)', int)
    .option('--patch-stem <channels>', 'nonlinear patch stem with N channels per quarter patch (preset default: small 64; 0 = linear patches; fresh runs only)', int)
    .option('--pos-init-std <x>', 'init std of the positional and token embeddings (preset default 0.3; fresh runs only)', num)
    .option('--image-size <px>', "input image side in pixels (a multiple of the preset's patch size; fresh runs only)", int)
    .option('--no-option-match', 'turn off the exact-match option features (each token knows which options contain it; fresh runs only)')
    .option('--task-weights <spec>', 'relative sampling weight per task, e.g. anatomy_identification=0.5,modality_classification=0.5 (absent tasks weigh 1)', taskWeightsArg)
    .option('--focal-gamma <x>', 'focal token loss: weight each target token by (1 − p)^γ (0 = plain cross-entropy)', num, SFT_DEFAULTS.focalGamma)
    .option('--grounding <x>', "weight of the lesion grounding loss: image tokens also learn which patches a sample's bbox covers (0 = off; fresh runs get the head)", num, SFT_DEFAULTS.grounding)
    .option('--threads <n>', 'threads computing gradients (ort: intra-op threads, auto = every core; tfjs: data-parallel workers, auto = 2 on wasm with ≥ 2 cores)', threadsArg, 'auto')
    .addOption(GRAD_ENGINE_OPTION())
    .addOption(new Option('--backend <b>', 'tfjs compute backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'))
    .option('--run-id <id>', 'id reported in events (set by the control plane)')
    .action(async (o) => {
      const io = runIo();
      const { timeBudget, rotaryDims, patchStem, imageSize, posInitStd, ...rest } = o;
      const modelConfig = {
        ...(rotaryDims !== undefined ? { rotaryDims } : {}),
        ...(patchStem !== undefined ? { patchStem } : {}),
        ...(imageSize !== undefined ? { imageSize } : {}),
        ...(posInitStd !== undefined ? { posInitStd } : {}),
      };
      const result = await trainSft({
        ...rest,
        ...(timeBudget !== undefined ? { timeBudgetS: timeBudget } : {}),
        ...(Object.keys(modelConfig).length ? { modelConfig } : {}),
        dataDir: resolve(o.data),
        outDir: resolve(o.out),
        progress: terminalProgress(),
        ...io,
      });
      io.logger.info(`SFT done: ${result.steps} steps on ${result.backend}; held-out ${JSON.stringify(result.finalEval)}`);
      result.policy.dispose();
    });
  train
    .command('con-grpo')
    .description('Con-GRPO (GRPO + consistency reward); without --from it is RL-only from a fresh policy')
    .option('--from <dir>', 'SFT run directory or checkpoint to start from (omit for RL-only)')
    .requiredOption('--data <dir>', 'dataset directory')
    .requiredOption('--out <dir>', 'run directory; re-running resumes')
    .addOption(new Option('--preset <preset>', 'model size for RL-only').choices(['tiny', 'small', 'base']).default('small'))
    .option('--rewards <spec>', 'reward plugin ids with weights λ', DEFAULT_REWARDS)
    .option('--judge <id>', 'judge plugin for the consistency reward (none to disable)', 'rule')
    .option('--seed <n>', 'random seed', int, CON_GRPO_DEFAULTS.seed)
    .option('--steps <n>', 'optimisation steps', int, CON_GRPO_DEFAULTS.steps)
    .option('--prompts-per-step <n>', 'prompts per step', int, CON_GRPO_DEFAULTS.promptsPerStep)
    .option('--group-size <n>', 'completions per prompt (G)', int, CON_GRPO_DEFAULTS.groupSize)
    .option('--temperature <x>', 'sampling temperature', num, CON_GRPO_DEFAULTS.temperature)
    .option('--top-p <x>', 'nucleus mass', num, CON_GRPO_DEFAULTS.topP)
    .option('--max-new-tokens <n>', 'completion token budget', int, CON_GRPO_DEFAULTS.maxNewTokens)
    .option('--lr <x>', 'learning rate', num, CON_GRPO_DEFAULTS.lr)
    .option('--beta <x>', 'KL coefficient β (k3 to the frozen start)', num, CON_GRPO_DEFAULTS.beta)
    .option('--epsilon <x>', 'clip ε', num, CON_GRPO_DEFAULTS.epsilon)
    .option('--epsilon-high <x>', 'upper clip (DAPO clip-higher); defaults to ε', num)
    .addOption(new Option('--advantage-scale <s>', 'none = paper R − mean; group/batch divide by std').choices(['none', 'group', 'batch']).default(CON_GRPO_DEFAULTS.advantageScale))
    .addOption(new Option('--loss <agg>', 'loss aggregation').choices(['grpo', 'dr_grpo', 'dapo']).default(CON_GRPO_DEFAULTS.lossAggregation))
    .option('--mu <n>', 'optimisation passes per rollout batch', int, CON_GRPO_DEFAULTS.mu)
    .option('--threads <n>', 'threads computing the policy-update gradients (ort: intra-op threads, auto = every core; tfjs: data-parallel workers, auto = 2 on wasm with ≥ 2 cores)', threadsArg, 'auto')
    .addOption(GRAD_ENGINE_OPTION())
    .option('--oversample <x>', 'dynamic sampling (DAPO): roll out x × the prompts, train on the first groups whose rewards differ (1 = off)', num, CON_GRPO_DEFAULTS.oversample)
    .addOption(new Option('--rollout <engine>', 'rollout engine').choices(['ort', 'tfjs']).default(CON_GRPO_DEFAULTS.rollout))
    .option('--eval-every <n>', 'held-out evaluation every N steps', int, CON_GRPO_DEFAULTS.evalEvery)
    .option('--eval-samples <n>', 'held-out samples per evaluation', int, CON_GRPO_DEFAULTS.evalSamples)
    .option('--save-every <n>', 'checkpoint every N steps', int, CON_GRPO_DEFAULTS.saveEvery)
    .addOption(new Option('--backend <b>', 'tfjs compute backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'))
    .option('--run-id <id>', 'id reported in events (set by the control plane)')
    .action(async (o) => {
      const io = runIo();
      const { rewards, judge } = await rewardsAndJudge(o.rewards, o.judge);
      const result = await trainConGrpo({
        ...o,
        from: o.from ? resolve(o.from) : undefined,
        dataDir: resolve(o.data),
        outDir: resolve(o.out),
        lossAggregation: o.loss,
        rewards,
        judge,
        progress: terminalProgress(),
        ...io,
      });
      io.logger.info(`Con-GRPO done: ${result.steps} steps; held-out ${JSON.stringify(result.finalEval)}`);
      result.policy.dispose();
    });
  registerTrainJudgeCommand(train);
}
