import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRng, hashString } from './rng.js';

test('same seed gives the same sequence; different seeds differ', () => {
  const a = new SeededRng(42);
  const b = new SeededRng(42);
  const c = new SeededRng(43);
  const xs = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.nextUint32()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.nextUint32()));
});

test('state save/restore continues the exact sequence (resume)', () => {
  const a = new SeededRng('run-1');
  a.next();
  const state = a.getState();
  const expected = [a.next(), a.int(10), a.normal()];
  const b = SeededRng.fromState(state);
  assert.deepEqual([b.next(), b.int(10), b.normal()], expected);
});

test('uniform draws have mean ~0.5 and normals have std ~1', () => {
  const r = new SeededRng(7);
  const n = 20000;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) sum += r.next();
  for (let i = 0; i < n; i++) sq += r.normal() ** 2;
  assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
  assert.ok(Math.abs(Math.sqrt(sq / n) - 1) < 0.02, `std ${Math.sqrt(sq / n)}`);
});

test('int stays in range and covers it; shuffle is a permutation', () => {
  const r = new SeededRng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    const v = r.int(4);
    assert.ok(v >= 0 && v < 4);
    seen.add(v);
  }
  assert.equal(seen.size, 4);
  const items = [1, 2, 3, 4, 5, 6];
  assert.deepEqual([...r.shuffle(items)].sort(), items);
  assert.throws(() => r.int(0), /positive integer/);
});

test('hashString is stable', () => {
  assert.equal(hashString(''), 0x811c9dc5);
  assert.equal(hashString('a'), 0xe40c292c);
});
