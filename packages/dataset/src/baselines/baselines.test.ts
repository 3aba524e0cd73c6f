import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OPTION_LETTERS, SeededRng, type MedAdSample } from '@medad/core';
import { writePngFile } from '../image/codec.js';
import { writeSamplesJsonl } from '../jsonl.js';
import { balancedLetters, buildOptions } from '../options.js';
import { runBaselines } from './run.js';
import { mirroredLabel } from './image-only.js';

const COLOURS: Record<string, [number, number, number]> = { MRI: [200, 40, 40], CT: [40, 200, 40], OCT: [40, 40, 200], 'X-ray': [200, 200, 40] };

/** A tiny benchmark whose image colour names the modality; `leak` puts the answer in the question. */
function makeDataset(leak: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'medad-baselines-'));
  const rng = new SeededRng(9);
  const mods = Object.keys(COLOURS);
  const letters = balancedLetters(96, rng);
  const samples: MedAdSample[] = [];
  for (let i = 0; i < 96; i++) {
    const m = mods[i % 4]!;
    const data = new Uint8Array(16 * 16 * 3);
    for (let p = 0; p < 256; p++) for (let k = 0; k < 3; k++) data[p * 3 + k] = Math.max(0, Math.min(255, COLOURS[m]![k]! + rng.int(41) - 20));
    writePngFile(join(dir, `images/${i}.png`), { width: 16, height: 16, channels: 3, data });
    const { options, answer } = buildOptions(m, mods, letters[i]!, rng);
    samples.push({
      id: `s${i}`,
      image: `images/${i}.png`,
      modality: m,
      anatomy: 'Brain',
      task: 'modality_classification',
      question: leak ? `Which modality is this ${m} image?` : 'Which modality is this?',
      options,
      answer,
      cot: `so the answer is (${answer}) ${m}.`,
      source: 'test',
      split: i < 64 ? 'train' : 'test',
    });
  }
  writeSamplesJsonl(join(dir, 'samples.jsonl'), samples);
  return dir;
}

describe('baselines', () => {
  it('the image-only classifier reads the pixels; the text-only one stays near chance without a leak', () => {
    const r = runBaselines(makeDataset(false));
    assert.equal(r.rows.length, 1);
    assert.equal(r.rows[0]!.train, 64);
    assert.equal(r.rows[0]!.imageOnly, 100);
    assert.ok(r.rows[0]!.textOnly <= 50, `text-only ${r.rows[0]!.textOnly}`);
    assert.equal(r.predictions.imageOnly.length, 32);
    for (const p of r.predictions.textOnly) assert.ok(OPTION_LETTERS.includes(p.predicted));
  });

  it('the text-only classifier catches an answer leaked into the question', () => {
    const r = runBaselines(makeDataset(true));
    assert.ok(r.rows[0]!.textOnly >= 90, `text-only ${r.rows[0]!.textOnly}`);
  });

  it('mirrors region labels with the image and leaves other labels alone', () => {
    assert.equal(mirroredLabel('Left Upper', true, false), 'Right Upper');
    assert.equal(mirroredLabel('Left Upper', false, true), 'Left Lower');
    assert.equal(mirroredLabel('Right Lower', true, true), 'Left Upper');
    assert.equal(mirroredLabel('Center', true, true), 'Center');
    assert.equal(mirroredLabel('CT', true, true), 'CT');
  });
});
