import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRng } from '@medad/core';
import { fixtureImage } from '@medad/core/testing';
import { cropImage, resizeBilinear } from './image/raw.js';
import { localZoom } from './zoom.js';
import { zoomWithRoi } from './zoom-transform.js';

describe('local zoom', () => {
  const img = fixtureImage(64);

  it('pastes exactly the bilinearly enlarged crop inside a border in the chosen corner', () => {
    const bbox = { x: 40, y: 36, width: 10, height: 8 };
    const r = localZoom(img, { bbox }, { corner: 'top-left', margin: 0.25, scale: 0.4, border: 2, borderColor: [255, 0, 0] });
    assert.equal(r.corner, 'top-left');
    assert.deepEqual(r.crop, { x: 38, y: 33, width: 15, height: 15 });
    assert.deepEqual(r.inset, { x: 2, y: 2, width: 22, height: 22 });
    const expected = resizeBilinear(cropImage(img, r.crop.x, r.crop.y, r.crop.width, r.crop.height), 22, 22);
    for (let y = 0; y < 22; y++)
      for (let x = 0; x < 22; x++)
        for (let k = 0; k < 3; k++)
          assert.equal(r.image.data[((y + 2) * 64 + x + 2) * 3 + k], expected.data[(y * 22 + x) * 3 + k]);
    assert.deepEqual([...r.image.data.subarray(0, 3)], [255, 0, 0]);
    assert.deepEqual([...r.image.data.subarray((25 * 64 + 25) * 3, (25 * 64 + 25) * 3 + 3)], [255, 0, 0]);
    assert.deepEqual([...r.image.data.subarray((40 * 64 + 40) * 3, (40 * 64 + 40) * 3 + 3)], [...img.data.subarray((40 * 64 + 40) * 3, (40 * 64 + 40) * 3 + 3)]);
  });

  it('takes the region of interest from a mask and puts the inset away from it', () => {
    const data = new Uint8Array(64 * 64);
    for (let y = 5; y < 12; y++) for (let x = 6; x < 15; x++) data[y * 64 + x] = 1;
    const r = localZoom(img, { mask: { width: 64, height: 64, data } });
    assert.equal(r.corner, 'bottom-right');
    assert.ok(r.crop.x <= 6 && r.crop.x + r.crop.width >= 15 && r.crop.y <= 5 && r.crop.y + r.crop.height >= 12);
    assert.throws(() => localZoom(img, { mask: { width: 64, height: 64, data: new Uint8Array(4096) } }), /mask is empty/);
  });

  it('is deterministic, and decoy regions keep the inset present on normal images', () => {
    const a = zoomWithRoi(img, null, new SeededRng(5));
    const b = zoomWithRoi(img, null, new SeededRng(5));
    assert.deepEqual(a, b);
    assert.notDeepEqual([...a.image.data], [...img.data]);
    const roi = { x: 2, y: 2, width: 12, height: 12 };
    for (let s = 0; s < 10; s++) assert.notEqual(zoomWithRoi(img, roi, new SeededRng(s)).corner, 'top-left');
  });
});
