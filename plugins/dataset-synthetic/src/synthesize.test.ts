import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OPTION_LETTERS, SeededRng, letterIndex } from '@medad/core';
import { cropImage, loadDatasetDir, readImageFile, regionOfBBox, resizeBilinear, type LocalZoomResult } from '@medad/dataset';
import { planBenchmark } from './plan.js';
import { synthesize, synthesizeItem } from './synthesize.js';

function digest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out[rel + e.name] = createHash('sha256').update(readFileSync(join(d, e.name))).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

describe('synthesize --cot-format', () => {
  it('text-first (the default): same images and samples except each CoT names the option text before its letter; its own dataset id', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'medad-synth-cot-'));
    const lf = synthesize({ out: join(tmp, 'lf'), samples: 20, seed: 3, cotFormat: 'letter-first' });
    const tf = synthesize({ out: join(tmp, 'tf'), samples: 20, seed: 3 });
    assert.equal(tf.id, 'synthetic-s3-n20');
    assert.equal(lf.id, 'synthetic-s3-n20-cot-letter-first');
    assert.notEqual(lf.id, tf.id);
    const read = (d: string) => readFileSync(join(d, 'samples.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cot: string; answer: string; options: string[]; image: string });
    const [x, y] = [read(lf.dir), read(tf.dir)];
    assert.equal(y.length, 20);
    y.forEach((s, i) => {
      const option = s.options[letterIndex(s.answer as 'A')]!;
      assert.ok(s.cot.endsWith(`the answer is ${option} (${s.answer}).`), s.cot);
      assert.equal(s.cot.replace(`${option} (${s.answer}).`, `(${s.answer}) ${option}.`), x[i]!.cot);
      assert.equal(s.image, x[i]!.image);
    });
    assert.throws(() => synthesize({ out: join(tmp, 'bad'), samples: 20, cotFormat: 'letter-last' as never }), /cotFormat must be one of letter-first, text-first.*letter-last/);
  });
});

describe('synthesize', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'medad-synth-'));
  const a = join(tmp, 'a');
  const result = synthesize({ out: a, samples: 60, seed: 7 });

  it('writes images, samples.jsonl and dataset.json, byte-identical for the same seed', () => {
    const b = join(tmp, 'b');
    synthesize({ out: b, samples: 60, seed: 7 });
    const da = digest(a);
    assert.equal(Object.keys(da).length, 62);
    assert.ok('samples.jsonl' in da && 'dataset.json' in da && 'images/syn-000000.png' in da);
    assert.deepEqual(digest(b), da);
    const c = join(tmp, 'c');
    synthesize({ out: c, samples: 60, seed: 8 });
    assert.notEqual(digest(c)['samples.jsonl'], da['samples.jsonl']);
    // 12 items per task = 3 blocks of 4; round(0.7 × 3) = 2 blocks go to train.
    assert.deepEqual(result.counts, { train: 40, test: 20 });
  });

  it('writes valid samples whose CoT ends with the correct option and letter', () => {
    const { samples, issues } = loadDatasetDir(a);
    assert.equal(issues.length, 0);
    assert.equal(samples.length, 60);
    for (const s of samples) {
      const text = s.options[letterIndex(s.answer)]!;
      assert.ok(s.cot.endsWith(`the answer is ${text} (${s.answer}).`), s.cot);
      const img = readImageFile(join(a, s.image));
      assert.deepEqual([img.width, img.height, img.channels], [64, 64, 3]);
      if (s.task === 'lesion_localization') {
        assert.equal(s.region, text);
        assert.equal(regionOfBBox(s.bbox!, 64, 64), s.region);
      }
    }
  });

  it('refuses bad settings with the valid range', () => {
    assert.throws(() => synthesize({ out: join(tmp, 'x'), samples: 3 }), /samples must be an integer from 10/);
    assert.throws(() => synthesize({ out: join(tmp, 'x'), samples: 20, imageSize: 8 }), /imageSize must be an integer from 24/);
  });

  it('with zoom, embeds exactly the enlarged crop of the unzoomed image', () => {
    const plan = planBenchmark(20, new SeededRng('synthetic/3/plan'));
    for (const item of plan.slice(0, 6)) {
      const plain = synthesizeItem(item, 3, 64, false);
      const zoomed = synthesizeItem(item, 3, 64, true);
      const z = zoomed.sample.meta!.zoom as Omit<LocalZoomResult, 'image'>;
      const crop = resizeBilinear(cropImage(plain.image, z.crop.x, z.crop.y, z.crop.width, z.crop.height), z.inset.width, z.inset.height);
      for (let y = 0; y < z.inset.height; y++) {
        const row = ((z.inset.y + y) * 64 + z.inset.x) * 3;
        assert.deepEqual([...zoomed.image.data.subarray(row, row + z.inset.width * 3)], [...crop.data.subarray(y * z.inset.width * 3, (y + 1) * z.inset.width * 3)]);
      }
      assert.deepEqual(zoomed.sample.question, plain.sample.question);
      assert.ok(OPTION_LETTERS.includes(zoomed.sample.answer));
    }
  });
});
