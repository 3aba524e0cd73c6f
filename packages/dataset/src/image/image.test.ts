import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jpeg from 'jpeg-js';
import { fixtureImage } from '@medad/core/testing';
import { decodeImage, decodeJpeg, decodePng, encodePng, imageDimensions } from './codec.js';
import { cropImage, flipImage, resizeBilinear, toGrayFloat, toRgb } from './raw.js';

describe('image IO', () => {
  it('round-trips grey, RGB and RGBA PNGs exactly, keeping the channel count', () => {
    const rgb = fixtureImage(9);
    const grey = { width: 3, height: 2, channels: 1 as const, data: Uint8Array.from([0, 50, 100, 150, 200, 255]) };
    const rgba = { width: 2, height: 1, channels: 4 as const, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 255]) };
    for (const img of [rgb, grey, rgba]) {
      const back = decodePng(encodePng(img));
      assert.equal(back.channels, img.channels);
      assert.deepEqual([...back.data], [...img.data]);
    }
  });

  it('encodes the same image to the same bytes', () => {
    assert.deepEqual(encodePng(fixtureImage(16)), encodePng(fixtureImage(16)));
  });

  it('decodes JPEG to RGB close to the source', () => {
    const src = fixtureImage(16);
    const rgba = new Uint8Array(16 * 16 * 4);
    for (let p = 0; p < 256; p++) {
      rgba.set(src.data.subarray(p * 3, p * 3 + 3), p * 4);
      rgba[p * 4 + 3] = 255;
    }
    const bytes = jpeg.encode({ width: 16, height: 16, data: rgba }, 95).data;
    const img = decodeImage(bytes);
    assert.equal(img.channels, 3);
    let err = 0;
    for (let i = 0; i < img.data.length; i++) err += Math.abs(img.data[i]! - src.data[i]!);
    assert.ok(err / img.data.length < 6, `mean abs error ${err / img.data.length}`);
  });

  it('rejects corrupt and unknown files with the name and a fix', () => {
    assert.throws(() => decodeImage(Uint8Array.from([1, 2, 3, 4]), 'x.bin'), /x\.bin is neither a PNG nor a JPEG.*Fix:/);
    const png = encodePng(fixtureImage(8));
    assert.throws(() => decodePng(png.subarray(0, 40), 'cut.png'), /cut\.png is not a readable PNG/);
    assert.throws(() => decodeJpeg(Uint8Array.from([0xff, 0xd8, 0xff, 0, 1]), 'bad.jpg'), /bad\.jpg is not a readable JPEG/);
  });

  it('resizes bilinearly with half-pixel centres', () => {
    const img = { width: 2, height: 1, channels: 1 as const, data: Uint8Array.from([0, 200]) };
    assert.deepEqual([...resizeBilinear(img, 4, 1).data], [0, 50, 150, 200]);
    const same = resizeBilinear(fixtureImage(8), 8, 8);
    assert.deepEqual([...same.data], [...fixtureImage(8).data]);
    const down = resizeBilinear({ width: 4, height: 1, channels: 1, data: Uint8Array.from([0, 100, 200, 40]) }, 2, 1);
    assert.deepEqual([...down.data], [50, 120]);
  });

  it('crops, flips, converts to RGB and to grey', () => {
    const img = fixtureImage(4);
    const c = cropImage(img, 1, 2, 2, 5);
    assert.deepEqual([c.width, c.height], [2, 2]);
    assert.deepEqual([...c.data.subarray(0, 3)], [...img.data.subarray((2 * 4 + 1) * 3, (2 * 4 + 1) * 3 + 3)]);
    const f = flipImage(img, true, false);
    assert.deepEqual([...f.data.subarray(0, 3)], [...img.data.subarray(3 * 3, 3 * 3 + 3)]);
    assert.deepEqual([...flipImage(f, true, false).data], [...img.data]);
    const g = { width: 1, height: 1, channels: 1 as const, data: Uint8Array.from([7]) };
    assert.deepEqual([...toRgb(g).data], [7, 7, 7]);
    assert.ok(Math.abs(toGrayFloat({ width: 1, height: 1, channels: 3, data: Uint8Array.from([255, 0, 0]) })[0]! - 76.245) < 1e-3);
    assert.throws(() => resizeBilinear({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }, 1, 1), /has 5 bytes/);
  });
});

describe('imageDimensions reads the size from the header, without decoding', () => {
  it('PNG and JPEG (baseline and progressive) give their width and height; other bytes give undefined', () => {
    const png = encodePng({ width: 37, height: 11, channels: 1, data: new Uint8Array(37 * 11) });
    assert.deepEqual(imageDimensions(png), { width: 37, height: 11, format: 'png' });
    const rgba = new Uint8Array(23 * 9 * 4).fill(128);
    const jpg = jpeg.encode({ width: 23, height: 9, data: rgba }, 90).data;
    assert.deepEqual(imageDimensions(jpg), { width: 23, height: 9, format: 'jpeg' });
    assert.equal(imageDimensions(png.subarray(0, 20)), undefined, 'cut inside IHDR');
    assert.equal(imageDimensions(jpg.subarray(0, 6)), undefined, 'cut before the frame header');
    assert.equal(imageDimensions(new Uint8Array([1, 2, 3, 4])), undefined);
  });
  it('decodeImage with maxPixels refuses a large image before decoding it, naming its size and the limit', () => {
    const big = encodePng({ width: 3000, height: 3000, channels: 1, data: new Uint8Array(3000 * 3000) });
    assert.ok(big.length < 50_000, `a few KB of bytes (${big.length}) declare 9 M pixels`);
    assert.throws(() => decodeImage(big, 'upload', { maxPixels: 4096 * 4096 / 2 }), /upload is 3000×3000 \(9000000 pixels\), more than the limit of 8388608.*Fix: downscale/);
    assert.equal(decodeImage(big, 'upload', { maxPixels: 9_000_000 }).width, 3000);
  });
});
