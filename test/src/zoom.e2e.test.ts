/**
 * Coarse-to-fine diagnosis (MedReason-R1) through the real `medad` command. SFT with `--zoom
 * oracle` learns both passes (grounding on the global image, answers on zoomed copies); Con-GRPO
 * with `--zoom predicted` rolls out on the regions the starting policy predicts. In evaluation, `--zoom predicted`
 * zooms into the region the model's grounding head predicts and never reads a label — corrupting
 * every test sample's lesion box leaves its predictions byte-identical — while `--zoom oracle`
 * zooms into the labelled box (so corrupting it moves the zoom). A model without a grounding head
 * is refused with the fix.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MEDAD, ROOT } from './harness.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON lines
type Json = any;

function medad(...args: string[]): string {
  const r = spawnSync(process.execPath, [MEDAD, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MEDAD_LOG_LEVEL: 'info' } });
  assert.equal(r.status, 0, `medad ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

const lines = (file: string): Json[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('coarse-to-fine zoom through medad: SFT, Con-GRPO and evaluation', () => {
  let work: string;
  let data: string;
  let corrupt: string;
  let sftLog = '';
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'medad-zoom-'));
    data = join(work, 'data');
    corrupt = join(work, 'data-corrupt');
    medad('data', 'synth', '--out', data, '--samples', '80', '--seed', '4');
    // The same dataset with every test sample's lesion box moved to the top-left corner (and one given to every sample without).
    cpSync(data, corrupt, { recursive: true });
    const samples = lines(join(data, 'samples.jsonl'));
    writeFileSync(join(corrupt, 'samples.jsonl'), samples.map((s) => JSON.stringify(s.split === 'test' ? { ...s, bbox: { x: 0, y: 0, width: 3, height: 3 } } : s)).join('\n') + '\n');
    // SFT teaches both passes: where to look (grounding, global image) and the answer on the zoomed image.
    sftLog = medad('train', 'sft', '--data', data, '--out', join(work, 'sft'), '--preset', 'tiny', '--steps', '6', '--batch-size', '8', '--save-every', '6', '--eval-every', '0', '--eval-samples', '0', '--grounding', '1', '--zoom', 'oracle');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const evalRun = (dataDir: string, zoom: string, out: string, checkpoint = join(work, 'sft')): Json[] => {
    medad('eval', '--checkpoint', checkpoint, '--data', dataDir, '--zoom', zoom, '--limit', '16', '--judge', 'none', '--out', join(work, out), '--json');
    return lines(join(work, out, 'predictions.jsonl'));
  };

  test('predicted zoom reads no label: corrupting every test bbox leaves the predictions and the zoomed regions unchanged', () => {
    const clean = evalRun(data, 'predicted', 'pred-clean');
    const moved = evalRun(corrupt, 'predicted', 'pred-corrupt');
    assert.equal(clean.length, 16);
    assert.ok(clean.every((p) => p.zoomBox && p.zoomBox.width > 0), 'every answer was zoomed into a predicted region');
    assert.deepEqual(moved, clean);
    assert.equal(JSON.parse(readFileSync(join(work, 'pred-clean', 'eval.json'), 'utf8')).zoom, 'predicted');
  });

  test('oracle zoom reads the labelled box: corrupting it moves the zoom', () => {
    const clean = evalRun(data, 'oracle', 'oracle-clean');
    const moved = evalRun(corrupt, 'oracle', 'oracle-corrupt');
    const samples = new Map(lines(join(data, 'samples.jsonl')).map((s) => [s.id, s]));
    const labelled = clean.filter((p) => samples.get(p.id).bbox);
    assert.ok(labelled.length > 0, 'some test questions have a lesion box');
    for (const p of labelled) {
      const b = samples.get(p.id).bbox;
      // The crop is centred on the box (clamped to the image).
      assert.ok(p.zoomBox.x <= b.x && p.zoomBox.y <= b.y && p.zoomBox.x + p.zoomBox.width >= b.x + b.width - 1 && p.zoomBox.y + p.zoomBox.height >= b.y + b.height - 1, `${JSON.stringify(p.zoomBox)} holds ${JSON.stringify(b)}`);
    }
    assert.ok(moved.every((p) => p.zoomBox.x === 0 && p.zoomBox.y === 0), 'the corrupted box is in the top-left corner: so is every crop');
    assert.notDeepEqual(moved.map((p) => p.zoomBox), clean.map((p) => p.zoomBox));
  });

  test('SFT with zoom oracle adds a zoomed copy of every train sample; Con-GRPO with zoom predicted rolls out on the predicted zooms', () => {
    const m = /zoom oracle: (\d+) zoomed copies of the train samples join the (\d+) global ones/.exec(sftLog);
    assert.ok(m && m[1] === m[2] && Number(m[1]) > 0, sftLog.slice(-2000));
    const grpoLog = medad('train', 'con-grpo', '--from', join(work, 'sft'), '--data', data, '--out', join(work, 'grpo'), '--steps', '2', '--prompts-per-step', '2', '--group-size', '2', '--oversample', '1', '--save-every', '2', '--eval-every', '2', '--eval-samples', '4', '--zoom', 'predicted');
    assert.match(grpoLog, /zoom predicted: \d+ train images zoomed into the regions the starting policy predicts/);
    assert.equal(JSON.parse(readFileSync(join(work, 'grpo', 'spec.json'), 'utf8')).hyper.zoom, 'predicted');
    assert.equal(lines(join(work, 'grpo', 'metrics.jsonl')).at(-1).step, 2);
    const logged = lines(join(work, 'grpo', 'completions.jsonl'));
    assert.ok(logged.length > 0 && logged.every((c) => c.zoomBox?.width > 0), 'each logged completion records the region it answered on (the viewer draws it)');
  });

  test('a model without a grounding head cannot predict a region: refused with the fix', () => {
    medad('train', 'sft', '--data', data, '--out', join(work, 'sft-plain'), '--preset', 'tiny', '--steps', '2', '--batch-size', '8', '--save-every', '2', '--eval-every', '0', '--eval-samples', '0', '--grounding', '0');
    const r = spawnSync(process.execPath, [MEDAD, 'eval', '--checkpoint', join(work, 'sft-plain'), '--data', data, '--zoom', 'predicted', '--limit', '4', '--judge', 'none'], { cwd: ROOT, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /zoom predicted: backbone "tfjs-vlm" predicts no region[\s\S]*hyper\.grounding > 0/);
  });
});
