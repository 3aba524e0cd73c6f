import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medad } from './testing.js';


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

test('medad spec --kind sft prints the JSON Schema of the sft run spec; --defaults the filled-in spec', async () => {
  const schema = await medad('spec', '--kind', 'sft');
  assert.equal(schema.code, 0, schema.stderr);
  const s = JSON.parse(schema.stdout) as { type: string; properties: Record<string, { properties?: Record<string, { default?: unknown }> }> };
  assert.equal(s.type, 'object');
  assert.equal(s.properties.hyper!.properties!.steps!.default, 8000);
  const defaults = await medad('spec', '--kind', 'con-grpo', '--defaults');
  assert.equal(JSON.parse(defaults.stdout).hyper.groupSize, 8);
});

test('train flags are a view of the spec: each given flag lands in its field, the rest take the schema defaults', async () => {
  const { stdout, code, stderr } = await medad('train', 'con-grpo', '--data', '/d', '--out', '/o', '--lr', '0.01', '--mu', '2', '--advantage-scale', 'none', '--rewards', 'format=0.5,accuracy=0.5', '--reward-config', 'format={"x":1}', '--judge', 'none', '--d-model', '48', '--print-spec');
  assert.equal(code, 0, stderr);
  const spec = JSON.parse(stdout);
  assert.deepEqual([spec.hyper.lr, spec.hyper.mu, spec.hyper.advantageScale, spec.hyper.groupSize], [0.01, 2, 'none', 8]);
  assert.deepEqual(spec.rewards, [{ plugin: 'format', weight: 0.5, config: { x: 1 } }, { plugin: 'accuracy', weight: 0.5, config: {} }]);
  assert.equal(spec.judge, null);
  assert.deepEqual(spec.backbone, { plugin: 'tfjs-vlm', config: { model: { dModel: 48 } } });
  const bad = await medad('train', 'sft', '--data', '/d', '--out', '/o', '--steps', '0');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /flags: hyper\.steps: must be ≥ 1/);
});
