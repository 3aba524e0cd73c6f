import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, isMedadError } from '@medad/core';
import { applyWindow, percentileWindow, resolveWindow, scanValues } from './window.js';

describe('applyWindow', () => {
  it('maps the window ends to 0 and 255, the centre to 128, and clamps outside', () => {
    const out = applyWindow([-200, -160, 40, 240, 1000, Number.NaN], 40, 400);
    assert.deepEqual([...out], [0, 0, 128, 255, 255, 0]);
  });

  it('is linear inside the window and inverts on request', () => {
    const out = applyWindow(Float32Array.from([0, 25, 50, 75, 100]), 50, 100);
    assert.deepEqual([...out], [0, 64, 128, 191, 255]);
    const inv = applyWindow(Float32Array.from([0, 25, 50, 75, 100]), 50, 100, { invert: true });
    assert.deepEqual([...inv], [255, 191, 127, 64, 0]);
  });

  it('rejects a non-positive width with BAD_USER_INPUT', () => {
    assert.throws(() => applyWindow([1], 0, 0), (e) => isMedadError(e, ErrorCode.BadUserInput) && /width/.test(e.message));
  });
});

describe('percentileWindow', () => {
  it('interpolates percentiles like numpy (0..100 → 1st = 1, 99th = 99)', () => {
    const values = Array.from({ length: 101 }, (_, i) => 100 - i);
    assert.deepEqual(percentileWindow(values), { center: 50, width: 98, low: 1, high: 99 });
    const w = percentileWindow(values, 2.5, 97.5);
    assert.equal(w.low, 2.5);
    assert.equal(w.high, 97.5);
  });

  it('ignores NaN and infinities', () => {
    const w = percentileWindow([Number.NaN, 0, 10, Number.POSITIVE_INFINITY], 0, 100);
    assert.deepEqual(w, { center: 5, width: 10, low: 0, high: 10 });
  });

  it('widens a collapsed range to min..max, then to width 1 for a constant image', () => {
    const mostlyZero = [...new Array(999).fill(0), 50];
    assert.deepEqual(percentileWindow(mostlyZero), { center: 25, width: 50, low: 0, high: 50 });
    assert.deepEqual(percentileWindow([7, 7, 7]), { center: 7, width: 1, low: 6.5, high: 7.5 });
  });

  it('rejects percentiles out of order', () => {
    assert.throws(() => percentileWindow([1, 2], 99, 1), (e) => isMedadError(e, ErrorCode.BadUserInput));
  });
});

describe('resolveWindow and scanValues', () => {
  it('prefers explicit, then the file window, then percentiles', () => {
    const sample = (): Float32Array => Float32Array.from({ length: 101 }, (_, i) => i);
    assert.equal(resolveWindow({ window: { center: 1, width: 2 } }, { center: 5, width: 6 }, sample).source, 'explicit');
    assert.deepEqual(resolveWindow({}, { center: 5, width: 6 }, sample), { center: 5, width: 6, source: 'file' });
    assert.deepEqual(resolveWindow({ ignoreFileWindow: true }, { center: 5, width: 6 }, sample), {
      center: 50,
      width: 98,
      source: 'percentile',
      percentiles: [1, 99],
    });
    assert.equal(resolveWindow({}, { center: 5, width: 0 }, sample).source, 'percentile');
  });

  it('skips excluded and non-finite values in min/max and the sample', () => {
    const data = [5, -1000, 3, Number.NaN, 9];
    const scan = scanValues(data.length, (i) => data[i]!, (i) => data[i] === -1000);
    assert.equal(scan.min, 3);
    assert.equal(scan.max, 9);
    assert.deepEqual([...scan.sample], [5, 3, 9]);
  });
});
