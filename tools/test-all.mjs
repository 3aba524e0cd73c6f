#!/usr/bin/env node
// Runs lint and every project's tests through Nx (cached, dependency-ordered), streams the
// output, then prints one closing line "tests: N passed, N failed" summed over all projects.
import { spawn } from 'node:child_process';

const args = ['nx', 'run-many', '-t', 'lint', 'test', '--output-style=stream', '--parallel=2', ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', FORCE_COLOR: '0' } });
let passed = 0;
let failed = 0;
let buffer = '';
const scan = (chunk) => {
  buffer += chunk;
  const lines = buffer.split('\n');
  buffer = lines.pop() ?? '';
  for (const line of lines) {
    const m = /(?:ℹ|#) (pass|fail) (\d+)\s*$/.exec(line);
    if (m) m[1] === 'pass' ? (passed += Number(m[2])) : (failed += Number(m[2]));
  }
};
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  scan(d.toString());
});
child.stderr.on('data', (d) => process.stderr.write(d));
child.on('close', (code) => {
  scan('\n');
  process.stdout.write(`\ntests: ${passed} passed, ${failed} failed\n`);
  process.exit(code ?? 1);
});
