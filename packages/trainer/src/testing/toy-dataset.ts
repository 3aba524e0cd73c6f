import { join } from 'node:path';
import { writeDescriptor, writePngFile, writeSamplesJsonl } from '@medad/dataset';
import { makeToyItems } from '@medad/policy';

/** Writes a seeded toy dataset (`makeToyItems`) to `dir`: the first `train` items train, the rest test. Tests only. */
export function writeToyDataset(dir: string, n: number, seed: number, train: number): void {
  const items = makeToyItems(n, seed);
  items.forEach((it, i) => {
    it.sample.split = i < train ? 'train' : 'test';
    writePngFile(join(dir, it.sample.image), it.image);
  });
  writeSamplesJsonl(join(dir, 'samples.jsonl'), items.map((it) => it.sample));
  writeDescriptor(dir, { format: 'medad-jsonl', version: 1, id: 'toy', name: 'toy', samplesFile: 'samples.jsonl' });
}
