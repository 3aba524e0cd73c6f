#!/usr/bin/env node
import { MedadError } from '@medad/core';
import { createProgram } from './program.js';

// Started by a control plane, a worker or `medad reproduce` (an IPC channel): when that parent dies
// the channel closes and the run stops too, so no orphan keeps writing a run nobody watches; it is
// resumed later from its last checkpoint. Exit code 75 (EX_TEMPFAIL): try again later.
if (process.send) {
  process.once('disconnect', () => {
    process.stderr.write('medad: the process that started this run is gone (IPC channel closed); stopping. Resume the run to continue from its last checkpoint\n');
    process.exit(75);
  });
  // A 'disconnect' listener would otherwise keep the channel, and so the process, alive after the run ends.
  process.channel?.unref();
}

createProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof MedadError) {
      process.stderr.write(`medad: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`medad: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  });
