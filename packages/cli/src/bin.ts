#!/usr/bin/env node
import 'reflect-metadata';
import { run } from './program.js';

// exitCode rather than exit(): let stdout drain to a pipe before the process ends.
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`oddjob: error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
