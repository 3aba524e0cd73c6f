import { JsonlDataset, readImageFile, zoomSampleImage } from '@medad/dataset';
import { ErrorCode, MedadError, type BBox, type Dataset, type MedAdSample, type RawImage, type Split, type TrainablePolicyRequest } from '@medad/core';
import { groundingTargets, imageToPixels, pixelsToNCHW, renderCompletion, renderPrompt, type EncodedPrompt, type VlmConfig, VlmPolicy, WordTokenizer } from '@medad/policy';
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
  /** Coarse-to-fine: the region the image's inset enlarges (in the image's pixels), when zoomed. */
  zoomBox?: BBox;
}

/** Samples by split and their images, however the dataset stores them. */
export interface TrainingData {
  /** Where the data came from (for messages). */
  readonly where: string;
  list(split: Split): MedAdSample[];
  /** Decodes a sample's image. */
  image(sample: MedAdSample): RawImage;
}

function directoryData(dataset: JsonlDataset): TrainingData {
  return { where: dataset.root, list: (split) => dataset.list(split), image: (s) => readImageFile(join(dataset.root, s.image)) };
}

/**
 * The training data of a dataset directory or of any dataset plugin: directory-backed datasets
 * are read lazily; others are listed through the contract's iteration and their images decoded
 * once, here.
 */
export async function openTrainingData(source: string | Dataset): Promise<TrainingData> {
  if (typeof source === 'string') return directoryData(JsonlDataset.open(source));
  if (source instanceof JsonlDataset) return directoryData(source);
  const info = await source.describe();
  const bySplit = new Map<Split, MedAdSample[]>();
  const images = new Map<string, RawImage>();
  for (const split of await source.splits()) {
    const list: MedAdSample[] = [];
    for await (const s of source.samples(split)) {
      list.push(s);
      images.set(s.id, await source.loadImage(s));
    }
    bySplit.set(split, list);
  }
  return { where: info.root || info.id, list: (split) => bySplit.get(split) ?? [], image: (s) => images.get(s.id)! };
}

/** The samples of one split (an empty split is an error naming the data and the fix). */
export function splitSamples(data: TrainingData, split: Split): MedAdSample[] {
  const samples = data.list(split);
  if (samples.length === 0) {
    throw new MedadError(ErrorCode.InvalidData, `Dataset ${data.where} has no ${split} samples`, {
      fix: 'build it with `medad data synth --out DIR`, which writes a 70/30 train/test split',
    });
  }
  return samples;
}

/** Opens a dataset directory and returns its samples of one split (an empty split is an error). */
export function loadSplit(dataDir: string, split: Split): { dataset: JsonlDataset; samples: MedAdSample[] } {
  const dataset = JsonlDataset.open(dataDir);
  return { dataset, samples: splitSamples(directoryData(dataset), split) };
}

/** The texts a tokenizer for these samples must cover: each prompt and target completion. */
export function tokenizerCorpus(samples: readonly MedAdSample[]): string[] {
  return samples.flatMap((s) => [renderPrompt(s), renderCompletion(s)]);
}

/** Trains the tokenizer on the train split's prompts and target completions. */
export function trainTokenizer(samples: readonly MedAdSample[]): WordTokenizer {
  return WordTokenizer.train(tokenizerCorpus(samples));
}

/**
 * A fresh policy from a trainable backbone (`TrainableBackbone.createTrainable`, composed from the
 * run's spec): the trainers optimise `VlmPolicy` models, so anything else is refused by name.
 */
export async function trainablePolicy(create: (request: TrainablePolicyRequest) => Promise<unknown>, request: TrainablePolicyRequest): Promise<VlmPolicy> {
  const policy = await create(request);
  if (!(policy instanceof VlmPolicy)) {
    throw new MedadError(ErrorCode.BadUserInput, `the backbone's createTrainable returned ${policy === null ? 'null' : typeof policy === 'object' ? (policy.constructor?.name ?? 'an object') : typeof policy}, not a VlmPolicy`, {
      fix: 'return VlmPolicy.create({ ... }) from @medad/policy (the trainers optimise VlmPolicy models)',
      details: { field: 'backbone.plugin' },
    });
  }
  return policy;
}

const imageLoader = (source: string | TrainingData): ((s: MedAdSample) => RawImage) =>
  typeof source === 'string' ? (s: MedAdSample) => readImageFile(join(source, s.image)) : (s: MedAdSample) => source.image(s);

/**
 * Decodes images and encodes prompts and targets for a policy (done once, before training). With
 * `zoom`, each image is the coarse-to-fine pass's (`zoomSampleImage`): zoomed into `zoom[i]`.
 */
export function encodeSamples(policy: VlmPolicy, source: string | TrainingData, samples: readonly MedAdSample[], zoom?: ReadonlyArray<BBox | null>): EncodedSample[] {
  const size = policy.model.config.imageSize;
  const load = imageLoader(source);
  return samples.map((sample, i) => {
    const z = zoom ? zoomSampleImage(load(sample), zoom[i] ?? null, sample.image) : undefined;
    const image = z ? z.image : load(sample);
    return {
      sample,
      prompt: policy.encodePrompt({ sample, image }),
      target: policy.targetIds(sample),
      nchw: pixelsToNCHW(imageToPixels(image, size), size),
      imageWidth: image.width,
      imageHeight: image.height,
      ...(z ? { zoomBox: z.crop } : {}),
    };
  });
}

/**
 * The regions a run zooms its samples into (coarse-to-fine; `hyper.zoom`): none, the labelled
 * lesion boxes (`oracle`), or those the policy's grounding head predicts on the global images
 * (`predicted`, read from the images only).
 */
export function zoomBoxes(policy: VlmPolicy, source: string | TrainingData, samples: readonly MedAdSample[], zoom: 'none' | 'predicted' | 'oracle'): Array<BBox | null> | undefined {
  if (zoom === 'none') return undefined;
  if (zoom === 'oracle') return samples.map((s) => s.bbox ?? null);
  const load = imageLoader(source);
  const out: Array<BBox | null> = [];
  for (let i = 0; i < samples.length; i += 64) out.push(...policy.locate(samples.slice(i, i + 64).map((sample) => ({ sample, image: load(sample) }))));
  return out;
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

/**
 * Refuses data the model cannot hold: the longest prompt + target (SFT) or prompt (rollouts) in
 * tokens must fit `maxTextLen`. The error names both numbers and the fix.
 */
export function assertFitsModel(config: VlmConfig, encoded: readonly EncodedSample[], withTarget: boolean): void {
  let longest = 0;
  let which: EncodedSample | undefined;
  for (const e of encoded) {
    const n = e.prompt.promptIds.length + (withTarget ? e.target.length : 1);
    if (n > longest) {
      longest = n;
      which = e;
    }
  }
  if (longest > config.maxTextLen) {
    throw new MedadError(ErrorCode.BadUserInput, `sample ${which!.sample.id} needs ${longest} text tokens (${which!.prompt.promptIds.length} prompt${withTarget ? ` + ${which!.target.length} completion` : ' + 1'}), more than the model's maxTextLen ${config.maxTextLen}`, {
      fix: `give the backbone a longer text window: backbone.config.model.maxTextLen ≥ ${longest} (CLI --max-text-len ${longest}), or a larger preset`,
      details: { field: 'backbone.config.model.maxTextLen', needed: longest, maxTextLen: config.maxTextLen },
    });
  }
}
