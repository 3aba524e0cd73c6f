import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Reward } from '../contracts/reward.js';
import { fixtureRewardInputs } from './fixtures.js';

/** Options for {@link describeRewardContract}. */
export interface RewardContractOptions {
  /** Scores must lie in [min, max] (default [-1, 1]... widen for shaped rewards). */
  range?: [number, number];
}

/** The conformance suite every reward plugin runs in its own tests. */
export function describeRewardContract(
  label: string,
  factory: () => Reward | Promise<Reward>,
  options: RewardContractOptions = {},
): void {
  const [lo, hi] = options.range ?? [-1, 1];
  describe(`reward contract: ${label}`, () => {
    it('has a non-empty name', async () => {
      const reward = await factory();
      assert.equal(typeof reward.name, 'string');
      assert.ok(reward.name.length > 0, 'name must be non-empty');
    });

    it('returns one finite score (or null) per completion, within range', async () => {
      const reward = await factory();
      const inputs = fixtureRewardInputs();
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
      const a = await reward.score(fixtureRewardInputs());
      const b = await reward.score(fixtureRewardInputs());
      assert.deepEqual(a, b);
    });

    it('scores each completion independently of its batch neighbours', async () => {
      const reward = await factory();
      const inputs = fixtureRewardInputs();
      const together = await reward.score(inputs);
      const alone = await Promise.all(inputs.map(async (x) => (await reward.score([x]))[0]));
      assert.deepEqual(alone, together);
    });
  });
}
