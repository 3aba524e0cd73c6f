#!/usr/bin/env node
import { MedadError } from '@medad/core';
import { createProgram } from './program.js';

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
