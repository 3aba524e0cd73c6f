import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Reward, RewardInput } from '../contracts/reward.js';
import { fixtureRewardInputs } from './fixtures.js';

/** Options for {@link describeRewardContract}. */
export interface RewardContractOptions {
  /** Scores must lie in [min, max] (default [-1, 1]... widen for shaped rewards). */
  range?: [number, number];
  /**
   * The inputs the suite scores (default {@link fixtureRewardInputs}); a reward that reads a
   * trainer-set field (`answerLikelihood`) gets the fixtures with that field filled in.
   */
  inputs?: () => RewardInput[];
  /**
   * The reward compares each completion with its group peers (the G completions of one prompt,
   * `RewardInput.group`): the suite then checks that each group scores the same alone as in the
   * batch, instead of each completion.
   */
  groupRelative?: boolean;
}

/** The conformance suite every reward plugin runs in its own tests. */
export function describeRewardContract(
  label: string,
  factory: () => Reward | Promise<Reward>,
  options: RewardContractOptions = {},
): void {
  const [lo, hi] = options.range ?? [-1, 1];
  const fixtureInputs = options.inputs ?? fixtureRewardInputs;
  describe(`reward contract: ${label}`, () => {
    it('has a non-empty name', async () => {
      const reward = await factory();
      assert.equal(typeof reward.name, 'string');
      assert.ok(reward.name.length > 0, 'name must be non-empty');
    });

    it('returns one finite score (or null) per completion, within range', async () => {
      const reward = await factory();
      const inputs = fixtureInputs();
      const scores = await reward.score(inputs);
      assert.equal(scores.length, inputs.length);
      for (const [i, s] of scores.entries()) {
        if (s === null) continue;
        assert.equal(typeof s, 'number', `score ${i} is not a number`);
        assert.ok(Number.isFinite(s), `score ${i} is not finite: ${s}`);
        assert.ok(s >= lo && s <= hi, `score ${i} = ${s} is outside [${lo}, ${hi}]`);
      }
    });

    it('scores an empty batch as an empty array', async () => {
      const reward = await factory();
      assert.deepEqual(await reward.score([]), []);
    });

    it('is deterministic for the same input', async () => {
      const reward = await factory();
      const a = await reward.score(fixtureInputs());
      const b = await reward.score(fixtureInputs());
      assert.deepEqual(a, b);
    });

    if (!options.groupRelative) {
      it('scores each completion independently of its batch neighbours', async () => {
        const reward = await factory();
        const inputs = fixtureInputs();
        const together = await reward.score(inputs);
        const alone = await Promise.all(inputs.map(async (x) => (await reward.score([x]))[0]));
        assert.deepEqual(alone, together);
      });
    } else {
      it('scores each group independently of the other groups in the batch', async () => {
        const reward = await factory();
        // Two groups interleaved in the batch (the second holds the fixtures in reverse order): a
        // reward must find a completion's peers by `group`, not by position.
        const inputs = [...fixtureInputs().map((x) => ({ ...x, group: 0 })), ...fixtureInputs().reverse().map((x) => ({ ...x, group: 1 }))];
        const order = inputs.map((_, i) => i).sort((a, b) => (a % 2) - (b % 2) || a - b);
        const mixed = order.map((i) => inputs[i]!);
        const together = await reward.score(mixed);
        const alone = new Array<number | null>(mixed.length);
        for (const g of [0, 1]) {
          const at = mixed.map((x, i) => (x.group === g ? i : -1)).filter((i) => i >= 0);
          const scores = await reward.score(at.map((i) => mixed[i]!));
          at.forEach((i, k) => (alone[i] = scores[k]!));
        }
        assert.deepEqual(alone, together);
      });
    }
  });
}
