import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { ErrorCode, MedadError } from './errors.js';
import { definePlugin, isPluginDefinition } from './plugin.js';
import { PluginRegistry, discoverPlugins } from './registry.js';
import { createTestContainer } from './tokens.js';

const lengthPenalty = definePlugin({
  kind: 'reward',
  id: 'length-penalty',
  version: '0.1.0',
  configSchema: z.object({ maxTokens: z.number().int().positive().default(64), weight: z.number().default(1) }),
  create: (_deps, config) => ({
    name: 'length-penalty',
    score: (batch) => batch.map((x) => (x.completion.length > config.maxTokens ? -config.weight : 0)),
  }),
});

test('definePlugin brands the object and rejects bad ids, kinds and versions', () => {
  assert.ok(isPluginDefinition(lengthPenalty));
  assert.equal(isPluginDefinition({ ...lengthPenalty }), false);
  const base = { version: '0.1.0', configSchema: z.object({}), create: () => ({ name: 'x', score: () => [] }) };
  assert.throws(() => definePlugin({ ...base, kind: 'reward', id: 'Bad_Id' }), /not kebab-case/);
  assert.throws(() => definePlugin({ ...base, kind: 'nope' as 'reward', id: 'x' }), /unknown kind "nope".*dataset, backbone, reward, judge/);
  assert.throws(() => definePlugin({ ...base, kind: 'reward', id: 'x', version: 'one' }), /semver/);
});

test('an unknown id fails with the list of known ids', () => {
  const reg = new PluginRegistry().register(lengthPenalty);
  assert.throws(
    () => reg.get('reward', 'lenght-penalty'),
    (err: unknown) =>
      err instanceof MedadError && err.code === ErrorCode.NotFound && /use one of: length-penalty/.test(err.message),
  );
  assert.throws(() => reg.list('widget' as 'reward'), /Unknown plugin kind "widget"/);
});

test('a config with a wrong field type names the plugin, the field and the expected type', async () => {
  const reg = new PluginRegistry().register(lengthPenalty);
  await assert.rejects(
    reg.create('reward', 'length-penalty', { maxTokens: 'ten' }, createTestContainer()),
    (err: unknown) => {
      assert.ok(err instanceof MedadError);
      assert.equal(err.code, ErrorCode.InvalidConfig);
      assert.match(err.message, /reward plugin "length-penalty"/);
      assert.match(err.message, /field "maxTokens"/);
      assert.match(err.message, /expected number/);
      return true;
    },
  );
  const ok = await reg.create('reward', 'length-penalty', { maxTokens: 3 }, createTestContainer());
  assert.deepEqual(await ok.score([{ completion: 'abcdef' } as never, { completion: 'ab' } as never]), [-1, 0]);
});

test('registering two different plugins under one id is a conflict', () => {
  const reg = new PluginRegistry().register(lengthPenalty, { packageName: 'a' });
  const twin = definePlugin({ ...lengthPenalty, description: 'a twin' });
  assert.throws(() => reg.register(twin, { packageName: 'b' }), /Two reward plugins are named "length-penalty" \(a and b\)/);
});

test('discovery finds workspace and node_modules plugin packages and reports broken ones', async () => {
  const root = mkdtempSync(join(tmpdir(), 'medad-discovery-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'ws', private: true, workspaces: ['plugins/*'] }));
  const coreUrl = new URL('./index.js', import.meta.url).href;
  const write = (dir: string, pkg: object, code?: string): void => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    if (code) writeFileSync(join(dir, 'index.js'), code);
  };
  const pluginCode = (id: string): string =>
    `import { definePlugin, z } from ${JSON.stringify(coreUrl)};\n` +
    `export const p = definePlugin({ kind: 'judge', id: '${id}', version: '1.2.3', configSchema: z.object({}),` +
    ` create: () => ({ name: '${id}', deduce: async (b) => b.map(() => null) }) });\n`;
  write(join(root, 'plugins', 'judge-a'), { name: 'judge-a', type: 'module', main: 'index.js', medad: { plugin: true } }, pluginCode('alpha'));
  write(join(root, 'plugins', 'not-a-plugin'), { name: 'plain', type: 'module', main: 'index.js' }, 'export const x = 1;');
  write(join(root, 'plugins', 'unbuilt'), { name: 'unbuilt', type: 'module', main: 'dist/index.js', medad: { plugin: true } });
  write(join(root, 'node_modules', '@acme', 'judge-b'), { name: '@acme/judge-b', type: 'module', exports: { '.': { import: './index.js' } }, medad: { plugin: true } }, pluginCode('beta'));
  const { registry, failures } = await discoverPlugins({ root: join(root, 'plugins') });
  assert.deepEqual(
    registry.list('judge').map((p) => [p.id, p.version, p.package]),
    [
      ['alpha', '1.2.3', 'judge-a'],
      ['beta', '1.2.3', '@acme/judge-b'],
    ],
  );
  assert.equal(failures.length, 1);
  assert.equal(failures[0]!.packageName, 'unbuilt');
  assert.match(failures[0]!.reason, /does not exist; build it/);
});
