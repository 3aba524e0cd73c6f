import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoggerToken, RunInfoToken } from './core-tokens.js';
import { MedadError } from './errors.js';
import { silentLogger } from './logger.js';
import { createRootContainer, createTestContainer, createToken } from './tokens.js';

test('typed tokens resolve what was registered; children shadow and do not leak up', () => {
  const root = createRootContainer();
  const Num = createToken<number>('Num');
  root.register(Num, 1);
  const child = root.createChild();
  child.register(Num, 2);
  assert.equal(root.resolve(Num), 1);
  assert.equal(child.resolve(Num), 2);
  const other = root.createChild();
  assert.equal(other.resolve(Num), 1);
});

test('resolving an unregistered token names it and lists what is registered', () => {
  const c = createTestContainer([[LoggerToken, silentLogger]]);
  assert.throws(
    () => c.resolve(RunInfoToken),
    (err: unknown) => err instanceof MedadError && /"RunInfo"/.test(err.message) && /Logger/.test(err.message),
  );
  assert.equal(c.tryResolve(RunInfoToken), undefined);
});

test('factories run once, lazily', () => {
  const c = createRootContainer();
  const T = createToken<{ n: number }>('T');
  let calls = 0;
  c.registerFactory(T, () => ({ n: ++calls }));
  assert.equal(calls, 0);
  assert.equal(c.resolve(T), c.resolve(T));
  assert.equal(calls, 1);
});
