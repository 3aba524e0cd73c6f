const assert = require('node:assert/strict');
const { test } = require('node:test');
const { createTreeWithEmptyWorkspace } = require('@nx/devkit/testing');
const { readJson, writeJson } = require('@nx/devkit');
const generator = require('../src/plugin.cjs');

function workspace() {
  const tree = createTreeWithEmptyWorkspace();
  writeJson(tree, 'package.json', { name: 'ws', version: '0.1.0', workspaces: ['plugins/*'] });
  writeJson(tree, 'tsconfig.json', { files: [], references: [{ path: './packages/core' }] });
  return tree;
}

test('scaffolds a reward plugin wired into the workspace with its conformance test', async () => {
  const tree = workspace();
  await generator(tree, { kind: 'reward', name: 'length-penalty' });
  const pkg = readJson(tree, 'plugins/reward-length-penalty/package.json');
  assert.equal(pkg.name, '@medad/plugin-reward-length-penalty');
  assert.deepEqual(pkg.medad, { plugin: true });
  assert.deepEqual(pkg.nx.tags, ['type:plugin']);
  const src = tree.read('plugins/reward-length-penalty/src/index.ts', 'utf8');
  assert.match(src, /id: 'length-penalty'/);
  assert.match(src, /export const lengthPenaltyPlugin = definePlugin/);
  const spec = tree.read('plugins/reward-length-penalty/src/index.test.ts', 'utf8');
  assert.match(spec, /describeRewardContract\('length-penalty'/);
  assert.deepEqual(readJson(tree, 'tsconfig.json').references.map((r) => r.path), ['./packages/core', './plugins/reward-length-penalty']);
});

test('scaffolds a judge plugin', async () => {
  const tree = workspace();
  await generator(tree, { kind: 'judge', name: 'last-letter' });
  assert.match(tree.read('plugins/judge-last-letter/src/index.test.ts', 'utf8'), /describeJudgeContract/);
});

test('scaffolds a trainable backbone plugin: createTrainable, the backbone conformance suite, @medad/policy wired in', async () => {
  const tree = workspace();
  await generator(tree, { kind: 'backbone', name: 'wide' });
  const src = tree.read('plugins/backbone-wide/src/index.ts', 'utf8');
  assert.match(src, /kind: 'backbone'/);
  assert.match(src, /createTrainable: \(request\) =>/);
  assert.match(tree.read('plugins/backbone-wide/src/index.test.ts', 'utf8'), /describeBackboneContract\('wide'/);
  assert.deepEqual(readJson(tree, 'plugins/backbone-wide/package.json').dependencies, { '@medad/core': '*', '@medad/policy': '*' });
  assert.deepEqual(readJson(tree, 'plugins/backbone-wide/tsconfig.json').references, [{ path: '../../packages/core' }, { path: '../../packages/policy' }]);
});

test('rejects bad kinds, bad names and existing folders with a fix', async () => {
  const tree = workspace();
  await assert.rejects(generator(tree, { kind: 'widget', name: 'x' }), /--kind "widget" is not supported\. Fix: use one of: reward, judge, backbone/);
  await assert.rejects(generator(tree, { kind: 'reward', name: 'Bad Name' }), /not kebab-case/);
  await generator(tree, { kind: 'reward', name: 'twice' });
  await assert.rejects(generator(tree, { kind: 'reward', name: 'twice' }), /already exists/);
});

test('descriptions with quotes and tags stay valid JSON and TypeScript, unescaped', async () => {
  const tree = workspace();
  const description = `Penalise "long" <think> text; it's simple`;
  await generator(tree, { kind: 'reward', name: 'quoted', description });
  assert.equal(readJson(tree, 'plugins/reward-quoted/package.json').description, description);
  const src = tree.read('plugins/reward-quoted/src/index.ts', 'utf8');
  assert.match(src, /description: 'Penalise \\"long\\" <think> text; it\\'s simple'/);
});
