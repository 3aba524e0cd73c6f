import { SeededRng, type MedAdSample, type OptionLetter, type RawImage, OPTION_LETTERS, REGIONS } from '@medad/core';

/** One toy item: a sample in the benchmark's text format and its image. */
export interface ToyItem {
  sample: MedAdSample;
  image: RawImage;
}

const COLORS: ReadonlyArray<[string, [number, number, number]]> = [
  ['red', [230, 40, 40]],
  ['green', [40, 210, 60]],
  ['blue', [50, 70, 230]],
  ['yellow', [235, 225, 50]],
];
const QUESTIONS = ['Where is the lesion located?', 'Which region contains the abnormality?', 'In which part of the image is the finding?'];
// Top-left corner of the spot per region, as a fraction of the image side.
const SPOT: Record<string, [number, number]> = {
  'Left Upper': [0.05, 0.05],
  'Right Upper': [0.62, 0.05],
  'Left Lower': [0.05, 0.62],
  'Right Lower': [0.62, 0.62],
  Center: [0.34, 0.34],
};

/**
 * Small seeded localization items for tests and benchmarks: a coloured spot on a noisy dark
 * background in one of five regions, four region options, and a CoT that names the colour,
 * the region and the chosen option. Not the embedded benchmark (that is `dataset-synthetic`).
 */
export function makeToyItems(n: number, seed: number, size = 24): ToyItem[] {
  const rng = new SeededRng(`toy:${seed}`);
  return Array.from({ length: n }, (_, i) => {
    const [color, rgb] = rng.pick(COLORS);
    const region = rng.pick(REGIONS);
    const others = rng.shuffle(REGIONS.filter((r) => r !== region)).slice(0, 3);
    const options = rng.shuffle([region, ...others]) as [string, string, string, string];
    const answer = OPTION_LETTERS[options.indexOf(region)] as OptionLetter;
    const data = new Uint8Array(size * size * 3);
    for (let k = 0; k < data.length; k++) data[k] = 20 + rng.int(30);
    const side = Math.max(2, Math.round(size * 0.33));
    const [fx, fy] = SPOT[region]!;
    const x0 = Math.round(fx * size);
    const y0 = Math.round(fy * size);
    for (let y = y0; y < Math.min(size, y0 + side); y++)
      for (let x = x0; x < Math.min(size, x0 + side); x++) for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = rgb[c]!;
    const sample: MedAdSample = {
      id: `toy-${seed}-${i}`,
      image: `toy/${i}.png`,
      modality: 'toy',
      anatomy: 'toy',
      task: 'lesion_localization',
      question: rng.pick(QUESTIONS),
      options,
      answer,
      cot: `A bright ${color} spot lies in the ${region} part of the image, so the answer is (${answer}) ${region}.`,
      source: 'toy',
      split: 'train',
      region,
      bbox: { x: x0, y: y0, width: Math.min(side, size - x0), height: Math.min(side, size - y0) },
    };
    return { sample, image: { width: size, height: size, channels: 3, data } };
  });
}
