import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCode, PluginRegistry, createTestContainer, isMedadError, type JudgeInput } from '@medad/core';
import { describeJudgeContract, FIXTURE_SAMPLE } from '@medad/core/testing';
import { openAiJudgePlugin, type OpenAiJudge } from './index.js';

// The endpoint under test is the rule judge's reference server, run as a separate process: it
// parses each prompt and computes its reply, so nothing here is a canned answer. It is spawned
// by path (not imported) so plugins stay independent of each other.
const SERVER_MAIN = fileURLToPath(new URL('../../judge-rule/dist/server-main.js', import.meta.url));
if (!existsSync(SERVER_MAIN)) {
  throw new Error(`${SERVER_MAIN} is missing: the judge-openai tests need the rule judge's reference server. Fix: run "npx tsc -b plugins/judge-rule" at the repository root`);
}

const KEY_ENV = 'MEDAD_TEST_JUDGE_KEY';
const KEY = 'test-key-7f3a';
process.env[KEY_ENV] = KEY;

interface ServerProcess {
  baseUrl: string;
  stats(): Promise<{ requests: number; answered: number; failedOnPurpose: number; inFlight: number; maxInFlight: number }>;
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill();
});

async function startServer(...flags: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_MAIN, '--port', '0', '--api-key-env', KEY_ENV, ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [KEY_ENV]: KEY },
  });
  children.push(child);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not print "listening <port>" within 10 s; stderr: ${err}`)), 10_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with code ${code}: ${err}`)));
  });
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    stats: async () => (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as Awaited<ReturnType<ServerProcess['stats']>>,
  };
}

// The transport tests read whole thinks on both ends (conclusion: keep), so a bare "the answer is
// (C)" is an answer; the findings tests below use a default (strip) server and judge.
const plain = await startServer('--conclusion', 'keep');
const flaky = await startServer('--fail-first', '3', '--conclusion', 'keep');
const slow = await startServer('--delay-ms', '150', '--conclusion', 'keep');
const findings = await startServer();

const make = (config: Record<string, unknown> = {}) =>
  new PluginRegistry()
    .register(openAiJudgePlugin)
    .create('judge', 'openai', { baseUrl: plain.baseUrl, model: 'rule-judge', apiKeyEnv: KEY_ENV, backoffMs: 5, conclusion: 'keep', ...config }, createTestContainer()) as Promise<OpenAiJudge>;

const { question, options } = FIXTURE_SAMPLE;
const ask = (think: string): JudgeInput => ({ question, options, think });

describeJudgeContract('openai (conclusion: keep, against the rule reference server)', () => make());

describe('openai judge reading the findings (conclusion: strip, the default)', () => {
  const makeDefault = () =>
    new PluginRegistry()
      .register(openAiJudgePlugin)
      .create('judge', 'openai', { baseUrl: findings.baseUrl, model: 'rule-judge', apiKeyEnv: KEY_ENV, backoffMs: 5 }, createTestContainer()) as Promise<OpenAiJudge>;

  it('sends the findings only: a think whose findings fit one option and whose last sentence names another is judged by the findings', async () => {
    const judge = await makeDefault();
    const out = await judge.deduce([
      ask('A fan-shaped field of view filled with granular speckle, so the answer is (B) CT.'),
      ask('Bright cortical bone and black air around the body. Therefore the answer is (A) MRI.'),
      ask('Bright bone and grey soft tissue: CT.'),
    ]);
    assert.deepEqual(out, ['C', 'B', 'B']);
    assert.equal(judge.stats().requests, 3);
  });

  it('a think that only states an answer has no findings: null, and no request is sent', async () => {
    const judge = await makeDefault();
    assert.deepEqual(await judge.deduce([ask('So the answer is (A) MRI.'), ask('   ')]), [null, null]);
    assert.equal(judge.stats().requests, 0);
  });

  it('the same think read under keep asks again (another prompt version in the cache key) and follows the conclusion', async () => {
    const cacheFile = join(mkdtempSync(join(tmpdir(), 'judge-openai-')), 'cache.json');
    const think = ask('A fan-shaped field of view filled with granular speckle, so the answer is (B) CT.');
    const strip = await makeDefault();
    assert.deepEqual(await strip.deduce([think]), ['C']);
    const keep = await make({ baseUrl: plain.baseUrl, cacheFile });
    assert.deepEqual(await keep.deduce([think]), ['B']);
    assert.equal(keep.stats().cacheHits, 0);
  });
});

describe('openai judge against a live endpoint', () => {
  it('deduces the option each reasoning concludes, one request per input', async () => {
    const judge = await make();
    const before = (await plain.stats()).answered;
    const out = await judge.deduce([
      ask('Bright cortical bone and a grey soft-tissue window, so the answer is (B) CT.'),
      ask('Speckle in a fan-shaped field of view, consistent with ultrasound.'),
      ask('It is not MRI; the projection shadows say X-ray.'),
      ask('Dark fluid and bright fat: MRI.'),
      ask('Cannot tell from this.'),
    ]);
    assert.deepEqual(out, ['B', 'C', 'D', 'A', null]);
    assert.equal((await plain.stats()).answered - before, 5);
    assert.deepEqual(judge.stats(), { requests: 5, cacheHits: 0, unparseable: 0, abstained: 1, failures: 0, retries: 0, timeouts: 0 });
  });

  it('reads every reply style the server can give, and counts prose as unparseable', async () => {
    const inputs = [ask('So the answer is (A) MRI.'), ask('This is CT rather than MRI.')];
    for (const model of ['rule-judge-paren', 'rule-judge-tag', 'rule-judge-prefix']) {
      const judge = await make({ model });
      assert.deepEqual(await judge.deduce(inputs), ['A', 'B'], model);
    }
    const prose = await make({ model: 'rule-judge-words' });
    assert.deepEqual(await prose.deduce(inputs), [null, null]);
    assert.equal(prose.stats().unparseable, 2);
    // unparseable replies are not cached: asking again asks the server again
    await prose.deduce(inputs);
    assert.deepEqual([prose.stats().requests, prose.stats().cacheHits, prose.stats().unparseable], [4, 0, 4]);
  });

  it('serves a repeated input from the cache: the server sees no new request', async () => {
    const judge = await make();
    const input = ask('Uniform grey texture with bright bone, therefore CT.');
    assert.deepEqual(await judge.deduce([input, input]), ['B', 'B']);
    const seen = (await plain.stats()).requests;
    assert.deepEqual(await judge.deduce([input]), ['B']);
    assert.equal((await plain.stats()).requests, seen);
    assert.deepEqual([judge.stats().requests, judge.stats().cacheHits], [1, 2]);
  });

  it('persists the cache to cacheFile, so a new judge needs no requests', async () => {
    const cacheFile = join(mkdtempSync(join(tmpdir(), 'judge-openai-')), 'cache.json');
    const inputs = [ask('Bright bone, so CT.'), ask('No option fits.')];
    const first = await make({ cacheFile });
    assert.deepEqual(await first.deduce(inputs), ['B', null]);
    assert.equal(Object.keys((JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: object }).entries).length, 2);
    const seen = (await plain.stats()).requests;
    const second = await make({ cacheFile });
    assert.deepEqual(await second.deduce(inputs), ['B', null]);
    assert.equal((await plain.stats()).requests, seen);
    assert.deepEqual([second.stats().requests, second.stats().cacheHits], [0, 2]);
  });

  it('retries 503s with backoff: gives up after maxRetries, then succeeds when the server recovers', async () => {
    const input = ask('The answer is (C) Ultrasound.');
    const impatient = await make({ baseUrl: flaky.baseUrl, maxRetries: 1 });
    assert.deepEqual(await impatient.deduce([input]), [null]);
    assert.deepEqual([impatient.stats().requests, impatient.stats().retries, impatient.stats().failures], [2, 1, 1]);
    const patient = await make({ baseUrl: flaky.baseUrl, maxRetries: 3 });
    assert.deepEqual(await patient.deduce([input]), ['C']);
    assert.deepEqual([patient.stats().requests, patient.stats().retries, patient.stats().failures], [2, 1, 0]);
    const s = await flaky.stats();
    assert.deepEqual([s.failedOnPurpose, s.answered], [3, 1]);
  });

  it('keeps at most `concurrency` requests in flight, and does use them all', async () => {
    const judge = await make({ baseUrl: slow.baseUrl, concurrency: 3, timeoutMs: 10_000 });
    const inputs = ['MRI', 'CT', 'Ultrasound', 'X-ray', 'MRI', 'CT', 'Ultrasound', 'X-ray', 'CT'].map((o, i) => ask(`Finding ${i}: the answer is ${o}.`));
    const t0 = Date.now();
    const out = await judge.deduce(inputs);
    const ms = Date.now() - t0;
    assert.deepEqual(out, ['A', 'B', 'C', 'D', 'A', 'B', 'C', 'D', 'B']);
    assert.equal((await slow.stats()).maxInFlight, 3);
    assert.ok(ms >= 3 * 150 - 20, `9 requests at 3 in flight and 150 ms each took only ${ms} ms`);
  });

  it('times out slow replies: null, counted as a failure, no crash', async () => {
    const judge = await make({ baseUrl: slow.baseUrl, timeoutMs: 40, maxRetries: 1 });
    assert.deepEqual(await judge.deduce([ask('So the answer is (A) MRI.')]), [null]);
    assert.deepEqual(judge.stats(), { requests: 2, cacheHits: 0, unparseable: 0, abstained: 0, failures: 1, retries: 1, timeouts: 2 });
  });

  it('does not retry a wrong key or model: it throws with a fix', async () => {
    const noKey = await make({ apiKeyEnv: 'MEDAD_TEST_NO_SUCH_KEY' });
    await assert.rejects(noKey.deduce([ask('CT.')]), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /HTTP 401/.test(err.message) && /apiKeyEnv/.test(err.message));
    assert.deepEqual([noKey.stats().requests, noKey.stats().retries, noKey.stats().failures], [1, 0, 1]);
    const noModel = await make({ model: 'gpt-imaginary' });
    await assert.rejects(noModel.deduce([ask('CT.')]), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /HTTP 404/.test(err.message) && /gpt-imaginary/.test(err.message));
    assert.equal(noModel.stats().retries, 0);
  });

  it('a 400 for one input gives null for it without retries; the rest of the batch is answered', async () => {
    const judge = await make();
    // no options: the server cannot read the prompt and answers 400
    const out = await judge.deduce([{ question, options: [], think: 'CT.' }, ask('So CT.')]);
    assert.deepEqual(out, [null, 'B']);
    assert.deepEqual([judge.stats().requests, judge.stats().retries, judge.stats().failures], [2, 0, 1]);
  });

  it('survives an endpoint that is down: retries, then null', async () => {
    const judge = await make({ baseUrl: 'http://127.0.0.1:1/v1', maxRetries: 2 });
    assert.deepEqual(await judge.deduce([ask('CT.')]), [null]);
    assert.deepEqual([judge.stats().requests, judge.stats().retries, judge.stats().failures], [3, 2, 1]);
  });

  it('rejects a config without an http(s) baseUrl, naming the field', async () => {
    await assert.rejects(make({ baseUrl: 'ftp://example.org/v1' }), (err: unknown) => isMedadError(err, ErrorCode.InvalidConfig) && /baseUrl/.test(err.message));
  });
});
