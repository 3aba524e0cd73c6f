import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeToyDataset } from './testing/toy-dataset.js';
import { trainSft } from './sft.js';

let work = '';
let data = '';

before(() => {
  work = mkdtempSync(join(tmpdir(), 'medad-sft-options-'));
  data = join(work, 'data');
  writeToyDataset(data, 48, 3, 36);
});
after(() => rmSync(work, { recursive: true, force: true }));

const rows = (dir: string): Array<Record<string, number>> =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

test('SFT rows carry train_s and loss_letter; answerWeight changes the update but not the reported loss definition', async () => {
  const common = { dataDir: data, preset: 'tiny' as const, seed: 1, steps: 3, batchSize: 4, evalEvery: 0, evalSamples: 4, backend: 'wasm' as const };
  const plain = await trainSft({ ...common, outDir: join(work, 'plain') });
  plain.policy.dispose();
  const weighted = await trainSft({ ...common, outDir: join(work, 'weighted'), answerWeight: 4 });
  weighted.policy.dispose();
  const a = rows(join(work, 'plain'));
  const b = rows(join(work, 'weighted'));
  assert.equal(a.length, 3);
  for (const r of a) {
    assert.ok(r.train_s! > 0 && r.train_s! <= r.elapsed_s! + 1e-9);
    assert.ok(r.loss_letter! > 0);
  }
  // Same data and init: the first step's (unweighted) loss is identical, later ones differ.
  assert.ok(Math.abs(a[0]!.loss! - b[0]!.loss!) < 1e-6);
  assert.notEqual(a[2]!.loss, b[2]!.loss);
});

test('timeBudget ends the run early at a step that is evaluated and checkpointed; modelConfig reaches the model', async () => {
  const out = join(work, 'budget');
  const r = await trainSft({ dataDir: data, outDir: out, preset: 'tiny', seed: 1, steps: 1000, batchSize: 4, evalEvery: 0, evalSamples: 4, timeBudget: 0.001, backend: 'wasm', modelConfig: { rotaryDims: 8 } });
  assert.equal(r.steps, 1);
  assert.equal(r.policy.model.config.rotaryDims, 8);
  // Exact-match option features are on by default, with the markers of the run's tokenizer.
  assert.deepEqual(r.policy.model.config.optionMatch?.letters.map((id) => r.policy.tokenizer.decode([id])), ['A', 'B', 'C', 'D']);
  assert.ok(r.policy.model.params.has('opt_emb'));
  r.policy.dispose();
  const off = await trainSft({ dataDir: data, outDir: join(work, 'no-match'), preset: 'tiny', seed: 1, steps: 1, batchSize: 4, evalEvery: 0, evalSamples: 4, backend: 'wasm', optionMatch: false });
  assert.equal(off.policy.model.config.optionMatch, undefined);
  off.policy.dispose();
  const last = rows(out).at(-1)!;
  assert.equal(last.step, 1);
  assert.ok('eval_overall' in last);
  const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'trainer-state.json'), 'utf8')) as { step: number };
  assert.equal(state.step, 1);
});
