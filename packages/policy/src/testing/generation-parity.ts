import assert from 'node:assert/strict';
import { generateTokens, type GeneratedSequence } from '../generate.js';
import type { EncodedPrompt } from '../logprobs.js';
import type { OrtPolicy } from '../onnx/ort-policy.js';
import type { VlmModel } from '../vlm/model.js';

/**
 * Asserts that greedy and seeded sampled generation (12 new tokens; 3 samples at temperature 1.2,
 * top-p 0.9, seed 4) give identical tokens in tfjs and ORT; returns the sampled groups so a test
 * can compare more (e.g. token log-probs). Shared by the ONNX parity tests.
 */
export async function assertGenerationParity(
  model: VlmModel,
  encoded: readonly EncodedPrompt[],
  policy: OrtPolicy,
  prompts: readonly (readonly number[])[],
  nchw: Float32Array,
): Promise<{ tfSampled: GeneratedSequence[][]; ortSampled: GeneratedSequence[][] }> {
  const common = { maxNewTokens: 12, stopIds: [] as number[] };
  const tfGreedy = generateTokens(model, encoded, { ...common, greedy: true });
  const ortGreedy = await policy.generate(prompts, nchw, { ...common, greedy: true });
  assert.deepEqual(ortGreedy.map((g) => g.map((c) => c.tokens)), tfGreedy.map((g) => g.map((c) => c.tokens)));
  assert.ok(new Set(tfGreedy.flatMap((g) => g[0]!.tokens)).size >= 4, 'greedy output too repetitive to compare');
  const sampled = { ...common, groupSize: 3, temperature: 1.2, topP: 0.9, seed: 4 };
  const tfSampled = generateTokens(model, encoded, sampled);
  const ortSampled = await policy.generate(prompts, nchw, sampled);
  assert.deepEqual(ortSampled.map((g) => g.map((c) => c.tokens)), tfSampled.map((g) => g.map((c) => c.tokens)));
  return { tfSampled, ortSampled };
}
