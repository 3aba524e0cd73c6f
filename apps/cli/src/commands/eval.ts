import { Command, Option } from 'commander';
import { join, resolve } from 'node:path';
import { ErrorCode, MedadError, parseRunSpec } from '@medad/core';
import { resultsTable, aggregateSeeds } from '@medad/evaluator';
import { intList, int, num, parseJudgeSpec } from './shared.js';
import { runSpecNow } from './train.js';

/** `medad eval`: per-task accuracy, consistency, format, think-correctness over seeds. */
export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate a checkpoint (or any OpenAI-compatible model) on a split (default test); resumable with --out')
    .option('--checkpoint <dir>', 'run directory or checkpoint (tfjs weights, or a directory with exported ONNX files)')
    .requiredOption('--data <dir>', 'dataset directory')
    .addOption(new Option('--backbone <id>', 'backbone plugin (auto: onnx if the directory holds decoder_model.onnx, else tfjs-vlm)').default('auto'))
    .option('--base-url <url>', 'for --backbone openai: endpoint up to /v1')
    .option('--model <name>', 'for --backbone openai: model name')
    .option('--seeds <list>', 'seeds, e.g. 1,2,3 (decode once per seed with --sample)', intList, [0])
    .option('--sample', 'sampled decoding (one run per seed) instead of greedy')
    .option('--temperature <x>', 'sampling temperature with --sample', num, 1)
    .option('--judge <id>', 'judge for the consistency rate: ID, ID:CHECKPOINT or ID:{json} (e.g. learned:runs/judge; none to skip)', 'rule')
    .addOption(new Option('--split <split>', 'which split to answer').choices(['test', 'train']).default('test'))
    .option('--limit <n>', 'only the first N samples of the split', int)
    .option('--batch-size <n>', 'prompts per generate call', int, 16)
    .addOption(new Option('--zoom <mode>', 'coarse-to-fine: answer on the image zoomed into the region the model predicts (predicted) or the labelled lesion (oracle)').choices(['none', 'predicted', 'oracle']).default('none'))
    .addOption(new Option('--device <device>', 'where ONNX Runtime computes: auto = CUDA when its provider is installed, else the CPU').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--out <dir>', 'write predictions.jsonl and eval.json here (an existing predictions file is resumed)')
    .option('--json', 'print the result as JSON')
    .option('--print-spec', 'print the resolved run spec (JSON, for `medad run`) instead of running it')
    .action(async (o) => {
      if (o.backbone === 'openai' && (!o.baseUrl || !o.model)) throw new MedadError(ErrorCode.BadUserInput, '--backbone openai needs --base-url and --model', { fix: 'e.g. --base-url http://127.0.0.1:8000/v1 --model my-vlm' });
      const judge = o.judge === 'none' ? null : parseJudgeSpec(o.judge);
      const spec = parseRunSpec(
        {
          kind: 'eval',
          data: resolve(o.data),
          ...(o.out ? { out: resolve(o.out) } : {}),
          ...(o.checkpoint ? { checkpoint: resolve(o.checkpoint) } : {}),
          backbone: { plugin: o.backbone, config: o.backbone === 'openai' ? { baseUrl: o.baseUrl, model: o.model } : {} },
          judge: judge && { plugin: judge.id, config: judge.config },
          seeds: o.seeds,
          decoding: o.sample ? 'sample' : 'greedy',
          temperature: o.temperature,
          split: o.split,
          limit: o.limit,
          batchSize: o.batchSize,
          zoom: o.zoom,
          device: o.device,
        },
        'flags',
      );
      if (o.printSpec) {
        process.stdout.write(JSON.stringify(spec, null, 2) + '\n');
        return;
      }
      const outcome = await runSpecNow(spec, undefined, Boolean(o.json));
      if (outcome.kind !== 'eval') return;
      const result = outcome.result;
      if (o.json) {
        const { aggregate: _a, perSeed: _p, ...rest } = result;
        process.stdout.write(JSON.stringify(rest, null, 2) + '\n');
        return;
      }
      process.stdout.write(resultsTable([{ method: result.backbone, result: aggregateSeeds(result.perSeed) }]));
      process.stdout.write(`format ${result.formatRate.toFixed(1)}% · invalid ${result.invalidRate.toFixed(1)}% · n=${result.n}\n`);
      if (o.out) process.stdout.write(`predictions: ${join(resolve(o.out), 'predictions.jsonl')}\n`);
    });
}
