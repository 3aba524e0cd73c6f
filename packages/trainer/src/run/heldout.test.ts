import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeToyDataset } from '../testing/toy-dataset.js';
import { trainSft } from '../sft.js';
import { encodeSamples, loadSplit } from './data.js';
import { greedyTexts, greedyTextsOrt, heldOutEval } from './heldout.js';

let work = '';
let data = '';

before(() => {
  work = mkdtempSync(join(tmpdir(), 'medad-heldout-'));
  data = join(work, 'data');
  writeToyDataset(data, 40, 9, 28);
});
after(() => rmSync(work, { recursive: true, force: true }));

test('held-out greedy decoding through ONNX Runtime gives the tfjs tokens and the same summary', async () => {
  const r = await trainSft({ dataDir: data, outDir: join(work, 'run'), preset: 'tiny', seed: 2, steps: 40, batchSize: 8, evalEvery: 0, evalSamples: 4, backend: 'wasm', threads: 1 });
  const { dataset } = loadSplit(data, 'test');
  const items = encodeSamples(r.policy, dataset.root, dataset.list('test'));
  const viaTfjs = greedyTexts(r.policy, items, 5);
  const viaOrt = await greedyTextsOrt(r.policy, items, 5);
  assert.equal(viaOrt.length, 12);
  assert.deepEqual(viaOrt, viaTfjs);
  // The completions are not empty: the comparison covers real multi-token decoding.
  assert.ok(viaOrt.every((t) => t.trim().split(/\s+/).length >= 8), viaOrt[0]);
  const a = await heldOutEval(r.policy, items, { engine: 'tfjs' });
  const b = await heldOutEval(r.policy, items);
  assert.deepEqual(b, a);
  r.policy.dispose();
});
