import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TASKS, type Task } from '@medad/core';
import { batchIndices, parseTaskWeights, TaskMixSampler } from './task-mix.js';

const tasks: Task[] = Array.from({ length: 200 }, (_, i) => TASKS[i % TASKS.length]!);

test('without weights (or all equal) the sampler gives batchIndices exactly', () => {
  for (const weights of [{}, { anatomy_identification: 2, modality_classification: 2, anomaly_detection: 2, pathology_characterization: 2, lesion_localization: 2 }]) {
    const s = new TaskMixSampler(tasks, 8, 3, weights);
    assert.equal(s.weighted, false);
    for (const step of [0, 1, 24, 25, 77]) assert.deepEqual(s.indices(step), batchIndices(200, 8, step, 3));
  }
});

test('a task of weight ½ is drawn half as often; each epoch covers every heavy sample once', () => {
  const s = new TaskMixSampler(tasks, 8, 1, { anatomy_identification: 0.5, modality_classification: 0.25 });
  assert.equal(s.weighted, true);
  assert.equal(s.epochSize, 120 + 20 + 10);
  const perEpoch = Math.floor(150 / 8);
  const seen = new Map<number, number>();
  for (let step = 0; step < perEpoch; step++) for (const i of s.indices(step)) seen.set(i, (seen.get(i) ?? 0) + 1);
  const count = (t: Task) => [...seen.keys()].filter((i) => tasks[i] === t).length;
  assert.ok([...seen.values()].every((c) => c === 1), 'no sample twice within an epoch');
  // 18 batches of 8 cover 144 of the 150-sample epoch: heavy tasks lose at most 6 of their 40.
  assert.ok(count('anomaly_detection') >= 34, `anomaly ${count('anomaly_detection')}`);
  assert.ok(count('anatomy_identification') <= 20 && count('anatomy_identification') >= 17, `anatomy ${count('anatomy_identification')}`);
  assert.ok(count('modality_classification') <= 10 && count('modality_classification') >= 7, `modality ${count('modality_classification')}`);
  assert.ok(count('lesion_localization') >= 34, `localization ${count('lesion_localization')}`);
  // A pure function of the step (resume), and later epochs draw other subsets of the light tasks.
  const again = new TaskMixSampler(tasks, 8, 1, { anatomy_identification: 0.5, modality_classification: 0.25 });
  assert.deepEqual(again.indices(40), s.indices(40));
  const light = (step: number) => s.indices(step).filter((i) => tasks[i] === 'modality_classification');
  const epoch0 = new Set(Array.from({ length: perEpoch }, (_, k) => light(k)).flat());
  const epoch1 = new Set(Array.from({ length: perEpoch }, (_, k) => light(perEpoch + k)).flat());
  assert.notDeepEqual([...epoch0].sort(), [...epoch1].sort());
});

test('task weights: parse, and clear errors for unknown tasks and bad weights', () => {
  assert.deepEqual(parseTaskWeights('anatomy_identification=0.3, modality_classification=0.5'), { anatomy_identification: 0.3, modality_classification: 0.5 });
  assert.throws(() => parseTaskWeights('anatomy=1'), /unknown task "anatomy".*Fix: use one of: anatomy_identification/s);
  assert.throws(() => parseTaskWeights('lesion_localization=0'), /positive number.*Fix:/s);
  assert.throws(() => parseTaskWeights('lesion_localization'), /is not task=weight/);
  assert.throws(() => new TaskMixSampler(tasks, 8, 1, { lesion_localization: Number.NaN }), /positive number/);
});
