import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { VlmPolicy } from './policy.js';
import { makeToyItems } from './testing/toy-data.js';
import { WordTokenizer } from './vlm/tokenizer.js';
import { renderCompletion, renderPrompt } from './vlm/processor.js';

test('a tiny model overfits 64 samples to ≥ 95% completion token accuracy', async (t) => {
  const items = makeToyItems(64, 1);
  const tokenizer = WordTokenizer.train(items.flatMap((it) => [renderPrompt(it.sample), renderCompletion(it.sample)]), { minCount: 1 });
  const policy = await VlmPolicy.create({ preset: 'tiny', tokenizer, seed: 3, backend: 'wasm' });
  const prompts = items.map((it) => policy.encodePrompt(it));
  const targets = items.map((it) => policy.targetIds(it.sample));
  const vars = [...policy.model.params.values()];
  const optimizer = tf.train.adam(1e-2);
  const accuracy = (): number =>
    tf.tidy(() => {
      const argmax = policy.logProbs(prompts, targets, { withArgmax: true }).argmax!.arraySync();
      let right = 0;
      let total = 0;
      targets.forEach((row, b) => row.forEach((id, j) => { total++; if (argmax[b]![j] === id) right++; }));
      return right / total;
    });
  const start = accuracy();
  let acc = start;
  let step = 0;
  const batch = 16;
  for (; step < 400 && acc < 0.97; step++) {
    const s = (step * batch) % items.length;
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const { logProbs, mask } = policy.logProbs(prompts.slice(s, s + batch), targets.slice(s, s + batch));
        return logProbs.sum().neg().div(mask.sum()) as tf.Scalar;
      }, vars);
      optimizer.applyGradients(grads as Record<string, tf.Variable>);
    });
    if (step % 25 === 24) acc = accuracy();
  }
  t.diagnostic(`token accuracy ${start.toFixed(3)} → ${acc.toFixed(3)} after ${step} Adam steps (batch ${batch})`);
  optimizer.dispose();
  policy.dispose();
  assert.ok(start < 0.1);
  assert.ok(acc >= 0.95, `token accuracy ${acc}`);
});
