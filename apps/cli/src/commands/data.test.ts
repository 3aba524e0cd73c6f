import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KNOB_NAMES } from '@medad/plugin-dataset-synthetic';
import { medad } from '../testing.js';


const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

test('medad data synth has one flag per generator knob, from the plugin schema, with its default', async () => {
  const { stdout, code } = await medad('data', 'synth', '--help');
  assert.equal(code, 0);
  for (const knob of KNOB_NAMES) assert.match(stdout, new RegExp(`--${kebab(knob)} <n>`), knob);
  assert.match(stdout.replace(/\s+/g, ' '), /--lesion-contrast <n> lowest lesion contrast.*\(default: [\d.]+\)/);
});

test('medad data synth puts the knob flags given into the dataset spec', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'medad-synth-cli-')), 'd');
  const { stdout, code } = await medad('data', 'synth', '--out', out, '--lesion-contrast', '0.5', '--cot-noise', '0.2', '--print-spec');
  assert.equal(code, 0);
  const spec = JSON.parse(stdout) as { kind: string; generator: { plugin: string; config: Record<string, unknown> } };
  assert.equal(spec.kind, 'dataset');
  assert.equal(spec.generator.plugin, 'synthetic');
  assert.equal(spec.generator.config.lesionContrast, 0.5);
  assert.equal(spec.generator.config.cotNoise, 0.2);
  assert.equal(spec.generator.config.lookAlike, undefined, 'a flag not given leaves the schema default to the plugin');
  assert.equal(spec.generator.config.build, 'changed');
});

test('medad data synth writes a benchmark with the knobs in its id and provenance; a value out of range names the field', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'medad-synth-cli-')), 'd');
  const { stdout, code } = await medad('data', 'synth', '--out', out, '--samples', '20', '--seed', '3', '--look-alike', '0.4', '--multi-lesion', '1');
  assert.equal(code, 0, stdout);
  assert.match(stdout, /wrote 20 samples .*\[synthetic-s3-n20(-[a-z]{2}[\d.]+)*\]/);
  const provenance = (JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8')) as { provenance: Record<string, unknown> }).provenance;
  assert.equal(provenance.lookAlike, 0.4);
  assert.equal(provenance.multiLesion, 1);
  const bad = await medad('data', 'synth', '--out', out, '--samples', '20', '--lesion-size', '0.1');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /field "lesionSize"/);
});
