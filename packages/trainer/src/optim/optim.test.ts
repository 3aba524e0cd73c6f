import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { MetricsLog } from '../run/metrics-log.js';
import { AdamW, clipByGlobalNorm } from './adamw.js';
import { warmupCosine } from './schedule.js';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('AdamW matches a hand-computed first step, with decay on matrices only', () => {
  const w = tf.variable(tf.tensor2d([[1, -2]]));
  const b = tf.variable(tf.tensor1d([0.5]));
  const opt = new AdamW(new Map<string, tf.Variable>([['w', w], ['b', b]]), { weightDecay: 0.1 });
  opt.apply({ w: tf.tensor2d([[0.3, -0.1]]), b: tf.tensor1d([2]) }, 0.01);
  // step 1: m̂ = g, v̂ = g², update = g/(|g|+ε) ≈ sign(g)
  const wv = w.arraySync() as number[][];
  close(wv[0]![0]!, 1 - 0.01 * (1 + 0.1 * 1), 1e-6);
  close(wv[0]![1]!, -2 - 0.01 * (-1 + 0.1 * -2), 1e-6);
  close((b.arraySync() as number[])[0]!, 0.5 - 0.01, 1e-6);
  opt.dispose();
  tf.dispose([w, b]);
});

test('AdamW state restores bit-exactly (resume continues the same trajectory)', () => {
  const run = (restoreAt: number | null): number[] => {
    const w = tf.variable(tf.tensor2d([[0.1, 0.2], [0.3, 0.4]]));
    let opt = new AdamW(new Map([['w', w]]));
    for (let s = 0; s < 6; s++) {
      if (restoreAt !== null && s === restoreAt) {
        const state = opt.getState();
        opt.dispose();
        opt = new AdamW(new Map([['w', w]]));
        opt.setState(state);
      }
      const g = tf.tidy(() => w.mul(2).add(s * 0.01));
      opt.apply({ w: g }, 0.05);
      g.dispose();
    }
    const out = Array.from(w.dataSync());
    opt.dispose();
    w.dispose();
    return out;
  };
  assert.deepEqual(run(3), run(null));
});

test('global-norm clipping rescales only when above the limit', () => {
  const grads = new Map([['a', tf.tensor1d([3, 0])], ['b', tf.tensor1d([0, 4])]]);
  const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
  close(norm, 5, 1e-5);
  close((clipped.get('a')!.arraySync() as number[])[0]!, 0.6, 1e-5);
  const small = new Map([['a', tf.tensor1d([0.1])]]);
  assert.equal(clipByGlobalNorm(small, 1).grads, small);
  tf.dispose([...clipped.values(), ...small.values()]);
});

test('warmup then cosine to the floor', () => {
  const o = { lr: 1e-3, warmupSteps: 10, totalSteps: 110, minLr: 1e-4 };
  close(warmupCosine(0, o), 1e-4);
  close(warmupCosine(9, o), 1e-3);
  close(warmupCosine(60, o), 1e-4 + 0.5 * 9e-4);
  close(warmupCosine(110, o), 1e-4);
  close(warmupCosine(500, o), 1e-4);
});

test('metrics log keeps each step once across a resume and drops torn lines', () => {
  const log = new MetricsLog(join(mkdtempSync(join(tmpdir(), 'medad-metrics-')), 'metrics.jsonl'));
  for (let s = 1; s <= 5; s++) log.append({ step: s, loss: s });
  const rows = log.openForResume(3);
  assert.deepEqual(rows.map((r) => r.step), [1, 2, 3]);
  for (let s = 4; s <= 6; s++) log.append({ step: s, loss: s });
  assert.deepEqual(log.read().map((r) => r.step), [1, 2, 3, 4, 5, 6]);
});
