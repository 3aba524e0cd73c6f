#!/usr/bin/env node
/**
 * `node apps/server/dist/main.js [--port P] [--host H] [--data-dir DIR] [--demo]`: the control plane
 * without the `medad` CLI (same as `medad serve`), for containers and process-level tests.
 */
import { parseArgs } from 'node:util';
import { errorMessage } from '@medad/core';
import { serve } from './serve.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    concurrency: { type: 'string' },
    demo: { type: 'boolean' },
  },
});
try {
  await serve({
    port: values.port === undefined ? undefined : Number(values.port),
    host: values.host,
    dataDir: values['data-dir'],
    concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
    demo: values.demo,
  });
} catch (err) {
  process.stderr.write(`medad server: ${errorMessage(err)}\n`);
  process.exit(2);
}
