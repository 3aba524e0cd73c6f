import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childEnv } from './launcher.js';

test('a run process inherits an allow-list of variables: never the server tokens, database or Redis URLs or other secrets', () => {
  const parent = {
    PATH: '/usr/bin', HOME: '/root', LANG: 'C.UTF-8', LC_ALL: 'C', OMP_NUM_THREADS: '2', OPENBLAS_CORETYPE: 'Haswell',
    MEDAD_DATA_DIR: '/data', MEDAD_FIXTURE_STEP_MS: '5', MEDAD_API_TOKENS: 'secret-token:operator', MEDAD_SECRET: 'x',
    DATABASE_URL: 'postgres://u:p@h/db', REDIS_URL: 'redis://:pw@h', AWS_SECRET_ACCESS_KEY: 'k', GITHUB_TOKEN: 't', OPENAI_API_KEY: 'sk-1', OTHER_API_KEY: 'sk-2', npm_config_cache: '/c',
  };
  const env = childEnv(parent);
  assert.deepEqual(Object.keys(env).sort(), ['HOME', 'LANG', 'LC_ALL', 'MEDAD_DATA_DIR', 'MEDAD_FIXTURE_STEP_MS', 'OMP_NUM_THREADS', 'OPENAI_API_KEY', 'OPENBLAS_CORETYPE', 'PATH']);
  assert.equal(childEnv({ ...parent, MEDAD_ALLOWED_KEY_ENVS: 'OTHER_API_KEY' }).OTHER_API_KEY, 'sk-2', 'allowed key variables pass');
  assert.equal(childEnv({ ...parent, MEDAD_ALLOWED_KEY_ENVS: 'OTHER_API_KEY' }).OPENAI_API_KEY, undefined);
});
