import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng } from '@medad/core';
import { logSoftmax, sampleFromProbs, sampleToken } from '../sampling.js';
import { buildOnnxModels } from './export.js';
import { decoderWithoutNewKv, imageAt, maxAbsDiff, randomPixels, randomTokens, tinyConfig } from './fixtures.js';
import type { GeneratedSequence } from '../generate.js';
import { OrtPolicy } from './ort-policy.js';
import { referenceForward, referenceGreedy } from './reference.js';
import { randomWeights } from './weights.js';

const cfg = tinyConfig();
const V = cfg.vocabSize;
const weights = randomWeights(cfg, 21, 0.5);
const policyPromise = OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, weights));
after(async () => (await policyPromise).dispose());

const rng = new SeededRng(5);
const prompts = [randomTokens(cfg, 3, rng), randomTokens(cfg, 8, rng), randomTokens(cfg, 5, rng)];
const pixels = randomPixels(cfg, 3, 31);
/** No stop or end token: completions run to the length limit. */
const FREE = { stopIds: [] as number[], eosId: -1 };

test('greedy cached generation gives the reference tokens and log-probs for prompts of different lengths', async () => {
  const policy = await policyPromise;
  const out = await policy.generate(prompts, pixels, { ...FREE, greedy: true, maxNewTokens: 10 });
  assert.ok(new Set(out.flatMap((g) => g[0]!.tokens)).size >= 4, 'greedy output is too repetitive to test anything');
  for (let b = 0; b < prompts.length; b++) {
    const want = referenceGreedy(cfg, weights, imageAt(cfg, pixels, b), prompts[b]!, 10);
    const got = out[b]![0]!;
    assert.deepEqual(got.tokens, want, `prompt ${b}`);
    assert.equal(got.finished, false);
    const full = referenceForward(cfg, weights, imageAt(cfg, pixels, b), [...prompts[b]!, ...want]);
    const refLp = want.map((t, k) => logSoftmax(full.subarray((prompts[b]!.length + k - 1) * V, (prompts[b]!.length + k) * V))[t]!);
    assert.ok(maxAbsDiff(got.tokenLogProbs, refLp) < 1e-4, `prompt ${b} log-probs`);
  }
});

test('stop tokens are kept and end a completion, the eos token ends it unkept; others run on', async () => {
  const policy = await policyPromise;
  const free = await policy.generate(prompts, pixels, { ...FREE, greedy: true, maxNewTokens: 10 });
  const stopAt = free[1]![0]!.tokens[3]!; // the 4th greedy token of prompt 1
  const out = await policy.generate(prompts, pixels, { greedy: true, maxNewTokens: 10, stopIds: [stopAt], eosId: -1 });
  for (let b = 0; b < prompts.length; b++) {
    const all = free[b]![0]!.tokens;
    const cut = all.indexOf(stopAt);
    const got = out[b]![0]!;
    assert.deepEqual(got.tokens, cut >= 0 ? all.slice(0, cut + 1) : all, `prompt ${b}`);
    assert.equal(got.finished, cut >= 0);
  }
  assert.ok(out[1]![0]!.tokens.length <= 4);
  const ended = await policy.generate(prompts, pixels, { greedy: true, maxNewTokens: 10, stopIds: [], eosId: stopAt });
  const cut = free[1]![0]!.tokens.indexOf(stopAt);
  assert.deepEqual(ended[1]![0]!.tokens, free[1]![0]!.tokens.slice(0, cut));
  assert.equal(ended[1]![0]!.finished, true);
  assert.equal(ended[1]![0]!.tokenLogProbs.length, cut);
});

test('sampling: the same seed repeats, group members differ, and log-probs agree with forward-only scoring', async () => {
  const policy = await policyPromise;
  const opts = { ...FREE, groupSize: 4, temperature: 1.5, topP: 0.95, maxNewTokens: 8, seed: 99 };
  const a = await policy.generate(prompts, pixels, opts);
  const b = await policy.generate(prompts, pixels, opts);
  assert.deepEqual(a.map((g) => g.map((c) => c.tokens)), b.map((g) => g.map((c) => c.tokens)));
  assert.equal(a[0]!.length, 4);
  const distinct = new Set(a.flat().map((c) => c.tokens.join(',')));
  assert.ok(distinct.size >= 8, `only ${distinct.size} distinct completions of 12`);
  const c = await policy.generate(prompts, pixels, { ...opts, seed: 100 });
  assert.notDeepEqual(a.map((g) => g.map((x) => x.tokens)), c.map((g) => g.map((x) => x.tokens)));
  // Forward-only log-probs of the sampled completions equal what generation recorded.
  const rows = a.flatMap((group, p) => group.map((comp) => ({ p, comp })));
  const scored = await policy.logProbs({
    prompts: rows.map((r) => prompts[r.p]!),
    completions: rows.map((r) => r.comp.tokens),
    pixels: Float32Array.from(rows.flatMap((r) => Array.from(imageAt(cfg, pixels, r.p)))),
  }, 5);
  rows.forEach((r, i) => assert.ok(maxAbsDiff(scored[i]!, r.comp.tokenLogProbs) < 1e-4, `row ${i}`));
});

test('group members share the prefill: greedy groups are identical copies of the single completion', async () => {
  const policy = await policyPromise;
  const single = await policy.generate(prompts, pixels, { ...FREE, greedy: true, maxNewTokens: 6 });
  const grouped = await policy.generate(prompts, pixels, { ...FREE, greedy: true, maxNewTokens: 6, groupSize: 3 });
  for (let b = 0; b < prompts.length; b++) {
    assert.equal(grouped[b]!.length, 3);
    for (const comp of grouped[b]!) assert.deepEqual(comp.tokens, single[b]![0]!.tokens);
  }
});

test('completions stop at maxTextLen; bad token ids and pixel counts are rejected with the fix', async () => {
  const policy = await policyPromise;
  const long = randomTokens(cfg, cfg.maxTextLen - 2, new SeededRng(6));
  const out = (await policy.generate([long], imageAt(cfg, pixels, 0), { ...FREE, greedy: true, maxNewTokens: 10 }))[0]![0]!;
  assert.equal(out.tokens.length, 2);
  assert.equal(out.finished, false);
  await assert.rejects(policy.generate([[1, V]], imageAt(cfg, pixels, 0)), /token 40 at index 1, outside the vocabulary \[0, 40\).*Fix: encode text/);
  await assert.rejects(policy.encodeImages(new Float32Array(10), 1), /10 pixel values for 1 images.*Fix/);
  await assert.rejects(
    policy.logProbs({ prompts: [long], completions: [[1, 2, 3]], pixels: imageAt(cfg, pixels, 0) }),
    /exceed maxTextLen 32/,
  );
});

test('a decoder exported before the new.* outputs (present only) samples the same completions', async () => {
  const policy = await policyPromise;
  const models = buildOnnxModels(cfg, weights);
  const legacy = await OrtPolicy.fromModels(cfg, { imageEncoder: models.imageEncoder, decoder: decoderWithoutNewKv(models.decoder) });
  try {
    // Stop at a frequent token so rows finish at different steps and the batch is compacted.
    const opts = { groupSize: 4, temperature: 1, topP: 1, maxNewTokens: 9, seed: 4, eosId: -1 };
    const free = await policy.generate(prompts, pixels, { ...opts, stopIds: [] });
    const cutLengths = (stop: number): number => new Set(free.flat().map((c) => (c.tokens.indexOf(stop) + 1 || c.tokens.length))).size;
    const stopAt = [...new Set(free.flat().flatMap((c) => c.tokens))].sort((x, y) => cutLengths(y) - cutLengths(x) || x - y)[0]!;
    const a = await policy.generate(prompts, pixels, { ...opts, stopIds: [stopAt] });
    const b = await legacy.generate(prompts, pixels, { ...opts, stopIds: [stopAt] });
    assert.deepEqual(a.map((g) => g.map((c) => c.tokens)), b.map((g) => g.map((c) => c.tokens)));
    const lengths = new Set(a.flat().map((c) => c.tokens.length));
    assert.ok(lengths.size >= 3, `completions should end at different steps, got lengths ${[...lengths]}`);
    // Each completion is its free run cut after the first stop token.
    a.forEach((g, p) => g.forEach((c, k) => {
      const all = free[p]![k]!.tokens;
      const cut = all.indexOf(stopAt);
      assert.deepEqual(c.tokens, cut >= 0 ? all.slice(0, cut + 1) : all, `prompt ${p} sample ${k}`);
    }));
  } finally {
    await legacy.dispose();
  }
});

test('the decode-step decoder (no grown cache) samples what the full decoder does, with the same log-probs', async () => {
  const policy = await policyPromise;
  const models = buildOnnxModels(cfg, weights);
  const full = await OrtPolicy.fromModels(cfg, { imageEncoder: models.imageEncoder, decoder: models.decoder });
  try {
    const opts = { groupSize: 3, temperature: 1, topP: 1, maxNewTokens: 12, seed: 9, ...FREE };
    const a = await policy.generate(prompts, pixels, opts);
    const b = await full.generate(prompts, pixels, opts);
    assert.deepEqual(a.map((g) => g.map((c) => c.tokens)), b.map((g) => g.map((c) => c.tokens)));
    assert.ok(maxAbsDiff(a.flat().flatMap((c) => c.tokenLogProbs), b.flat().flatMap((c) => c.tokenLogProbs)) < 1e-5);
  } finally {
    await full.dispose();
  }
});

test('sampling without a nucleus cut draws from the tempered softmax and reports the policy log-prob', () => {
  const row = Float32Array.from([2, 0.5, -1, 1.5, 0, -3]);
  const rng = new SeededRng('sample-full');
  for (const temperature of [1, 0.7, 2]) {
    const want = Array.from(logSoftmax(row, temperature), Math.exp);
    const policyLp = logSoftmax(row, 1);
    const n = 20_000;
    const hits = new Array<number>(row.length).fill(0);
    for (let i = 0; i < n; i++) {
      const { token, logProb } = sampleToken(row, { temperature, topP: 1 }, rng);
      hits[token]!++;
      assert.ok(Math.abs(logProb - policyLp[token]!) < 1e-9);
    }
    // Every frequency within 4 binomial standard deviations of its probability.
    want.forEach((p, t) => assert.ok(Math.abs(hits[t]! / n - p) < 4 * Math.sqrt((p * (1 - p)) / n) + 1e-4, `T=${temperature} token ${t}: ${hits[t]! / n} vs ${p}`));
  }
});

test('sampling from a probability row draws from it and reports its log-prob; a token of probability 0 is never drawn', () => {
  const row = Float32Array.from([2, 0.5, -1, 1.5, 0, -3]);
  const lp = logSoftmax(row, 1);
  const probs = Float32Array.from(lp, Math.exp);
  probs[4] = 0;
  const mass = probs.reduce((a, b) => a + b, 0);
  const rng = new SeededRng('sample-probs');
  const n = 20_000;
  const hits = new Array<number>(row.length).fill(0);
  for (let i = 0; i < n; i++) {
    const { token, logProb } = sampleFromProbs(probs, rng);
    hits[token]!++;
    assert.ok(Math.abs(logProb - Math.log(probs[token]! / mass)) < 1e-12);
  }
  assert.equal(hits[4], 0);
  probs.forEach((p, t) => assert.ok(Math.abs(hits[t]! / n - p / mass) < 4 * Math.sqrt(((p / mass) * (1 - p / mass)) / n) + 1e-4, `token ${t}: ${hits[t]! / n} vs ${p / mass}`));
});

test('models taking their weights as inputs generate what the built-in ones do, for each weight set fed', async () => {
  const policy = await policyPromise;
  const live = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, 'inputs'));
  try {
    await assert.rejects(live.generate(prompts, pixels, { greedy: true }), /take their weights as inputs.*Fix: call setWeights/);
    const opts = { ...FREE, groupSize: 2, temperature: 1, maxNewTokens: 6, seed: 8 };
    const same = (a: GeneratedSequence[][], b: GeneratedSequence[][]): void => {
      assert.deepEqual(a.map((g) => g.map((c) => c.tokens)), b.map((g) => g.map((c) => c.tokens)));
      a.flat().forEach((c, i) => assert.ok(maxAbsDiff(c.tokenLogProbs, b.flat()[i]!.tokenLogProbs) < 1e-4));
    };
    live.setWeights(weights);
    same(await live.generate(prompts, pixels, opts), await policy.generate(prompts, pixels, opts));
    const other = randomWeights(cfg, 22, 0.5);
    const fixed = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, other));
    live.setWeights(other);
    same(await live.generate(prompts, pixels, opts), await fixed.generate(prompts, pixels, opts));
    await fixed.dispose();
    assert.throws(() => live.setWeights(new Map()), /OrtPolicy.setWeights: weight ".*" .* is missing/);
  } finally {
    await live.dispose();
  }
});

test('a row that reaches maxTextLen stops while the batch decodes on without it (no position past the table)', async () => {
  const policy = await policyPromise;
  const rng2 = new SeededRng(12);
  // One prompt 2 short of maxTextLen beside four short ones: the long row ends after 2 tokens while
  // too few have finished for the batch to be compacted, so it stays in the batch, masked.
  const batch = [randomTokens(cfg, cfg.maxTextLen - 2, rng2), ...Array.from({ length: 4 }, () => randomTokens(cfg, 4, rng2))];
  const px = randomPixels(cfg, 5, 13);
  const out = await policy.generate(batch, px, { ...FREE, greedy: true, maxNewTokens: 12 });
  assert.deepEqual(out.map((g) => g[0]!.tokens.length), [2, 12, 12, 12, 12]);
  for (let b = 1; b < 5; b++) {
    assert.deepEqual(out[b]![0]!.tokens, referenceGreedy(cfg, weights, imageAt(cfg, px, b), batch[b]!, 12), `prompt ${b}`);
  }
});
