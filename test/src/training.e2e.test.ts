/**
 * Training on the `tiny` preset through the real trainers and the real `medad` command:
 * SFT lowers the held-out loss; Con-GRPO from that checkpoint raises the mean reward on a fixed
 * batch; a run SIGKILLed mid-way and started again with the same command
 * ends with every step exactly once and the same metrics as an uninterrupted run (SFT and
 * Con-GRPO).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { synthesize } from '@medad/plugin-dataset-synthetic';
import { VlmPolicy } from '@medad/policy';
import { createRootContainer, JudgeToken, PluginRegistry, type Judge } from '@medad/core';
import { accuracyRewardPlugin } from '@medad/plugin-reward-accuracy';
import { consistencyRewardPlugin } from '@medad/plugin-reward-consistency';
import { formatRewardPlugin } from '@medad/plugin-reward-format';
import { ruleJudgePlugin } from '@medad/plugin-judge-rule';
import { encodeSamples, loadSplit, trainConGrpo, trainSft, trainTokenizer, type EncodedSample, type WeightedReward } from '@medad/trainer';
import { MEDAD, readRows, type MetricsRow } from './harness.js';

let work = '';
let data = '';

before(() => {
  work = mkdtempSync(join(tmpdir(), 'medad-training-'));
  data = join(work, 'data');
  synthesize({ out: data, samples: 400, seed: 11 });
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Mean negative log-likelihood per target token (CoT + answer) — the SFT objective — on held-out items. */
function heldOutNll(policy: VlmPolicy, items: readonly EncodedSample[]): number {
  return tf.tidy(() => {
    const { logProbs, mask } = policy.logProbs(
      items.map((b) => b.prompt),
      items.map((b) => b.target),
    );
    return -(logProbs.mul(mask).sum().dataSync()[0]! / mask.sum().dataSync()[0]!);
  });
}

type Row = MetricsRow;

/** Runs `medad <args>` to completion; asserts exit 0. */
function medad(args: string[]): void {
  const r = spawnSync(process.execPath, [MEDAD, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, `medad ${args.join(' ')} failed:\n${r.stderr}`);
}

/** Starts `medad <args>`, SIGKILLs it once `metrics.jsonl` holds `rows` rows, waits for it to die. */
async function killAfterRows(args: string[], out: string, rows: number): Promise<number> {
  const child = spawn(process.execPath, [MEDAD, ...args], { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 120_000;
  while (readRows(out).length < rows) {
    if (child.exitCode !== null) assert.fail(`medad ${args.join(' ')} exited (${child.exitCode}) before it could be killed`);
    if (Date.now() > deadline) assert.fail('no progress within 120 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await exited;
  return readRows(out).length;
}

/** Every step 1..n exactly once, and each metric equal to the uninterrupted run's within float tolerance. */
function assertSameRun(resumed: Row[], reference: Row[], steps: number, keys: string[]): void {
  assert.deepEqual(
    resumed.map((r) => r.step),
    Array.from({ length: steps }, (_, i) => i + 1),
    'each step exactly once',
  );
  for (const key of keys) {
    for (let i = 0; i < steps; i++) {
      const a = resumed[i]![key]!;
      const b = reference[i]![key]!;
      assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `step ${i + 1} ${key}: resumed ${a} vs uninterrupted ${b}`);
    }
  }
}

describe('training on tiny', () => {
  test('SFT lowers the held-out loss (CoT + answer tokens) to under half of the untrained policy’s', async (t) => {
    const { samples: train } = loadSplit(data, 'train');
    const { dataset, samples: test } = loadSplit(data, 'test');
    const untrained = await VlmPolicy.create({ preset: 'tiny', tokenizer: trainTokenizer(train), seed: 5 });
    const before = heldOutNll(untrained, encodeSamples(untrained, dataset.root, test));
    untrained.dispose();
    const result = await trainSft({ dataDir: data, outDir: join(work, 'sft-learn'), preset: 'tiny', seed: 5, steps: 400, lr: 3e-3, evalEvery: 0, evalSamples: 10 });
    const afterNll = heldOutNll(result.policy, encodeSamples(result.policy, dataset.root, test));
    result.policy.dispose();
    t.diagnostic(`held-out NLL per token: untrained ${before.toFixed(3)}, after 400 SFT steps ${afterNll.toFixed(3)}`);
    assert.ok(before > 4, `an untrained policy is near uniform (NLL ${before.toFixed(2)})`);
    assert.ok(afterNll < before / 2, `held-out NLL ${before.toFixed(3)} → ${afterNll.toFixed(3)}`);
  });

  test('Con-GRPO raises the mean reward over 20 steps on a fixed batch (format + accuracy + consistency, rule judge)', async (t) => {
    const registry = new PluginRegistry().register(formatRewardPlugin).register(accuracyRewardPlugin).register(consistencyRewardPlugin).register(ruleJudgePlugin);
    const container = createRootContainer();
    const judge: Judge = await registry.create('judge', 'rule', {}, container);
    container.register(JudgeToken, judge);
    const rewards: WeightedReward[] = [];
    for (const id of ['format', 'accuracy', 'consistency']) rewards.push({ reward: await registry.create('reward', id, {}, container), weight: 1 / 3 });
    const result = await trainConGrpo({
      dataDir: data, outDir: join(work, 'grpo-fixed'), from: join(work, 'sft-learn'), rewards, judge, seed: 3, steps: 20,
      fixedIndices: [0], promptsPerStep: 1, groupSize: 16, lr: 3e-4, mu: 2, maxNewTokens: 64, evalEvery: 0, evalSamples: 0, saveEvery: 100,
    });
    result.policy.dispose();
    const r = result.rewardHistory;
    assert.equal(r.length, 20);
    const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
    const first = mean(r.slice(0, 5));
    const last = mean(r.slice(-5));
    t.diagnostic(`mean reward steps 1–5 ${first.toFixed(3)}, steps 16–20 ${last.toFixed(3)}`);
    assert.ok(last - first >= 0.05, `mean reward, steps 1–5 ${first.toFixed(3)} → steps 16–20 ${last.toFixed(3)} (${r.map((x) => x.toFixed(2)).join(' ')})`);
  });

  test('the base stage learns the answer format while its answers stay at chance on the five tasks; SFT can start from it', async (t) => {
    const result = await trainSft({ dataDir: data, outDir: join(work, 'base'), preset: 'tiny', seed: 5, steps: 1400, lr: 3e-3, target: 'base', evalEvery: 0, evalSamples: 120 });
    result.policy.dispose();
    const e = result.finalEval;
    t.diagnostic(`base: format ${e.eval_format!.toFixed(1)}%, accuracy ${e.eval_overall!.toFixed(1)}% on 120 test questions`);
    assert.ok(e.eval_format! >= 90, `format ${e.eval_format}`);
    // Chance is 25%; 40% is > 3.5 binomial standard deviations above it on 120 questions.
    assert.ok(e.eval_overall! < 40, `accuracy ${e.eval_overall}`);
    assert.equal(e.eval_think, 0, 'the base reasoning never names a finding');
    const sft = await trainSft({ dataDir: data, outDir: join(work, 'sft-from-base'), from: join(work, 'base'), seed: 5, steps: 2, evalEvery: 0, evalSamples: 5 });
    assert.equal(sft.policy.tokenizer.vocabSize, (await VlmPolicy.load(join(work, 'base', 'checkpoint'))).tokenizer.vocabSize, 'SFT started from the base keeps its tokenizer');
    sft.policy.dispose();
  });

  const sftArgs = (out: string): string[] =>
    ['train', 'sft', '--data', data, '--out', out, '--preset', 'tiny', '--seed', '3', '--steps', '16', '--batch-size', '8', '--save-every', '4', '--eval-every', '0', '--eval-samples', '10'];

  test('SFT killed with SIGKILL and re-run with the same command continues from its checkpoint and matches an uninterrupted run', async () => {
    const reference = join(work, 'sft-ref');
    medad(sftArgs(reference));
    const resumed = join(work, 'sft-killed');
    const seen = await killAfterRows(sftArgs(resumed), resumed, 10);
    assert.ok(seen >= 10 && seen < 16, `killed mid-run after ${seen} rows`);
    medad(sftArgs(resumed));
    assertSameRun(readRows(resumed), readRows(reference), 16, ['loss', 'grad_norm', 'lr']);
    const state = JSON.parse(readFileSync(join(resumed, 'checkpoint', 'trainer-state.json'), 'utf8')) as { step: number };
    assert.equal(state.step, 16);
  });

  test('Con-GRPO killed with SIGKILL and re-run continues from its checkpoint and matches an uninterrupted run', async () => {
    const from = join(work, 'sft-ref');
    const args = (out: string): string[] =>
      ['train', 'con-grpo', '--from', from, '--data', data, '--out', out, '--seed', '3', '--steps', '6', '--prompts-per-step', '2', '--group-size', '4', '--save-every', '2', '--eval-every', '0', '--eval-samples', '0', '--max-new-tokens', '24', '--lr', '1e-3'];
    const reference = join(work, 'grpo-ref');
    medad(args(reference));
    const resumed = join(work, 'grpo-killed');
    const seen = await killAfterRows(args(resumed), resumed, 3);
    assert.ok(seen >= 3 && seen < 6, `killed mid-run after ${seen} rows`);
    medad(args(resumed));
    assertSameRun(readRows(resumed), readRows(reference), 6, ['reward_mean', 'loss', 'kl', 'completion_length']);
  });
});
