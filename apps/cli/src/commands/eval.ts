import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRootContainer, ErrorCode, MedadError, type Backbone, type Judge } from '@medad/core';
import { JsonlDataset } from '@medad/dataset';
import { evaluate, resultsTable, aggregateSeeds } from '@medad/evaluator';
import { terminalProgress } from '../progress.js';
import { discoverAll, intList, int, num, parseJudgeSpec, resolveCheckpoint } from './shared.js';

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
    .option('--out <dir>', 'write predictions.jsonl and eval.json here (an existing predictions file is resumed)')
    .option('--json', 'print the result as JSON')
    .action(async (o) => {
      const { registry } = await discoverAll();
      const container = createRootContainer();
      let backboneId: string = o.backbone;
      let config: Record<string, unknown>;
      if (backboneId === 'openai') {
        if (!o.baseUrl || !o.model) throw new MedadError(ErrorCode.BadUserInput, '--backbone openai needs --base-url and --model', { fix: 'e.g. --base-url http://127.0.0.1:8000/v1 --model my-vlm' });
        config = { baseUrl: o.baseUrl, model: o.model };
      } else {
        if (!o.checkpoint) throw new MedadError(ErrorCode.BadUserInput, '--checkpoint is required for local backbones', { fix: 'pass a run directory from `medad train ...`' });
        const dir = resolveCheckpoint(o.checkpoint);
        if (!existsSync(dir)) throw new MedadError(ErrorCode.NotFound, `Checkpoint ${dir} does not exist`, { fix: 'pass a run directory or checkpoint directory' });
        if (backboneId === 'auto') backboneId = existsSync(join(dir, 'decoder_model.onnx')) ? 'onnx' : 'tfjs-vlm';
        config = backboneId === 'onnx' ? { dir } : { checkpoint: dir };
      }
      const backbone: Backbone = await registry.create('backbone', backboneId, config, container);
      let judge: Judge | undefined;
      if (o.judge !== 'none') {
        const { id, config: judgeConfig } = parseJudgeSpec(o.judge);
        judge = await registry.create('judge', id, judgeConfig, container);
      }
      const dataset = JsonlDataset.open(resolve(o.data));
      const result = await evaluate({
        backbone,
        dataset,
        judge,
        decoding: o.sample ? 'sample' : 'greedy',
        seeds: o.seeds,
        temperature: o.temperature,
        split: o.split,
        limit: o.limit,
        batchSize: o.batchSize,
        outDir: o.out ? resolve(o.out) : undefined,
        progress: o.json ? undefined : terminalProgress(),
      });
      await backbone.dispose?.();
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
