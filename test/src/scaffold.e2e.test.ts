/**
 * Issue 20: a backbone plugin from outside this repository trains through `medad run` and is
 * evaluated. The plugin is the one `npm run new-plugin -- --kind backbone` scaffolds: the generator
 * renders its template, TypeScript transpiles it, and it is installed as a package of a separate
 * project (its node_modules links @medad/* to this workspace) from which `medad` runs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { synthesize } from '@medad/plugin-dataset-synthetic';
import { MEDAD, ROOT } from './harness.js';

const require = createRequire(join(ROOT, 'tools', 'plugin-generator', 'package.json'));
const project = mkdtempSync(join(tmpdir(), 'medad-outside-'));
after(() => rmSync(project, { recursive: true, force: true }));

/** The scaffolded backbone's index.ts, rendered by the generator into an in-memory tree. */
async function scaffoldedBackbone(id: string): Promise<string> {
  const { createTreeWithEmptyWorkspace } = require('@nx/devkit/testing') as { createTreeWithEmptyWorkspace: () => { write(p: string, c: string): void; read(p: string, e: 'utf8'): string | null } };
  const generator = require('./src/plugin.cjs') as (tree: unknown, o: { kind: string; name: string }) => Promise<unknown>;
  const tree = createTreeWithEmptyWorkspace();
  tree.write('package.json', JSON.stringify({ name: 'outside', version: '0.1.0' }));
  tree.write('tsconfig.json', JSON.stringify({ files: [], references: [] }));
  await generator(tree, { kind: 'backbone', name: id });
  return tree.read(`plugins/backbone-${id}/src/index.ts`, 'utf8')!;
}

function medad(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MEDAD, ...args], { cwd: project, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a backbone scaffolded by new-plugin, installed outside the repo, trains through medad run with its config and is evaluated', { timeout: 300_000 }, async () => {
  const ts = require(join(ROOT, 'node_modules', 'typescript')) as typeof import('typescript');
  const js = ts.transpileModule(await scaffoldedBackbone('outside'), { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } }).outputText;
  const pkg = join(project, 'node_modules', 'medad-backbone-outside');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'index.js'), js);
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'medad-backbone-outside', version: '0.1.0', type: 'module', main: 'index.js', medad: { plugin: true } }));
  symlinkSync(join(ROOT, 'node_modules', '@medad'), join(project, 'node_modules', '@medad'), 'dir');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'outside-project', private: true }));
  const data = join(project, 'data');
  synthesize({ out: data, samples: 200, seed: 4 });

  const listed = medad(['plugins', '--kind', 'backbone', '--json']);
  assert.equal(listed.status, 0, listed.stderr);
  assert.ok((JSON.parse(listed.stdout) as { plugins: Array<{ id: string }> }).plugins.some((p) => p.id === 'outside'), 'discovered from the outside project');

  const spec = { kind: 'sft', data, out: join(project, 'run'), seed: 2, backbone: { plugin: 'outside', config: { width: 64 } }, hyper: { steps: 6, batchSize: 8, evalEvery: 0, evalSamples: 8 } };
  writeFileSync(join(project, 'spec.json'), JSON.stringify(spec));
  const trained = medad(['run', 'spec.json']);
  assert.equal(trained.status, 0, trained.stderr);
  const config = JSON.parse(readFileSync(join(project, 'run', 'checkpoint', 'config.json'), 'utf8')) as { dModel: number; dFF: number };
  assert.deepEqual([config.dModel, config.dFF], [64, 128], 'the plugin config shaped the trained model');
  assert.equal(JSON.parse(readFileSync(join(project, 'run', 'spec.json'), 'utf8')).backbone.plugin, 'outside');
  assert.equal(readFileSync(join(project, 'run', 'metrics.jsonl'), 'utf8').trim().split('\n').length, 6, 'six steps');

  const evaluated = medad(['eval', '--checkpoint', 'run', '--backbone', 'outside', '--data', data, '--limit', '12', '--json']);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const result = JSON.parse(evaluated.stdout) as { n: number; backbone: string };
  assert.deepEqual([result.n, result.backbone], [12, 'outside']);
});
