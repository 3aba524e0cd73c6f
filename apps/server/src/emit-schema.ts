/** `npm run schema -w @medad/server`: writes the emitted SDL to apps/server/schema.graphql (committed; a test checks it). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildControlPlaneSchema, schemaSdl } from './graphql/schema.js';

/** Path of the committed schema file. */
export const SCHEMA_FILE = fileURLToPath(new URL('../schema.graphql', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, schemaSdl(await buildControlPlaneSchema()));
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
