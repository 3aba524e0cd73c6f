import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bboxOfMask, connectedComponents, maskCentroid, regionOfBBox, regionOfMask, regionOfPoint } from './regions.js';

describe('region grid', () => {
  it('maps the middle third of both axes to Center and the rest to quadrants', () => {
    assert.equal(regionOfPoint(50, 50, 100, 100), 'Center');
    assert.equal(regionOfPoint(34, 66, 100, 100), 'Center');
    assert.equal(regionOfPoint(32, 50, 100, 100), 'Left Lower');
    assert.equal(regionOfPoint(40, 20, 100, 100), 'Left Upper');
    assert.equal(regionOfPoint(80, 40, 100, 100), 'Right Upper');
    assert.equal(regionOfPoint(10, 90, 100, 100), 'Left Lower');
    assert.equal(regionOfPoint(90, 90, 100, 100), 'Right Lower');
    assert.equal(regionOfPoint(60, 10, 100, 100), 'Right Upper');
  });

  it('uses the bbox centre', () => {
    assert.equal(regionOfBBox({ x: 0, y: 0, width: 20, height: 20 }, 64, 64), 'Left Upper');
    assert.equal(regionOfBBox({ x: 24, y: 24, width: 16, height: 16 }, 64, 64), 'Center');
    assert.equal(regionOfBBox({ x: 50, y: 40, width: 10, height: 20 }, 64, 64), 'Right Lower');
  });

  it('uses the mask centroid, box and components', () => {
    const w = 10;
    const data = new Uint8Array(100);
    for (const [x, y] of [[7, 1], [8, 1], [7, 2], [8, 2], [1, 8]]) data[y! * w + x!] = 1;
    const mask = { width: w, height: 10, data };
    const c = maskCentroid(mask)!;
    assert.equal(c.area, 5);
    assert.ok(Math.abs(c.x - (7.5 + 8.5 + 7.5 + 8.5 + 1.5) / 5) < 1e-9);
    assert.equal(regionOfMask(mask), 'Right Upper');
    assert.deepEqual(bboxOfMask(mask), { x: 1, y: 1, width: 8, height: 8 });
    const cc = connectedComponents(mask);
    assert.equal(cc.count, 2);
    assert.deepEqual(cc.areas.sort(), [1, 4]);
    assert.equal(regionOfMask({ width: 2, height: 2, data: new Uint8Array(4) }), null);
  });
});
