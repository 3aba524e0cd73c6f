import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { groupRelativeAdvantage, selectGroups, zeroVarianceFraction } from './advantage.js';
import { grpoLoss, grpoStatSums, grpoStats, k3Kl, statsFromSums, type GrpoLossOptions } from './loss.js';
import { compositeReward } from './rewards.js';

const close = (a: number, b: number, tol = 1e-5): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('advantages: paper R − mean, group-std and batch-std scaling', () => {
  const rewards = [
    [1, 0, 0, 1],
    [1, 1, 1, 1],
  ];
  assert.deepEqual(groupRelativeAdvantage(rewards, 'none'), [
    [0.5, -0.5, -0.5, 0.5],
    [0, 0, 0, 0],
  ]);
  const g = groupRelativeAdvantage(rewards, 'group');
  close(g[0]![0]!, 0.5 / (0.5 + 1e-4));
  assert.deepEqual(g[1], [0, 0, 0, 0]);
  const b = groupRelativeAdvantage(rewards, 'batch');
  const batchStd = Math.sqrt((4 * 0.0625 + 2 * 0.0625 + 2 * 0.5625) / 8); // mean 0.75 over 8 rewards
  close(b[0]![0]!, 0.5 / (batchStd + 1e-4));
  assert.equal(zeroVarianceFraction(rewards), 0.5);
});

test('dynamic sampling keeps the first groups whose rewards differ', () => {
  const groups = [
    [1, 1, 1],
    [0, 1, 0],
    [0, 0, 0],
    [1, 0, 1],
    [0.5, 1, 1],
  ];
  assert.deepEqual(selectGroups(groups, Infinity), [0, 1, 2, 3, 4]);
  assert.deepEqual(selectGroups(groups, 2), [1, 3]);
  assert.deepEqual(selectGroups(groups, 10), [1, 3, 4]);
  assert.deepEqual(selectGroups([[1, 1]], 4), []);
});

test('k3 KL is zero at equality and positive otherwise', () => {
  const kl = k3Kl(tf.tensor([-1, -2, -0.5]), tf.tensor([-1, -1, -2]));
  const v = kl.arraySync() as number[];
  close(v[0]!, 0);
  close(v[1]!, Math.exp(1) - 1 - 1);
  close(v[2]!, Math.exp(-1.5) + 1.5 - 1);
  kl.dispose();
});

const base: GrpoLossOptions = { epsilon: 0.2, beta: 0, aggregation: 'grpo', maxCompletionLength: 4 };

test('at ratio 1 the GRPO gradient is −A/|o| per token (grpo aggregation)', () => {
  const lp = tf.tensor2d([
    [-1, -2, -3, 0],
    [-1, -1, 0, 0],
  ]);
  const mask = tf.tensor2d([
    [1, 1, 1, 0],
    [1, 1, 0, 0],
  ]);
  const adv = tf.tensor1d([1, -2]);
  const old = lp.clone(); // a separate tensor, as in training: no gradient flows into it
  const grad = tf.grad((x: tf.Tensor) =>
    grpoLoss({ logProbs: x as tf.Tensor2D, oldLogProbs: old, mask, advantages: adv }, base),
  )(lp);
  const g = grad.arraySync() as number[][];
  // loss = −mean_i (1/|o_i|) Σ_t r·A  ⇒ ∂/∂logp = −A_i / (|o_i| · B)
  close(g[0]![0]!, -1 / 3 / 2);
  close(g[1]![1]!, 2 / 2 / 2);
  close(g[0]![3]!, 0);
  tf.dispose([lp, old, mask, adv, grad]);
});

test('shards with the batch totals add up to the batch loss and diagnostics, for every aggregation', () => {
  // 5 completions of different lengths, the ratio off 1 (so clipping and KL are non-trivial).
  const lengths = [3, 1, 4, 2, 4];
  const T = 4;
  const rnd = (i: number): number => Math.sin(i * 12.9898) * 0.5;
  const rows = (f: (b: number, t: number) => number): number[][] => lengths.map((_, b) => Array.from({ length: T }, (_, t) => f(b, t)));
  const lp = rows((b, t) => -1 + rnd(b * T + t));
  const old = rows((b, t) => -1 + rnd(b * T + t + 100));
  const ref = rows((b, t) => -1.2 + rnd(b * T + t + 200));
  const mask = rows((b, t) => (t < lengths[b]! ? 1 : 0));
  const adv = [1, -0.5, 2, -1, 0.25];
  const inputs = (from: number, to: number) => ({
    logProbs: tf.tensor2d(lp.slice(from, to)),
    oldLogProbs: tf.tensor2d(old.slice(from, to)),
    refLogProbs: tf.tensor2d(ref.slice(from, to)),
    mask: tf.tensor2d(mask.slice(from, to)),
    advantages: tf.tensor1d(adv.slice(from, to)),
  });
  const totals = { rows: 5, tokens: lengths.reduce((a, b) => a + b, 0) };
  for (const aggregation of ['grpo', 'dapo', 'dr_grpo'] as const) {
    const o: GrpoLossOptions = { epsilon: 0.1, beta: 0.04, aggregation, maxCompletionLength: T };
    const whole = inputs(0, 5);
    const full = grpoLoss(whole, o).dataSync()[0]!;
    const parts = [inputs(0, 2), inputs(2, 5)];
    const sharded = parts.reduce((a, x) => a + grpoLoss(x, { ...o, totals }).dataSync()[0]!, 0);
    close(sharded, full, 1e-6);
    // The per-shard sums give the whole batch's diagnostics.
    const sums = parts.map((x) => Array.from(grpoStatSums(x, o).dataSync()));
    const added = sums[0]!.map((v, k) => v + sums[1]![k]!);
    const s = statsFromSums(added);
    const w = grpoStats(whole, o);
    close(s.kl, w.kl, 1e-6);
    close(s.clipFraction, w.clipFraction, 1e-6);
    close(s.meanRatio, w.meanRatio, 1e-6);
    assert.ok(w.clipFraction > 0 && w.kl > 0, `non-trivial diagnostics (${JSON.stringify(w)})`);
  }
});

test('aggregations differ as specified: dapo per token, dr_grpo by a constant', () => {
  const lp = tf.tensor2d([[-1, -1, -1, -1], [-1, 0, 0, 0]]);
  const mask = tf.tensor2d([[1, 1, 1, 1], [1, 0, 0, 0]]);
  const adv = tf.tensor1d([1, 1]);
  const loss = (aggregation: GrpoLossOptions['aggregation']): number =>
    grpoLoss({ logProbs: lp, oldLogProbs: lp, mask, advantages: adv }, { ...base, aggregation }).dataSync()[0]!;
  close(loss('grpo'), -1);
  close(loss('dapo'), -1);
  close(loss('dr_grpo'), -5 / (2 * 4));
  tf.dispose([lp, mask, adv]);
});

test('clipping stops the gradient once the ratio leaves the trust region in the advantage direction', () => {
  const old = tf.tensor2d([[-1]]);
  const mask = tf.tensor2d([[1]]);
  const adv = tf.tensor1d([1]);
  const far = tf.tensor2d([[-1 + Math.log(1.5)]]); // ratio 1.5 > 1.2 with A > 0: clipped
  const g = tf.grad((x: tf.Tensor) => grpoLoss({ logProbs: x as tf.Tensor2D, oldLogProbs: old, mask, advantages: adv }, base))(far);
  close(g.dataSync()[0]!, 0);
  const stats = grpoStats({ logProbs: far, oldLogProbs: old, mask, advantages: adv }, base);
  close(stats.clipFraction, 1);
  close(stats.meanRatio, 1.5, 1e-4);
  const higher = tf.grad((x: tf.Tensor) =>
    grpoLoss({ logProbs: x as tf.Tensor2D, oldLogProbs: old, mask, advantages: adv }, { ...base, epsilonHigh: 0.6 }),
  )(far);
  close(higher.dataSync()[0]!, -1.5, 1e-4); // inside the raised upper bound: ∂(−r·A)/∂logp = −r
  tf.dispose([old, mask, adv, far, g, higher]);
});

test('the KL term pulls the policy toward the reference', () => {
  const lp = tf.tensor2d([[-0.5]]);
  const ref = tf.tensor2d([[-1.5]]);
  const mask = tf.tensor2d([[1]]);
  const adv = tf.tensor1d([0]);
  const g = tf.grad((x: tf.Tensor) =>
    grpoLoss({ logProbs: x as tf.Tensor2D, oldLogProbs: lp.clone(), refLogProbs: ref, mask, advantages: adv }, { ...base, beta: 0.04 }),
  )(lp);
  // d/dlogp of β·k3 = β·(1 − exp(ref − logp)) > 0 when logp > ref: descent lowers logp.
  close(g.dataSync()[0]!, 0.04 * (1 - Math.exp(-1)), 1e-6);
  tf.dispose([lp, ref, mask, adv, g]);
});

test('composite reward weights components and skips nulls', async () => {
  const a = { name: 'a', score: () => [1, 0, null] };
  const b = { name: 'b', score: async () => [1, 1, 1] };
  const out = await compositeReward(
    [
      { reward: a, weight: 0.5 },
      { reward: b, weight: 0.25 },
    ],
    [{}, {}, {}] as never,
  );
  assert.deepEqual(out.total, [0.75, 0.25, 0.25]);
  assert.deepEqual(out.components['a'], [1, 0, null]);
});
