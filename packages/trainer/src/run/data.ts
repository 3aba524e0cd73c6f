import { JsonlDataset, readImageFile } from '@medad/dataset';
import { ErrorCode, MedadError, type MedAdSample, type Split } from '@medad/core';
import { imageToPixels, pixelsToNCHW, renderCompletion, renderPrompt, type EncodedPrompt, type VlmPolicy, WordTokenizer } from '@medad/policy';
import { join } from 'node:path';

/** A sample ready for the model: its encoded prompt and SFT target ids. */
export interface EncodedSample {
  sample: MedAdSample;
  prompt: EncodedPrompt;
  target: number[];
  /** Normalised NCHW pixels for ONNX Runtime rollouts. */
  nchw: Float32Array;
}

/** Opens a dataset directory and returns its samples of one split (an empty split is an error). */
export function loadSplit(dataDir: string, split: Split): { dataset: JsonlDataset; samples: MedAdSample[] } {
  const dataset = JsonlDataset.open(dataDir);
  const samples = dataset.list(split);
  if (samples.length === 0) {
    throw new MedadError(ErrorCode.InvalidData, `Dataset ${dataDir} has no ${split} samples`, {
      fix: 'build it with `medad data synth --out DIR`, which writes a 70/30 train/test split',
    });
  }
  return { dataset, samples };
}

/** Trains the tokenizer on the train split's prompts and target completions. */
export function trainTokenizer(samples: readonly MedAdSample[]): WordTokenizer {
  return WordTokenizer.train(samples.flatMap((s) => [renderPrompt(s), renderCompletion(s)]));
}

/** Decodes images and encodes prompts and targets for a policy (done once, before training). */
export function encodeSamples(policy: VlmPolicy, root: string, samples: readonly MedAdSample[]): EncodedSample[] {
  const size = policy.model.config.imageSize;
  return samples.map((sample) => {
    const image = readImageFile(join(root, sample.image));
    return {
      sample,
      prompt: policy.encodePrompt({ sample, image }),
      target: policy.targetIds(sample),
      nchw: pixelsToNCHW(imageToPixels(image, size), size),
    };
  });
}
