import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { configFieldRoles, envNameField, pathField, urlField } from './config-fields.js';

test('marked config fields are found with their roles, also behind optional and default', () => {
  const schema = z.object({
    checkpoint: pathField(z.string().min(1)),
    tokenizer: pathField(z.string()).optional(),
    baseUrl: urlField(z.string().url()),
    apiKeyEnv: envNameField(z.string().default('OPENAI_API_KEY')),
    temperature: z.number().default(0),
  });
  assert.deepEqual(configFieldRoles(schema), [
    { key: 'checkpoint', role: 'path' },
    { key: 'tokenizer', role: 'path' },
    { key: 'baseUrl', role: 'url' },
    { key: 'apiKeyEnv', role: 'env-name' },
  ]);
  assert.deepEqual(configFieldRoles(z.string()), [], 'not an object: nothing to confine');
  assert.equal(pathField(z.string()).parse('/x'), '/x', 'marking does not change validation');
});
