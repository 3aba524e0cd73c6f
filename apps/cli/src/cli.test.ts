import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../bin/medad.js', import.meta.url));

async function medad(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args]);
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

test('medad plugins --json lists discovered plugins with kind, id, version and package', async () => {
  const { stdout, code } = await medad('plugins', '--json');
  assert.equal(code, 0);
  const out = JSON.parse(stdout) as { plugins: Array<{ kind: string; id: string; version: string; package: string }>; failures: unknown[] };
  assert.ok(Array.isArray(out.plugins));
  for (const p of out.plugins) {
    assert.match(p.id, /^[a-z][a-z0-9-]*$/);
    assert.match(p.version, /^\d+\.\d+\.\d+/);
    assert.match(p.package, /^@?[\w./-]+$/);
  }
});

test('an invalid --kind is rejected with the valid choices', async () => {
  const { stderr, code } = await medad('plugins', '--kind', 'widget');
  assert.notEqual(code, 0);
  assert.match(stderr, /Allowed choices are dataset, backbone, reward, judge/);
});

test('--help describes the command', async () => {
  const { stdout, code } = await medad('plugins', '--help');
  assert.equal(code, 0);
  assert.match(stdout, /--kind <kind>/);
  assert.match(stdout, /--json/);
});
