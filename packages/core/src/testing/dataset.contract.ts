import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dataset } from '../contracts/dataset.js';
import { OPTION_LETTERS, SPLITS, TASKS, type MedAdSample } from '../domain.js';

/** Options for {@link describeDatasetContract}. */
export interface DatasetContractOptions {
  /** Stop reading a split after this many samples (default 200), to keep the suite fast. */
  maxSamples?: number;
}

async function take(it: AsyncIterable<MedAdSample>, n: number): Promise<MedAdSample[]> {
  const out: MedAdSample[] = [];
  for await (const s of it) {
    out.push(s);
    if (out.length >= n) break;
  }
  return out;
}

/** The conformance suite every dataset plugin runs in its own tests. */
export function describeDatasetContract(
  label: string,
  factory: () => Dataset | Promise<Dataset>,
  options: DatasetContractOptions = {},
): void {
  const max = options.maxSamples ?? 200;
  describe(`dataset contract: ${label}`, () => {
    it('describes itself with an id, a root and counts that match its splits', async () => {
      const ds = await factory();
      const info = await ds.describe();
      assert.ok(info.id.length > 0 && info.name.length > 0);
      assert.ok(info.root.startsWith('/') || /^[A-Za-z]:\\/.test(info.root), 'root must be absolute');
      const splits = await ds.splits();
      assert.ok(splits.length > 0);
      for (const s of splits) assert.ok((SPLITS as readonly string[]).includes(s), `unknown split ${s}`);
      for (const s of splits) assert.ok((info.counts[s] ?? 0) > 0, `split ${s} has no count`);
    });

    it('yields well-formed samples with unique ids in the split they claim', async () => {
      const ds = await factory();
      const ids = new Set<string>();
      for (const split of await ds.splits()) {
        const samples = await take(ds.samples(split), max);
        assert.ok(samples.length > 0, `split ${split} is empty`);
        for (const s of samples) {
          assert.equal(s.split, split);
          assert.ok(!ids.has(s.id), `duplicate id ${s.id}`);
          ids.add(s.id);
          assert.ok((TASKS as readonly string[]).includes(s.task), `${s.id}: bad task ${s.task}`);
          assert.equal(s.options.length, 4, `${s.id}: needs 4 options`);
          assert.equal(new Set(s.options).size, 4, `${s.id}: options must differ`);
          assert.ok((OPTION_LETTERS as readonly string[]).includes(s.answer), `${s.id}: bad answer`);
          assert.ok(s.question.length > 0 && s.cot.length > 0, `${s.id}: empty question or cot`);
        }
      }
    });

    it('loads the image of a sample', async () => {
      const ds = await factory();
      const [split] = await ds.splits();
      const [sample] = await take(ds.samples(split!), 1);
      const img = await ds.loadImage(sample!);
      assert.ok(img.width > 0 && img.height > 0);
      assert.equal(img.data.length, img.width * img.height * img.channels);
    });
  });
}
