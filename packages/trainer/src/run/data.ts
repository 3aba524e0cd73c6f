import { JsonlDataset, readImageFile } from '@medad/dataset';
import { ErrorCode, MedadError, type MedAdSample, type Split } from '@medad/core';
import { groundingTargets, imageToPixels, pixelsToNCHW, renderCompletion, renderPrompt, type EncodedPrompt, type VlmConfig, type VlmPolicy, WordTokenizer } from '@medad/policy';
import { join } from 'node:path';

/** A sample ready for the model: its encoded prompt and SFT target ids. */
export interface EncodedSample {
  sample: MedAdSample;
  prompt: EncodedPrompt;
  target: number[];
  /** Normalised NCHW pixels for ONNX Runtime rollouts. */
  nchw: Float32Array;
  /** The image's size in pixels (what `sample.bbox` is measured in). */
  imageWidth: number;
  imageHeight: number;
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
      imageWidth: image.width,
      imageHeight: image.height,
    };
  });
}

/**
 * Grounding targets of encoded samples (`groundingTargets` of each `sample.bbox` on the model's
 * patch grid); null for samples without a box. A box that is not one (e.g. zero width) is skipped
 * with a line in `skipped` naming the sample and the problem; the other samples keep theirs.
 */
export function groundingTargetsOf(config: VlmConfig, encoded: readonly EncodedSample[]): { targets: (Float32Array | null)[]; annotated: number; skipped: string[] } {
  const skipped: string[] = [];
  let annotated = 0;
  const targets = encoded.map((e) => {
    const box = e.sample.bbox;
    if (!box) return null;
    try {
      const t = groundingTargets(box, e.imageWidth, e.imageHeight, config);
      if (!t.some((v) => v > 0)) throw new MedadError(ErrorCode.InvalidData, `box ${JSON.stringify(box)} lies outside the ${e.imageWidth}×${e.imageHeight} image`, { fix: "give the box in the image's pixel coordinates" });
      annotated++;
      return t;
    } catch (err) {
      skipped.push(`sample ${e.sample.id} (${e.sample.image}): field "bbox": ${(err as Error).message}`);
      return null;
    }
  });
  return { targets, annotated, skipped };
}
