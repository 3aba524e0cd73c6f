import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { RunStatus, createRootContainer, discoverPlugins, findProjectRoot, type Backbone, type Dataset, type MedAdSample, type PluginRegistry } from '@medad/core';
import { encodePng } from '@medad/dataset';
import { evaluate } from '@medad/evaluator';
import { trainLearnedJudge } from '@medad/plugin-judge-learned';
import { startControlPlane, type ControlPlane } from '../app.js';
import { parseServeModels } from '../config.js';
import { RunKind } from '../domain.js';
import { freshDataDir } from '../testing/index.js';
import { parseChatPrompt } from './openai.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests index response JSON freely
type Json = any;

const VIEWER = 'viewer-token-0123456789abcdef';
const OPERATOR = 'operator-token-0123456789abcdef';
const KEY_ENV = 'MEDAD_OPENAI_ENDPOINT_TEST_KEY';
const SYSTEM = 'A conversation between User and Assistant. Answer with <think> </think><answer> </answer>.';

/** The user text the `openai` backbone plugin sends (plugins/backbone-openai/src/prompt.ts). */
const questionText = (s: Pick<MedAdSample, 'question' | 'options'>): string =>
  `${s.question}\nOptions:\n${s.options.map((o, i) => `(${'ABCD'[i]}) ${o}`).join('\n')}\nAnswer with the letter of the correct option.`;

describe('parseChatPrompt reads question and options back from chat text', () => {
  const sample = { question: 'Which organ or body region is imaged here?', options: ['Lung', 'Left Upper (lobe)', 'Kidney', 'Heart'] as [string, string, string, string] };
  test('the openai backbone plugin format, the policy format and option lines round-trip', () => {
    assert.deepEqual(parseChatPrompt(questionText(sample)), sample);
    assert.deepEqual(parseChatPrompt(`<image> Question: ${sample.question} Options: (A) Lung (B) Left Upper (lobe) (C) Kidney (D) Heart Answer:`), sample);
    assert.deepEqual(parseChatPrompt(`${sample.question}\r\nA. Lung\r\nB) Left Upper (lobe)\r\nC: Kidney\r\nD. Heart\r\nReply with a letter.`), sample);
  });
  test('text without a question or four options is not a prompt', () => {
    assert.equal(parseChatPrompt('Is this image normal?'), undefined);
    assert.equal(parseChatPrompt('(A) Lung (B) Liver (C) Heart (D) Kidney'), undefined, 'no question');
    assert.equal(parseChatPrompt('What is shown?\n(A) Lung\n(B) Liver\n(C) Heart'), undefined, 'three options');
    assert.equal(parseChatPrompt('What is shown?\n(A) Lung\n(B)\n(C) Heart\n(D) Kidney'), undefined, 'an empty option');
  });
});

describe('MEDAD_SERVE_MODELS', () => {
  test('parses name=path pairs and rejects malformed or duplicate entries with a fix', () => {
    assert.deepEqual(parseServeModels(' a=runs/x , b.2=/abs/y '), { a: 'runs/x', 'b.2': '/abs/y' });
    assert.deepEqual(parseServeModels(undefined), {});
    assert.throws(() => parseServeModels('a=x,=y'), /MEDAD_SERVE_MODELS entry 2 .*Fix: write entries as name=/);
    assert.throws(() => parseServeModels('a=x,a=y'), /names the model "a" twice/);
    assert.throws(() => parseServeModels('bad name=x'), /is not name=path/);
  });
});

describe('OpenAI-compatible endpoint serving a tiny tfjs-vlm checkpoint (real plugins, PGlite)', () => {
  let cp: ControlPlane;
  let dataDir: string;
  let registry: PluginRegistry;
  let dataset: Dataset;
  let datasetDir: string;
  let samples: MedAdSample[];
  let direct: Backbone;
  let base: string;
  const runId = 'sft-20250101-000000-abc123';
  const outside = mkdtempSync(join(tmpdir(), 'medad-outside-'));

  const dataUrl = (s: MedAdSample): string => `data:image/png;base64,${readFileSync(join(datasetDir, s.image)).toString('base64')}`;
  const messages = (s: MedAdSample, text = questionText(s), url = dataUrl(s)): Json[] => [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text }] },
  ];
  const post = async (body: unknown, token: string | null = VIEWER, contentType = 'application/json'): Promise<{ status: number; json: Json; headers: Headers }> => {
    const res = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json(), headers: res.headers };
  };
  const greedyDirect = async (s: MedAdSample, options: Record<string, unknown> = { greedy: true }): Promise<string[]> =>
    (await direct.generate([{ sample: s, image: await dataset.loadImage(s) }], options))[0]!.map((c) => c.text);
  const assertOpenAiError = (r: { status: number; json: Json }, status: number, code: string, param: string | null, message: RegExp): void => {
    assert.equal(r.status, status, JSON.stringify(r.json));
    assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(r.json.error.code, code);
    assert.equal(r.json.error.param, param);
    assert.equal(r.json.error.type, status >= 500 ? 'server_error' : 'invalid_request_error');
    assert.match(r.json.error.message, message);
  };

  before(async () => {
    dataDir = await freshDataDir('medad-openai-');
    ({ registry } = await discoverPlugins({ root: findProjectRoot(fileURLToPath(new URL('.', import.meta.url))) }));
    for (const [kind, id] of [['backbone', 'tfjs-vlm'], ['backbone', 'openai'], ['dataset', 'synthetic'], ['judge', 'learned'], ['judge', 'openai']] as const) {
      assert.ok(registry.has(kind, id), `the ${kind} plugin "${id}" is not built; run \`npm run build\` at the repository root`);
    }
    datasetDir = join(dataDir, 'datasets', 'chat');
    // The knobs-off benchmark (these tests are about the endpoint, not the difficulty regime).
    dataset = await registry.create('dataset', 'synthetic', { dir: datasetDir, samples: 60, seed: 11, lesionContrast: 1, lesionSize: 1, lookAlike: 0, multiLesion: 0, closeOptions: 0, cotNoise: 0 }, createRootContainer());
    samples = [];
    for await (const s of dataset.samples('test')) samples.push(s);
    assert.ok(samples.length >= 6, `only ${samples.length} test samples`);
    // Three tiny checkpoints (fresh weights, different seeds) written the way training runs write them.
    for (const [dir, seed] of [[join(dataDir, 'runs', runId, 'checkpoint'), 5], [join(dataDir, 'runs', 'other', 'checkpoint'), 6], [join(dataDir, 'runs', 'third'), 7]] as const) {
      const fresh = await registry.create('backbone', 'tfjs-vlm', { preset: 'tiny', seed }, createRootContainer());
      await fresh.save!(dir);
      await fresh.dispose?.();
    }
    // A learned judge trained on this benchmark's ground-truth CoTs, served as "judge".
    await trainLearnedJudge({ dataDir: datasetDir, outDir: join(dataDir, 'runs', 'judge-j1'), seed: 0 });
    cp = await startControlPlane(
      {
        port: 0,
        dataDir,
        logLevel: 'silent',
        tokens: new Map([[VIEWER, 'viewer'], [OPERATOR, 'operator']]),
        serveModels: { 'medad-tiny': runId, other: join(dataDir, 'runs', 'other'), third: 'third', judge: join(dataDir, 'runs', 'judge-j1') },
      },
      { registry },
    );
    base = cp.url.replace(/\/graphql$/, '/v1');
    await cp.store.createRun({ id: runId, kind: RunKind.Sft, config: {}, dir: join(dataDir, 'runs', runId) });
    await cp.store.setStatus(runId, RunStatus.Succeeded, null);
    await cp.store.upsertCheckpoint({ runId, step: 3, path: join(dataDir, 'runs', runId, 'checkpoint'), createdAt: new Date() });
    await cp.store.createRun({ id: 'sft-no-checkpoint', kind: RunKind.Sft, config: {}, dir: join(dataDir, 'runs', 'sft-no-checkpoint') });
    await cp.store.setStatus('sft-no-checkpoint', RunStatus.Failed, 'crashed');
    await cp.store.createRun({ id: 'eval-run', kind: RunKind.Eval, config: {}, dir: join(dataDir, 'runs', 'eval-run') });
    await cp.store.setStatus('eval-run', RunStatus.Succeeded, null);
    direct = await registry.create('backbone', 'tfjs-vlm', { checkpoint: join(dataDir, 'runs', runId, 'checkpoint') }, createRootContainer());
    process.env[KEY_ENV] = VIEWER;
  });
  after(async () => {
    await cp?.close();
    await direct?.dispose?.();
    delete process.env[KEY_ENV];
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test('GET /v1/models lists the configured names and the training runs with a checkpoint; a token is required', async () => {
    const res = await fetch(`${base}/models`, { headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Json;
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((m: Json) => m.id), ['medad-tiny', 'other', 'third', 'judge', runId]);
    assert.ok(body.data.every((m: Json) => m.object === 'model' && m.owned_by === 'medad' && Number.isInteger(m.created)));
    assert.deepEqual(body.data.slice(0, 4).map((m: Json) => m.medad.kind), ['policy', 'policy', 'policy', 'judge']);
    assert.deepEqual(body.data[4].medad, { source: 'run', kind: 'SFT', status: 'SUCCEEDED', step: 3 });
    const one = await fetch(`${base}/models/${runId}`, { headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(((await one.json()) as Json).id, runId);

    for (const headers of [{}, { authorization: 'Bearer not-a-valid-token-at-all' }] as Array<Record<string, string>>) {
      const denied = await fetch(`${base}/models`, { headers });
      assert.equal(denied.status, 401);
      const err = ((await denied.json()) as Json).error;
      assert.equal(err.code, 'invalid_api_key');
      assert.match(err.message, /Fix: /);
    }
    assertOpenAiError(await post({ model: 'medad-tiny', messages: messages(samples[0]!) }, null), 401, 'invalid_api_key', null, /requires an API token.*Fix: send the header "Authorization: Bearer <token>"/);
  });

  test('a chat completion is what the checkpoint generates greedily when called directly, by served name and by run id', async () => {
    const s = samples[0]!;
    const [expected] = await greedyDirect(s);
    for (const model of ['medad-tiny', runId]) {
      const r = await post({ model, messages: messages(s), temperature: 0 });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.object, 'chat.completion');
      assert.match(r.json.id, /^chatcmpl-/);
      assert.equal(r.json.model, model);
      assert.ok(Number.isInteger(r.json.created));
      assert.equal(r.json.choices.length, 1);
      assert.equal(r.json.choices[0].index, 0);
      assert.deepEqual(r.json.choices[0].message, { role: 'assistant', content: expected });
      assert.ok(['stop', 'length'].includes(r.json.choices[0].finish_reason));
      const u = r.json.usage;
      assert.ok(u.prompt_tokens > 9 && u.completion_tokens > 0 && u.total_tokens === u.prompt_tokens + u.completion_tokens, JSON.stringify(u));
    }
    // Concurrent requests queue on the one loaded model and all get the same greedy answer.
    const many = await Promise.all(samples.slice(0, 4).map((x) => post({ model: 'medad-tiny', messages: messages(x), temperature: 0 })));
    const want = await Promise.all(samples.slice(0, 4).map(async (x) => (await greedyDirect(x))[0]));
    assert.deepEqual(many.map((r) => r.json.choices[0].message.content), want);
    assert.deepEqual(cp.openai.loaded().map((m) => [m.dir, m.pending]), [[join(dataDir, 'runs', runId, 'checkpoint'), 0]], 'one backbone for both names, nothing pending');
  });

  test('temperature, seed, n and max_tokens are honoured', async () => {
    const s = samples[1]!;
    const body = { model: 'medad-tiny', messages: messages(s), temperature: 1, seed: 42, n: 3 };
    const a = await post(body);
    const b = await post(body);
    assert.equal(a.status, 200, JSON.stringify(a.json));
    const texts = a.json.choices.map((c: Json) => c.message.content);
    assert.deepEqual(a.json.choices.map((c: Json) => c.index), [0, 1, 2]);
    assert.deepEqual(b.json.choices.map((c: Json) => c.message.content), texts, 'the same seed gives the same samples');
    assert.deepEqual(texts, await greedyDirect(s, { groupSize: 3, temperature: 1, seed: 42 }), 'what the checkpoint samples directly with that seed');
    assert.ok(new Set(texts).size > 1, 'sampling at temperature 1 varies between the n choices');
    const short = await post({ model: 'medad-tiny', messages: messages(s), temperature: 0, max_tokens: 3 });
    assert.equal(short.json.usage.completion_tokens <= 3, true, JSON.stringify(short.json.usage));
    assert.equal(short.json.choices[0].finish_reason, 'length');
  });

  test('bad requests get OpenAI-style errors naming the field and the fix', async () => {
    const s = samples[0]!;
    const unknown = await post({ model: 'nope', messages: messages(s) });
    assertOpenAiError(unknown, 404, 'model_not_found', 'model', new RegExp(`\`nope\` does not exist; served models: medad-tiny, other, third, judge, ${runId}\\. Fix: `));
    assertOpenAiError(await post({ model: 'sft-no-checkpoint', messages: messages(s) }), 404, 'model_not_found', 'model', /run sft-no-checkpoint is FAILED and has no checkpoint yet/);
    assertOpenAiError(await post({ model: 'eval-run', messages: messages(s) }), 404, 'model_not_found', 'model', /is a EVAL run; checkpoints come from SFT and CON_GRPO runs/);
    // The model is looked up first: an unknown one is a 404 whatever the messages hold (what the openai SDK expects).
    assertOpenAiError(await post({ model: 'nope', messages: [{ role: 'user', content: questionText(s) }] }), 404, 'model_not_found', 'model', /`nope` does not exist/);
    // A 6000×6000 PNG of ~50 KB: refused from its header, never decoded (~36 MB of pixels).
    const bomb = encodePng({ width: 6000, height: 6000, channels: 1, data: new Uint8Array(6000 * 6000) });
    assertOpenAiError(await post({ model: 'medad-tiny', messages: messages(s, undefined, `data:image/png;base64,${bomb.toString('base64')}`) }), 400, 'image_too_large', 'messages[1].content[0].image_url.url', /is 6000×6000 \(36000000 pixels\), more than the limit of 16777216.*Fix: downscale/);
    assertOpenAiError(await post({ model: 'medad-tiny', messages: [{ role: 'user', content: questionText(s) }] }), 400, 'image_required', 'messages[0].content', /has no image.*text-only judge prompts are served by learned-judge models only.*Fix: put the image/);
    assertOpenAiError(await post({ model: 'medad-tiny', messages: messages(s, 'Describe this image.') }), 400, 'invalid_prompt', 'messages[1].content', /cannot read a multiple-choice question.*Fix: send the question followed by four options/);
    assertOpenAiError(await post({ model: 'medad-tiny', messages: messages(s, undefined, 'https://example.com/x.png') }), 400, 'invalid_image_url', 'messages[1].content[0].image_url.url', /not a data URL; this server does not fetch remote images/);
    assertOpenAiError(await post({ model: 'medad-tiny', messages: messages(s, undefined, 'data:image/png;base64,AAAAAAAA') }), 400, 'invalid_image', 'messages[1].content[0].image_url.url', /neither a PNG nor a JPEG/);
    assertOpenAiError(await post({ model: 'medad-tiny', messages: messages(s), n: 9 }), 400, 'invalid_value', 'n', /n: 9 is not an integer in \[1, 8\]/);
    assertOpenAiError(await post({ model: 'medad-tiny', messages: messages(s), temperature: -1 }), 400, 'invalid_value', 'temperature', /Fix: send temperature between 0 and 2/);
    assertOpenAiError(await post({ model: 'medad-tiny', messages: messages(s), stream: true }), 400, 'unsupported_value', 'stream', /streaming is not supported/);
    assertOpenAiError(await post({ messages: messages(s) }), 400, 'missing_model', 'model', /model: is missing/);
    assertOpenAiError(await post('{"model":'), 400, 'invalid_json', null, /not valid JSON/);
    assertOpenAiError(await post('{}', VIEWER, 'text/plain'), 415, 'unsupported_media_type', null, /application\/json/);
    assertOpenAiError(await post({ model: 'medad-tiny', messages: messages(s), pad: 'x'.repeat(1_100_000) }), 413, 'request_too_large', null, /exceeds the limit of 1000000 bytes/);
    const wrongMethod = await fetch(`${base}/chat/completions`, { headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(wrongMethod.status, 405);
    const nowhere = await fetch(`${base}/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR}` } });
    assert.equal(nowhere.status, 404);
    assert.match(((await nowhere.json()) as Json).error.message, /routes are GET \/v1\/models and POST \/v1\/chat\/completions/);
    const health = await fetch(cp.url.replace('/graphql', '/healthz'));
    assert.equal(health.status, 200, 'the rest of the server is unaffected');
  });

  test('served model paths must be inside the checkpoint roots (startup fails before anything opens)', async () => {
    for (const path of [outside, '../../../etc']) {
      await assert.rejects(
        startControlPlane({ port: 0, dataDir: join(outside, 'data'), logLevel: 'silent', serveModels: { escape: path } }, { registry }),
        (err: Error) => /serveModels\.escape ".*" is outside the allowed checkpoint roots.*Fix: use a path under/.test(err.message),
      );
    }
  });

  test('at most two backbones stay loaded (least recently used is disposed)', async () => {
    const s = samples[2]!;
    for (const model of ['other', 'third', 'medad-tiny', 'third']) {
      const r = await post({ model, messages: messages(s), temperature: 0 });
      assert.equal(r.status, 200, JSON.stringify(r.json));
    }
    assert.deepEqual(cp.openai.loaded().map((m) => m.dir), [join(dataDir, 'runs', runId, 'checkpoint'), join(dataDir, 'runs', 'third')]);
  });

  test("the project's own openai backbone plugin evaluates against the endpoint exactly as the checkpoint does locally", async () => {
    const remote = await registry.create('backbone', 'openai', { baseUrl: base, model: runId, apiKeyEnv: KEY_ENV, maxRetries: 0 }, createRootContainer());
    const limit = 6;
    const viaHttp = await evaluate({ backbone: remote, dataset, split: 'test', limit, batchSize: 3, outDir: join(dataDir, 'eval-http') });
    const local = await evaluate({ backbone: direct, dataset, split: 'test', limit, batchSize: 1, outDir: join(dataDir, 'eval-local') });
    const rows = (dir: string) => readFileSync(join(dataDir, dir, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Json);
    assert.equal(viaHttp.n, limit);
    assert.deepEqual(rows('eval-http').map((p) => [p.id, p.raw, p.parsed]), rows('eval-local').map((p) => [p.id, p.raw, p.parsed]));
    assert.equal(viaHttp.overall, local.overall);
    assert.equal(viaHttp.formatRate, local.formatRate);
    assert.equal((remote.describe().stats as Json).failures, 0);
  });

  test('a served learned judge answers the openai judge plugin exactly as the judge does locally', async () => {
    const judgeDir = join(dataDir, 'runs', 'judge-j1');
    const inputs = samples.map((s) => ({ question: s.question, options: s.options, think: s.cot }));
    inputs.push({ ...inputs[0]!, think: 'The image is somewhat blurry.' }, { ...inputs[1]!, think: '' });
    const local = await registry.create('judge', 'learned', { checkpoint: judgeDir }, createRootContainer());
    const remote = await registry.create('judge', 'openai', { baseUrl: base, model: 'judge', apiKeyEnv: KEY_ENV, maxRetries: 0 }, createRootContainer());
    const expected = await local.deduce(inputs);
    assert.ok(expected.filter((d) => d !== null).length >= samples.length / 2, `the learned judge deduced only ${expected.filter((d) => d !== null).length} of ${samples.length}`);
    assert.deepEqual(await remote.deduce(inputs), expected);
    const stats = (remote as unknown as { stats(): { unparseable: number; failures: number; requests: number } }).stats();
    assert.equal(stats.unparseable, 0);
    assert.equal(stats.failures, 0);
    assert.ok(stats.requests >= samples.length, `only ${stats.requests} HTTP requests reached the endpoint`);

    const text = (think: string): Json[] => [{ role: 'user', content: `Question: ${samples[0]!.question}\nOptions:\n${samples[0]!.options.map((o, i) => `(${'ABCD'[i]}) ${o}`).join('\n')}\n<reasoning>${think}</reasoning>` }];
    const r = await post({ model: 'judge', messages: text(samples[0]!.cot), n: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(r.json.choices.map((c: Json) => c.message.content), [expected[0], expected[0]]);
    assert.equal(r.json.system_fingerprint, 'medad-judge-learned');
    assertOpenAiError(await post({ model: 'judge', messages: [{ role: 'user', content: 'What is the answer?' }] }), 400, 'invalid_prompt', 'messages', /learned judge and cannot read a judge prompt: no reasoning found.*Fix: send "Question: …"/);
  });
});
