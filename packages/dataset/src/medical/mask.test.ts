import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawImage } from '@medad/core';
import { analyzeMask, resizeNearest } from './mask.js';

function disc(width: number, height: number, cx: number, cy: number, r: number, channels: 1 | 3 | 4 = 1, channel = 0): RawImage {
  const data = new Uint8Array(width * height * channels);
  if (channels === 4) for (let p = 0; p < width * height; p++) data[p * 4 + 3] = 255;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) data[(y * width + x) * channels + channel] = 255;
  return { width, height, channels, data };
}

describe('analyzeMask', () => {
  it('finds the centroid, bbox and area of a drawn disc', () => {
    let area = 0;
    for (let dy = -10; dy <= 10; dy++) for (let dx = -10; dx <= 10; dx++) if (dx * dx + dy * dy <= 100) area++;
    const m = analyzeMask(disc(64, 48, 40, 25, 10));
    assert.deepEqual(m, {
      area,
      areaFraction: area / (64 * 48),
      bbox: { x: 30, y: 15, width: 21, height: 21 },
      centroid: { x: 40.5, y: 25.5 },
      present: true,
    });
    assert.equal(area, 317);
  });

  it('counts foreground in any colour channel but ignores an opaque alpha', () => {
    const green = analyzeMask(disc(32, 32, 8, 20, 4, 3, 1));
    assert.deepEqual(green.centroid, { x: 8.5, y: 20.5 });
    const rgba = analyzeMask(disc(32, 32, 8, 20, 4, 4, 2));
    assert.deepEqual([rgba.area, rgba.bbox], [green.area, { x: 4, y: 16, width: 9, height: 9 }]);
  });

  it('reports an empty or below-threshold mask as not present', () => {
    assert.deepEqual(analyzeMask({ width: 4, height: 4, channels: 1, data: new Uint8Array(16) }), {
      area: 0,
      areaFraction: 0,
      bbox: null,
      centroid: null,
      present: false,
    });
    const faint = { width: 2, height: 1, channels: 1 as const, data: Uint8Array.of(100, 127) };
    assert.equal(analyzeMask(faint).present, false);
    assert.equal(analyzeMask(faint, 100).area, 2);
  });
});

describe('resizeNearest', () => {
  it('duplicates pixels when enlarging and keeps labels exact', () => {
    const img: RawImage = { width: 2, height: 2, channels: 1, data: Uint8Array.of(0, 255, 7, 9) };
    assert.deepEqual([...resizeNearest(img, 4, 4).data], [0, 0, 255, 255, 0, 0, 255, 255, 7, 7, 9, 9, 7, 7, 9, 9]);
  });

  it('moves a mask centroid with the scale', () => {
    const half = analyzeMask(resizeNearest(disc(64, 48, 40, 24, 10), 32, 24));
    assert.ok(Math.abs(half.centroid!.x - 20.25) < 0.5 && Math.abs(half.centroid!.y - 12.25) < 0.5, JSON.stringify(half.centroid));
  });

  it('rejects an image whose data does not match its size', () => {
    assert.throws(() => resizeNearest({ width: 3, height: 3, channels: 1, data: new Uint8Array(4) }, 2, 2), /does not match/);
  });
});
