import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MedadError } from './errors.js';
import { RUN_SPEC_KINDS, conGrpoHyperSchema, parseRunSpec, runRefId, runSpecJsonSchema, sftHyperSchema } from './runspec.js';

test('a spec with only its required fields gets every default from its schema', () => {
  const spec = parseRunSpec({ kind: 'sft', data: 'd', out: 'o' });
  assert.equal(spec.kind, 'sft');
  if (spec.kind !== 'sft') return;
  assert.deepEqual(spec.hyper, sftHyperSchema.parse({}));
  assert.equal(spec.hyper.steps, 8000);
  assert.deepEqual(spec.backbone, { plugin: 'tfjs-vlm', config: {} });
  assert.deepEqual(spec.compute, { device: 'auto', gradEngine: 'auto', threads: 'auto', backend: 'auto', decodeThreads: 1 });
  const grpo = parseRunSpec({ kind: 'con-grpo', data: 'd', out: 'o' });
  if (grpo.kind !== 'con-grpo') return assert.fail('kind');
  assert.deepEqual(grpo.hyper, conGrpoHyperSchema.parse({}));
  assert.deepEqual(grpo.rewards.map((r) => [r.plugin, Number(r.weight.toFixed(4))]), [['format', 0.3333], ['accuracy', 0.3333], ['consistency', 0.3333]]);
  assert.deepEqual(grpo.judge, { plugin: 'rule', config: {} });
});

test('a bad spec is one error that names every bad field, where it came from and the fix', () => {
  assert.throws(
    () => parseRunSpec({ kind: 'sft', data: 'd', out: '', hyper: { steps: 0, lr: -1 }, compute: { threads: 'x' } }, 'spec.json'),
    (err: unknown) => {
      assert.ok(err instanceof MedadError);
      assert.match(err.message, /^spec\.json: out: must not be empty; hyper\.steps: must be ≥ 1; hyper\.lr: must be > 0; compute\.threads: must be "auto" or a positive integer/);
      assert.match(err.fix ?? '', /medad spec --kind sft/);
      return true;
    },
  );
  assert.throws(() => parseRunSpec({ kind: 'train', out: 'o' }), /unknown run kind "train".*use one of: dataset, sft, con-grpo, eval, judge/);
  assert.throws(() => parseRunSpec({ out: 'o' }), /field "kind" is missing/);
  assert.throws(() => parseRunSpec({ kind: 'con-grpo', data: 'd', out: 'o', rewards: [{ plugin: 'format', weight: 0 }] }), /rewards: give at least one reward a weight > 0/);
  assert.throws(() => parseRunSpec({ kind: 'sft', data: 'd', out: 'o' }, 'x', 'eval'), /field "kind" is "sft", expected "eval"/);
});

test('every kind has a JSON Schema with its fields, descriptions and defaults', () => {
  for (const kind of RUN_SPEC_KINDS) {
    const schema = runSpecJsonSchema(kind);
    assert.equal(schema.type, 'object', kind);
    assert.ok('out' in (schema.properties as object), kind);
  }
  const hyper = (runSpecJsonSchema('sft').properties as Record<string, { properties: Record<string, { default?: unknown; description?: string }> }>).hyper!;
  assert.equal(hyper.properties.steps!.default, 8000);
  assert.equal(hyper.properties.lr!.description, 'peak learning rate');
});

test('run references name a run id; plain paths do not', () => {
  assert.equal(runRefId('run:sft-20261204-abc123'), 'sft-20261204-abc123');
  assert.equal(runRefId('/data/runs/x'), undefined);
  assert.equal(runRefId('run:../etc'), undefined);
});
