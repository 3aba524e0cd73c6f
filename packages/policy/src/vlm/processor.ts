import { ErrorCode, MedadError, type BBox, type MedAdSample, type OptionLetter, type RawImage } from '@medad/core';
import { gridSize, imageTokens, type VlmConfig } from './config.js';

/** The prompt text of a sample (ARCHITECTURE.md): image placeholder, question, lettered options. */
export function renderPrompt(sample: Pick<MedAdSample, 'question' | 'options'>): string {
  const [a, b, c, d] = sample.options;
  return `<image> Question: ${sample.question} Options: (A) ${a} (B) ${b} (C) ${c} (D) ${d} Answer:`;
}

/** The target completion of a sample: `<think> {cot} </think> <answer> {letter} </answer>` (no `<eos>`). */
export function renderCompletion(sample: { cot: string; answer: OptionLetter | string }): string {
  return `<think> ${sample.cot} </think> <answer> ${sample.answer} </answer>`;
}

/**
 * An image as normalised RGB pixels `[imageSize, imageSize, 3]` (HWC, row-major):
 * bilinear resize with half-pixel centres, grayscale replicated, alpha dropped, `(v/255 − 0.5)/0.5`.
 */
export function imageToPixels(image: RawImage, imageSize: number): Float32Array {
  const { width: w, height: h, channels: ch, data } = image;
  if (!(w > 0 && h > 0) || ![1, 3, 4].includes(ch) || data.length !== w * h * ch) {
    throw new MedadError(ErrorCode.InvalidData, `Image ${w}×${h}×${ch} has ${data.length} bytes, expected ${w * h * ch} with 1, 3 or 4 channels`, {
      fix: 'decode the image to 8-bit gray, RGB or RGBA before passing it to the policy',
    });
  }
  const out = new Float32Array(imageSize * imageSize * 3);
  const sx = w / imageSize;
  const sy = h / imageSize;
  for (let y = 0; y < imageSize; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const wy = fy - y0;
    for (let x = 0; x < imageSize; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const cc = ch === 1 ? 0 : c;
        const v00 = data[(y0 * w + x0) * ch + cc]!;
        const v01 = data[(y0 * w + x1) * ch + cc]!;
        const v10 = data[(y1 * w + x0) * ch + cc]!;
        const v11 = data[(y1 * w + x1) * ch + cc]!;
        const v = (v00 * (1 - wx) + v01 * wx) * (1 - wy) + (v10 * (1 - wx) + v11 * wx) * wy;
        out[(y * imageSize + x) * 3 + c] = (v / 255 - 0.5) / 0.5;
      }
    }
  }
  return out;
}

/** HWC pixels to NCHW order (one image), the layout of the ONNX `pixel_values` input. */
export function pixelsToNCHW(pixels: Float32Array, imageSize: number): Float32Array {
  const out = new Float32Array(pixels.length);
  const plane = imageSize * imageSize;
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = pixels[i * 3 + c]!;
  return out;
}

/**
 * Flattened patches `[P, 3·p²]` of HWC pixels: patches in row-major patch order, each patch in
 * `(py, px, c)` order — the `[g,p,g,p,3] → [g,g,p,p,3]` transpose of ARCHITECTURE.md, done in JS
 * because 5-D transposes are slow on the wasm backend.
 */
export function pixelsToPatches(pixels: Float32Array, cfg: VlmConfig): Float32Array {
  const p = cfg.patchSize;
  const g = gridSize(cfg);
  const s = cfg.imageSize;
  if (pixels.length !== s * s * 3) {
    throw new MedadError(ErrorCode.BadUserInput, `Pixels have ${pixels.length} values, expected ${s}·${s}·3 = ${s * s * 3}`, {
      fix: `make them with imageToPixels(image, ${s})`,
    });
  }
  const patchLen = 3 * p * p;
  const out = new Float32Array(imageTokens(cfg) * patchLen);
  for (let r = 0; r < g; r++)
    for (let c = 0; c < g; c++) {
      let o = (r * g + c) * patchLen;
      for (let py = 0; py < p; py++) {
        const rowStart = ((r * p + py) * s + c * p) * 3;
        for (let k = 0; k < p * 3; k++) out[o++] = pixels[rowStart + k]!;
      }
    }
  return out;
}

/** Patches `[P, 3p²]` of a decoded image, ready for the model. */
export function imageToPatches(image: RawImage, cfg: VlmConfig): Float32Array {
  return pixelsToPatches(imageToPixels(image, cfg.imageSize), cfg);
}

/**
 * Grounding targets `[P]` (ARCHITECTURE.md step 8): the fraction of each patch of the model's grid
 * that `bbox` covers, for an image of `width × height` pixels with the box in its pixel
 * coordinates (resizing keeps relative positions). Parts of the box outside the image are ignored.
 */
export function groundingTargets(bbox: BBox, width: number, height: number, cfg: VlmConfig): Float32Array {
  const ok = [bbox.x, bbox.y, bbox.width, bbox.height].every(Number.isFinite) && bbox.width > 0 && bbox.height > 0 && width > 0 && height > 0;
  if (!ok) {
    throw new MedadError(ErrorCode.InvalidData, `Box ${JSON.stringify(bbox)} on a ${width}×${height} image is not a box of positive size`, {
      fix: 'give bbox as { x, y, width, height } in pixels with width and height > 0',
    });
  }
  const g = gridSize(cfg);
  // Covered fraction of each grid cell along one axis.
  const cover = (start: number, size: number, extent: number): Float32Array => {
    const out = new Float32Array(g);
    const cell = extent / g;
    for (let i = 0; i < g; i++) out[i] = Math.max(0, Math.min(start + size, (i + 1) * cell) - Math.max(start, i * cell)) / cell;
    return out;
  };
  const cx = cover(bbox.x, bbox.width, width);
  const cy = cover(bbox.y, bbox.height, height);
  const out = new Float32Array(g * g);
  for (let r = 0; r < g; r++) for (let c = 0; c < g; c++) out[r * g + c] = cy[r]! * cx[c]!;
  return out;
}

/**
 * The region the grounding head predicts, in the pixels of a `width × height` image: the box of
 * the grid cells whose probability (sigmoid of the logit; the head is trained with BCE on each
 * cell's covered fraction, {@link groundingTargets}) is at least `threshold`, or the most probable
 * cell when none is. The inverse of {@link groundingTargets} up to the grid's resolution.
 */
export function groundingBox(logits: ArrayLike<number>, width: number, height: number, cfg: VlmConfig, threshold = 0.5): BBox {
  const g = gridSize(cfg);
  if (logits.length !== g * g) {
    throw new MedadError(ErrorCode.BadUserInput, `groundingBox got ${logits.length} logits for a ${g}×${g} grid`, { fix: 'pass one image row of model.groundingLogits' });
  }
  const z = Math.log(threshold / (1 - threshold)); // sigmoid(l) ≥ threshold ⇔ l ≥ z
  let r0 = g, r1 = -1, c0 = g, c1 = -1, best = 0;
  for (let i = 0; i < g * g; i++) {
    if (logits[i]! > logits[best]!) best = i;
    if (logits[i]! < z) continue;
    const r = Math.floor(i / g), c = i % g;
    r0 = Math.min(r0, r); r1 = Math.max(r1, r); c0 = Math.min(c0, c); c1 = Math.max(c1, c);
  }
  if (r1 < 0) [r0, r1, c0, c1] = [Math.floor(best / g), Math.floor(best / g), best % g, best % g];
  const cw = width / g, ch = height / g;
  const x = Math.round(c0 * cw), y = Math.round(r0 * ch);
  return { x, y, width: Math.max(1, Math.round((c1 + 1) * cw) - x), height: Math.max(1, Math.round((r1 + 1) * ch) - y) };
}
