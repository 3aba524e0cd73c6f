import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backbone, PolicyPrompt } from '../contracts/backbone.js';
import { FIXTURE_SAMPLE, fixtureImage } from './fixtures.js';

/** Options for {@link describeBackboneContract}. */
export interface BackboneContractOptions {
  /** Max new tokens per completion in the suite (default 12, to stay fast). */
  maxTokens?: number;
}

function prompts(n: number): PolicyPrompt[] {
  return Array.from({ length: n }, (_, i) => ({ sample: { ...FIXTURE_SAMPLE, id: `fixture-${i}` }, image: fixtureImage() }));
}

/** The conformance suite every backbone plugin runs in its own tests. */
export function describeBackboneContract(
  label: string,
  factory: () => Backbone | Promise<Backbone>,
  options: BackboneContractOptions = {},
): void {
  const maxTokens = options.maxTokens ?? 12;
  describe(`backbone contract: ${label}`, () => {
    it('describes itself with an id and a backend', async () => {
      const b = await factory();
      const info = b.describe();
      assert.ok(info.id.length > 0 && info.backend.length > 0);
      await b.dispose?.();
    });

    it('returns groupSize completions per prompt', async () => {
      const b = await factory();
      const out = await b.generate(prompts(2), { groupSize: 3, maxTokens, seed: 7, temperature: 1 });
      assert.equal(out.length, 2);
      for (const group of out) {
        assert.equal(group.length, 3);
        for (const c of group) {
          assert.equal(typeof c.text, 'string');
          assert.ok(c.tokens.length <= maxTokens);
          assert.ok(Number.isFinite(c.logProb) && c.logProb <= 0);
        }
      }
      await b.dispose?.();
    });

    it('is reproducible: same seed, same completions', async () => {
      const b = await factory();
      const opts = { groupSize: 2, maxTokens, seed: 11, temperature: 1 };
      const x = await b.generate(prompts(1), opts);
      const y = await b.generate(prompts(1), opts);
      assert.deepEqual(
        x.map((g) => g.map((c) => c.tokens)),
        y.map((g) => g.map((c) => c.tokens)),
      );
      await b.dispose?.();
    });

    it('gives log-probs <= 0, one per completion token (when it can score text)', async (t) => {
      const b = await factory();
      if (b.describe().capabilities?.logProbs === false) {
        t.skip('backbone declares capabilities.logProbs = false');
        await b.dispose?.();
        return;
      }
      const [group] = await b.generate(prompts(1), { groupSize: 1, maxTokens, greedy: true, seed: 1 });
      const completion = group![0]!;
      const [lp] = await b.logProbs(prompts(1), [completion.text]);
      assert.ok(lp!.length > 0);
      for (const v of lp!) assert.ok(Number.isFinite(v) && v <= 1e-6, `log-prob ${v} > 0`);
      await b.dispose?.();
    });
  });
}
