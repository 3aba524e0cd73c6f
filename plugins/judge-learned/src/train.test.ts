import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, isMedadError } from '@medad/core';
import { writeSamplesJsonl } from '@medad/dataset';
import { readCheckpoint, synthesizeJudgeCorpus, trainLearnedJudge } from './index.js';

describe('trainLearnedJudge', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'judge-learned-train-'));
    writeSamplesJsonl(join(dir, 'data', 'samples.jsonl'), synthesizeJudgeCorpus({ samples: 400, seed: 3 }));
    writeSamplesJsonl(
      join(dir, 'train-only', 'samples.jsonl'),
      synthesizeJudgeCorpus({ samples: 60, seed: 3 }).map((s) => ({ ...s, split: 'train' as const })),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is deterministic given a seed: same seed ⇒ the same weights and report, another seed ⇒ other weights', async () => {
    const run = (seed: number, out: string) => trainLearnedJudge({ dataDir: join(dir, 'data'), outDir: join(dir, out), seed, epochs: 3 });
    const a = await run(5, 'a');
    const b = await run(5, 'b');
    const c = await run(6, 'c');
    const [ca, cb, cc] = ['a', 'b', 'c'].map((d) => readCheckpoint(join(dir, d)));
    assert.ok(ca!.weights.keys.length > 1000, `${ca!.weights.keys.length} weights`);
    assert.deepEqual(cb!.weights, ca!.weights);
    assert.deepEqual(b.report, a.report);
    assert.notDeepEqual(cc!.weights.values, ca!.weights.values);
    assert.equal(c.checkpoint.training.seed, 6);
  });

  it('names the problem and the fix for a dataset without a test split or without a directory', async () => {
    await assert.rejects(
      trainLearnedJudge({ dataDir: join(dir, 'train-only'), outDir: join(dir, 'x') }),
      (err: unknown) => isMedadError(err, ErrorCode.BadUserInput) && /0 test/.test(err.message) && /medad data synth/.test(err.message),
    );
    await assert.rejects(trainLearnedJudge({ dataDir: join(dir, 'nowhere'), outDir: join(dir, 'y') }), (err: unknown) => isMedadError(err, ErrorCode.NotFound) && err.message.includes('nowhere'));
    await assert.rejects(trainLearnedJudge({ dataDir: join(dir, 'data'), outDir: join(dir, 'z'), epochs: 0 }), (err: unknown) => isMedadError(err, ErrorCode.BadUserInput) && /epochs/.test(err.message));
  });
});
