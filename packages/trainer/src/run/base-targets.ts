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

const BRIGHTNESS = ['dark overall', 'of medium brightness', 'bright overall'] as const;
const CONTRAST = ['low contrast', 'moderate contrast', 'high contrast'] as const;
const COLOUR = ['a grayscale image', 'a colour image'] as const;
type LookCuts = { brightness: [number, number]; contrast: [number, number] };

/** The phrases {@link describeLook} uses for an image: its colour, brightness and contrast. */
function lookPhrases(look: ImageLook, cuts: LookCuts): { colour: string; brightness: string; contrast: string } {
  return { colour: look.colour > 8 ? COLOUR[1] : COLOUR[0], brightness: word(look.brightness, cuts.brightness, BRIGHTNESS), contrast: word(look.contrast, cuts.contrast, CONTRAST) };
}

/**
 * A general description of an image that answers none of the five tasks (DESIGN.md §1: what a
 * pre-trained VLM brings): overall brightness, contrast and whether it is in colour, graded
 * against the tertiles of the training images.
 */
export function describeLook(look: ImageLook, cuts: LookCuts): string {
  const p = lookPhrases(look, cuts);
  return `The image is ${p.colour}, ${p.brightness}, with ${p.contrast}.`;
}

/** General questions about an image's look: the question, the phrase group its key comes from. */
const LOOK_QUESTIONS = [
  { question: 'How bright is this image overall?', group: 'brightness' },
  { question: 'How much contrast does this image have?', group: 'contrast' },
  { question: 'Is this a colour or a grayscale image?', group: 'colour' },
  { question: 'Which of these phrases describes the image?', group: 'any' },
] as const;

/**
 * A general multiple-choice question about an image's look (never about the five tasks): the key is
 * the phrase the description uses, the distractors are phrases it does not use, in a seeded order.
 */
export function lookQuestion(look: ImageLook, cuts: LookCuts, rng: SeededRng): Pick<MedAdSample, 'question' | 'options' | 'answer'> {
  const p = lookPhrases(look, cuts);
  const q = LOOK_QUESTIONS[rng.int(LOOK_QUESTIONS.length)]!;
  const group = q.group === 'any' ? (['colour', 'brightness', 'contrast'] as const)[rng.int(3)]! : q.group;
  const key = p[group];
  const own = { brightness: BRIGHTNESS, contrast: CONTRAST, colour: COLOUR }[group].filter((w) => w !== key);
  const used = new Set(Object.values(p));
  const others = [...BRIGHTNESS, ...CONTRAST, ...COLOUR].filter((w) => !used.has(w) && !own.includes(w));
  const distractors = [...own];
  while (distractors.length < 3) distractors.push(others.splice(rng.int(others.length), 1)[0]!);
  const options = rng.shuffle([key, ...distractors]);
  const answer = OPTION_LETTERS[options.indexOf(key)]!;
  return { question: q.question, options: options as [string, string, string, string], answer };
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
export function baseSamples(samples: readonly MedAdSample[], data: TrainingData, seed: number, caption: 'look' | 'caption' = 'look', mcq = 0): MedAdSample[] {
  const looks = samples.map((s) => imageLook(data.image(s)));
  const cuts = { brightness: tertiles(looks.map((l) => l.brightness)), contrast: tertiles(looks.map((l) => l.contrast)) };
  return samples.map((s, i) => {
    const rng = new SeededRng(`${seed}:${s.id}`);
    const described = caption === 'caption' ? `${captionOf(s)} ${describeLook(looks[i]!, cuts)}` : describeLook(looks[i]!, cuts);
    const mcqRng = new SeededRng(`${seed}:${s.id}:look-question`);
    if (mcq > 0 && mcqRng.bernoulli(mcq)) {
      // A general question about the look, answered from the description: multiple-choice reading, no task.
      const q = lookQuestion(looks[i]!, cuts, mcqRng);
      return { ...s, ...q, cot: `${described} So the answer is (${q.answer}).`, bbox: undefined, mask: undefined };
    }
    const answer = OPTION_LETTERS[rng.int(4)]!;
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
