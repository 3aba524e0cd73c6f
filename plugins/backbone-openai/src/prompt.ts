import { OPTION_LETTERS, type MedAdSample, type RawImage } from '@medad/core';
import { PNG } from 'pngjs';

/** The R1-style system prompt the paper uses: reason in <think>, answer in <answer>. */
export const SYSTEM_PROMPT =
  'A conversation between User and Assistant. The user asks a question about a medical image, and the ' +
  'Assistant solves it. The assistant first thinks about the reasoning process in the mind and then ' +
  'provides the user with the answer. The reasoning process and answer are enclosed within <think> </think> ' +
  'and <answer> </answer> tags, respectively, i.e., <think> reasoning process here </think><answer> answer here </answer>. ' +
  'The answer is the letter of exactly one option.';

/** The user turn's text: the question and the four lettered options. */
export function questionText(sample: Pick<MedAdSample, 'question' | 'options'>): string {
  const options = sample.options.map((o, i) => `(${OPTION_LETTERS[i]}) ${o}`).join('\n');
  return `${sample.question}\nOptions:\n${options}\nAnswer with the letter of the correct option.`;
}

/** Encodes an image as a PNG data URL (what OpenAI-compatible vision endpoints accept). */
export function imageDataUrl(image: RawImage): string {
  const png = new PNG({ width: image.width, height: image.height });
  for (let i = 0; i < image.width * image.height; i++) {
    const c = image.channels;
    const r = image.data[i * c]!;
    png.data[i * 4] = r;
    png.data[i * 4 + 1] = c >= 3 ? image.data[i * c + 1]! : r;
    png.data[i * 4 + 2] = c >= 3 ? image.data[i * c + 2]! : r;
    png.data[i * 4 + 3] = c === 4 ? image.data[i * c + 3]! : 255;
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}
