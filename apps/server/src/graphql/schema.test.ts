import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SCHEMA_FILE } from '../emit-schema.js';
import { buildControlPlaneSchema, schemaSdl } from './schema.js';

test('the committed schema.graphql equals the schema the code emits', async () => {
  const emitted = schemaSdl(await buildControlPlaneSchema());
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  assert.ok(
    emitted === committed,
    'apps/server/schema.graphql is out of date with the resolvers. Fix: run `npm run schema -w @medad/server` and commit the file',
  );
  assert.match(committed, /trainingMetrics\(/);
});
