import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { SeededRng } from '@medad/core';
import { selectBackend } from '../backend.js';
import { VlmPolicy } from '../policy.js';
import { generateTokens } from '../generate.js';
import { assertGenerationParity } from '../testing/generation-parity.js';
import { sequenceLogProbs, type EncodedPrompt } from '../logprobs.js';
import { presetConfig } from '../vlm/config.js';
import { VlmModel } from '../vlm/model.js';
import { optionMarkers, optionMatchGrid, optionWordSets, type OptionMarkers } from '../vlm/option-match.js';
import { pixelsToNCHW, pixelsToPatches, renderPrompt } from '../vlm/processor.js';
import { WordTokenizer } from '../vlm/tokenizer.js';
import { buildOnnxModels } from './export.js';
import { imageAt, maxAbsDiff, ortVsReference } from './fixtures.js';
import { OrtPolicy } from './ort-policy.js';
import { referenceForward } from './reference.js';
import { randomWeights } from './weights.js';

// Exact-match option features (config `optionMatch`): tfjs (cached and not), the exported decoder
// and the Float64 reference must agree, and the features must follow the prompt's options.
const TOL = 1e-4;
const markers: OptionMarkers = { open: 10, close: 11, end: 12, letters: [13, 14, 15, 16] };
const cfg = presetConfig('tiny', 60, { optionMatch: markers });
/** `<image> q q (A) 30 31 (B) 32 (C) 33 30 (D) 34 Answer :` with words 30–34 in the options. */
function prompt(q: number[]): number[] {
  return [4, ...q, 10, 13, 11, 30, 31, 10, 14, 11, 32, 10, 15, 11, 33, 30, 10, 16, 11, 34, 12, 22];
}

test('option words and match features are read from the prompt ids', () => {
  const ids = prompt([40, 41]);
  assert.deepEqual(optionWordSets(ids, markers).map((s) => [...s]), [[30, 31], [32], [33, 30], [34]]);
  // Completion tokens: 30 is in options A and C, 34 in D, 41 in none.
  const row = [...ids, 30, 34, 41];
  const m = optionMatchGrid(row, 1, row.length, markers);
  const at = (t: number): number[] => Array.from(m.subarray(t * 4, t * 4 + 4));
  assert.deepEqual([at(row.length - 3), at(row.length - 2), at(row.length - 1)], [[1, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]);
  assert.deepEqual(at(0), [0, 0, 0, 0]);
  // The markers of a real tokenizer come from the rendered prompt format.
  const sample = { question: 'Which organ?', options: ['Lung', 'Heart', 'Left Lower', 'Brain'] as [string, string, string, string] };
  const tok = WordTokenizer.train([renderPrompt(sample), renderPrompt(sample)]);
  const real = optionMarkers(tok);
  const sets = optionWordSets(tok.encode(renderPrompt(sample)), real);
  assert.deepEqual(sets.map((s) => [...s].map((id) => tok.decode([id]))), [[' Lung'], [' Heart'], [' Left', ' Lower'], [' Brain']]);
});

let model: VlmModel;
let policy: OrtPolicy;
const rng = new SeededRng(31);
const prompts = [prompt([40]), prompt([41, 42, 43]), prompt([44, 45])];
const S = cfg.imageSize;
const hwc = prompts.map(() => Float32Array.from({ length: S * S * 3 }, () => rng.uniform(-1, 1)));
const encoded: EncodedPrompt[] = prompts.map((promptIds, b) => ({ promptIds, patches: pixelsToPatches(hwc[b]!, cfg) }));
const nchw = new Float32Array(prompts.length * 3 * S * S);
hwc.forEach((img, b) => nchw.set(pixelsToNCHW(img, S), b * 3 * S * S));
// Completions that name option words, so the features are on in the completion too.
const completions = [[30, 50, 34, 51], [32, 33], [52, 31, 30, 34, 53, 54]];

before(async () => {
  await selectBackend();
  const w = randomWeights(cfg, 5, 0.4);
  w.get('opt_emb')!.forEach((_, i, a) => (a[i] = 2 * rng.normal()));
  model = VlmModel.fromWeights(cfg, w);
  policy = await OrtPolicy.fromModels(cfg, buildOnnxModels(cfg, model.weights()));
});
after(async () => {
  model.dispose();
  await policy.dispose();
});

test('option match: ORT forward equals the Float64 reference, and the features change the logits', async () => {
  const V = cfg.vocabSize;
  const worst = await ortVsReference(policy, cfg, model.weights(), { prompts, completions, pixels: nchw });
  assert.ok(worst < TOL, `ORT vs reference max abs diff ${worst}`);
  const row = [...prompts[0]!, ...completions[0]!];
  const without = referenceForward({ ...cfg, optionMatch: undefined }, model.weights(), imageAt(cfg, nchw, 0), row);
  assert.ok(maxAbsDiff(without, referenceForward(cfg, model.weights(), imageAt(cfg, nchw, 0), row)) > 1e-2);
  assert.equal((await policy.sequenceLogits({ prompts: [prompts[0]!], completions: [completions[0]!], pixels: nchw.subarray(0, 3 * S * S) }))[0]!.length, row.length * V);
});

test('option match: tfjs and ORT agree on log-probs and greedy/sampled tokens; cached tfjs decoding equals recomputing', async () => {
  const tfLp = tf.tidy(() => sequenceLogProbs(model, encoded, completions).logProbs.arraySync());
  const ortLp = await policy.logProbs({ prompts, completions, pixels: nchw });
  completions.forEach((c, b) => assert.ok(maxAbsDiff(tfLp[b]!.slice(0, c.length), ortLp[b]!) < TOL, `row ${b}`));
  const { tfSampled } = await assertGenerationParity(model, encoded, policy, prompts, nchw);
  // Sampled completions reach option words, so the step-wise features are exercised.
  assert.ok(tfSampled.flat().some((c) => c.tokens.some((t) => t >= 30 && t <= 34)));
  const opts = { greedy: true, maxNewTokens: 12, stopIds: [] as number[] };
  const cached = generateTokens(model, encoded, opts);
  const plain = generateTokens(model, encoded, { ...opts, useCache: false });
  assert.deepEqual(cached.map((g) => g[0]!.tokens), plain.map((g) => g[0]!.tokens));
});

test('VlmPolicy.create({ optionMatch: true }) reads the markers from its tokenizer; a checkpoint keeps them and opt_emb', async () => {
  const sample = { question: 'Which organ?', options: ['Lung', 'Heart', 'Colon', 'Brain'] as [string, string, string, string] };
  const tok = WordTokenizer.train([renderPrompt(sample), renderPrompt(sample)]);
  const created = await VlmPolicy.create({ preset: 'tiny', tokenizer: tok, seed: 1, optionMatch: true });
  const dir = await mkdtemp(join(tmpdir(), 'medad-optmatch-'));
  try {
    assert.deepEqual(created.model.config.optionMatch, optionMarkers(tok));
    assert.deepEqual(created.model.params.get('opt_emb')!.shape, [4, created.model.config.dModel]);
    await created.save(dir);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')).optionMatch, optionMarkers(tok));
    const loaded = await VlmPolicy.load(dir);
    assert.deepEqual(loaded.model.config.optionMatch, created.model.config.optionMatch);
    assert.deepEqual(Array.from(loaded.model.p('opt_emb').dataSync()), Array.from(created.model.p('opt_emb').dataSync()));
    loaded.dispose();
    // Without the flag there is no such weight.
    const plain = await VlmPolicy.create({ preset: 'tiny', tokenizer: tok, seed: 1 });
    assert.equal(plain.model.config.optionMatch, undefined);
    assert.equal(plain.model.params.has('opt_emb'), false);
    plain.dispose();
  } finally {
    created.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});
