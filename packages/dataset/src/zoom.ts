import { ErrorCode, MedadError, type BBox, type RawImage } from '@medad/core';
import { cropImage, checkImage, resizeBilinear } from './image/raw.js';
import { bboxOfMask, type BinaryMask } from './regions.js';

/** An image corner for the inset. */
export type Corner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
/** The four corners. */
export const CORNERS: readonly Corner[] = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];

/** Options of {@link localZoom}. */
export interface LocalZoomOptions {
  /** Margin added around the region of interest on each side, as a fraction of its larger side (default 0.25). */
  margin?: number;
  /** Inset side (border included) as a fraction of the image's shorter side (default 0.4). */
  scale?: number;
  /** Where the inset goes; `auto` (default) picks the corner farthest from the region of interest. */
  corner?: Corner | 'auto';
  /** Border width in pixels (default 1). */
  border?: number;
  /** Border colour, one value per channel (default white). */
  borderColor?: readonly number[];
}

/** The zoomed image and where things went. */
export interface LocalZoomResult {
  image: RawImage;
  /** The square crop taken from the input (clamped to the image). */
  crop: BBox;
  /** Where the enlarged crop was pasted (inside the border). */
  inset: BBox;
  corner: Corner;
}

/** Region of interest: a bounding box, or a binary mask whose nonzero pixels are the region. */
export type ZoomRoi = { bbox: BBox } | { mask: BinaryMask };

function roiBox(img: RawImage, roi: ZoomRoi): BBox {
  if ('bbox' in roi) return roi.bbox;
  if (roi.mask.width !== img.width || roi.mask.height !== img.height) {
    throw new MedadError(ErrorCode.BadUserInput, `localZoom: mask is ${roi.mask.width}×${roi.mask.height} but the image is ${img.width}×${img.height}`, {
      fix: 'resize the mask to the image size (nearest neighbour) before zooming',
    });
  }
  const box = bboxOfMask(roi.mask);
  if (!box) throw new MedadError(ErrorCode.BadUserInput, 'localZoom: the mask is empty', { fix: 'pass a mask with at least one nonzero pixel, or a bbox' });
  return box;
}

/**
 * MedReason-R1's local zoom: crops the region of interest (with margin) as a square, enlarges it
 * bilinearly and embeds it, framed by a border, in a corner of the image, so one input carries
 * global context and local detail. Deterministic: same inputs, same pixels.
 */
export function localZoom(img: RawImage, roi: ZoomRoi, options: LocalZoomOptions = {}): LocalZoomResult {
  checkImage(img, 'localZoom');
  const margin = options.margin ?? 0.25;
  const scale = options.scale ?? 0.4;
  const border = options.border ?? 1;
  if (!(margin >= 0) || !(scale > 0 && scale < 1) || !(Number.isInteger(border) && border >= 0)) {
    throw new MedadError(ErrorCode.BadUserInput, `localZoom: margin ${margin}, scale ${scale}, border ${border} out of range`, {
      fix: 'use margin >= 0, 0 < scale < 1 and an integer border >= 0',
    });
  }
  const box = roiBox(img, roi);
  const side = Math.max(1, Math.ceil(Math.max(box.width, box.height) * (1 + 2 * margin)));
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const cropSide = Math.min(side, img.width, img.height);
  const x = Math.round(Math.min(Math.max(cx - cropSide / 2, 0), img.width - cropSide));
  const y = Math.round(Math.min(Math.max(cy - cropSide / 2, 0), img.height - cropSide));
  const crop = cropImage(img, x, y, cropSide, cropSide);

  const outer = Math.max(2 * border + 1, Math.round(scale * Math.min(img.width, img.height)));
  const innerSide = outer - 2 * border;
  const enlarged = resizeBilinear(crop, innerSide, innerSide);

  let corner: Corner;
  if (options.corner === undefined || options.corner === 'auto') {
    const left = cx >= img.width / 2;
    const top = cy >= img.height / 2;
    corner = `${top ? 'top' : 'bottom'}-${left ? 'left' : 'right'}` as Corner;
  } else corner = options.corner;
  const ox = corner.endsWith('left') ? 0 : img.width - outer;
  const oy = corner.startsWith('top') ? 0 : img.height - outer;

  const c = img.channels;
  const data = new Uint8Array(img.data);
  const color = options.borderColor ?? [255, 255, 255, 255];
  for (let r = 0; r < outer; r++)
    for (let q = 0; q < outer; q++) {
      const o = ((oy + r) * img.width + ox + q) * c;
      const inside = r >= border && r < outer - border && q >= border && q < outer - border;
      for (let k = 0; k < c; k++) {
        data[o + k] = inside ? enlarged.data[((r - border) * innerSide + (q - border)) * c + k]! : (color[k] ?? color[0] ?? 255);
      }
    }
  return {
    image: { width: img.width, height: img.height, channels: img.channels, data },
    crop: { x, y, width: cropSide, height: cropSide },
    inset: { x: ox + border, y: oy + border, width: innerSide, height: innerSide },
    corner,
  };
}
