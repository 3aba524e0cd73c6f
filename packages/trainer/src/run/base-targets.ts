import { OPTION_LETTERS, SeededRng, type MedAdSample, type RawImage } from '@medad/core';
import type { TrainingData } from './data.js';

/** Brightness, contrast and colour of an image: what any captioner says without knowing the five tasks. */
export interface ImageLook {
  /** Mean luminance, 0–255. */
  brightness: number;
  /** Standard deviation of luminance, 0–255. */
  contrast: number;
  /** Mean absolute difference between colour channels, 0–255 (0 for grayscale). */
  colour: number;
}

/** Measures an image's look (every pixel; alpha ignored). */
export function imageLook(image: RawImage): ImageLook {
  const { data, channels } = image;
  const n = image.width * image.height;
  let sum = 0;
  let sq = 0;
  let chroma = 0;
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    const r = data[o]!;
    const g = channels >= 3 ? data[o + 1]! : r;
    const b = channels >= 3 ? data[o + 2]! : r;
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    sum += y;
    sq += y * y;
    chroma += (Math.abs(r - g) + Math.abs(g - b) + Math.abs(b - r)) / 3;
  }
  const brightness = sum / n;
  return { brightness, contrast: Math.sqrt(Math.max(0, sq / n - brightness * brightness)), colour: chroma / n };
}

const word = (x: number, [lo, hi]: readonly [number, number], words: readonly [string, string, string]): string => (x < lo ? words[0] : x < hi ? words[1] : words[2]);

/**
 * A general description of an image that answers none of the five tasks (DESIGN.md §1: what a
 * pre-trained VLM brings): overall brightness, contrast and whether it is in colour, graded
 * against the tertiles of the training images.
 */
export function describeLook(look: ImageLook, cuts: { brightness: [number, number]; contrast: [number, number] }): string {
  const colour = look.colour > 8 ? 'a colour image' : 'a grayscale image';
  return `The image is ${colour}, ${word(look.brightness, cuts.brightness, ['dark overall', 'of medium brightness', 'bright overall'])}, with ${word(look.contrast, cuts.contrast, ['low contrast', 'moderate contrast', 'high contrast'])}.`;
}

function tertiles(xs: number[]): [number, number] {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor(s.length / 3)] ?? 0, s[Math.floor((2 * s.length) / 3)] ?? 0];
}

/**
 * The base stage's targets (`sft` with `hyper.target: 'base'`): each train sample keeps its image,
 * question and options, but its CoT becomes a general description of the image and its answer a
 * letter drawn uniformly (seeded per sample), so the policy learns the answer format and to look
 * at the image without any supervision of the five tasks' answers.
 */
export function baseSamples(samples: readonly MedAdSample[], data: TrainingData, seed: number, caption: 'look' | 'caption' = 'look'): MedAdSample[] {
  const looks = samples.map((s) => imageLook(data.image(s)));
  const cuts = { brightness: tertiles(looks.map((l) => l.brightness)), contrast: tertiles(looks.map((l) => l.contrast)) };
  return samples.map((s, i) => {
    const answer = OPTION_LETTERS[new SeededRng(`${seed}:${s.id}`).int(4)]!;
    const described = caption === 'caption' ? `${captionOf(s)} ${describeLook(looks[i]!, cuts)}` : describeLook(looks[i]!, cuts);
    return { ...s, cot: `${described} So the answer is (${answer}).`, answer, bbox: undefined, mask: undefined };
  });
}

/**
 * What an image captioner pre-trained on medical images says of any image, whatever the question:
 * its modality and body region (the sample's metadata), never a lesion, its position or pathology.
 */
export function captionOf(s: Pick<MedAdSample, 'modality' | 'anatomy'>): string {
  return `This is a ${s.modality} image of the ${s.anatomy}.`;
}
