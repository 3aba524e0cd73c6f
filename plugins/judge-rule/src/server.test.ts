import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseJudgePrompt } from './chat-prompt.js';
import { startRuleJudgeServer, type RuleJudgeServer } from './server.js';

const USER = [
  'Question: Which imaging modality was used to acquire this image?',
  'Options:',
  '(A) MRI',
  '(B) CT',
  '(C) Ultrasound',
  '(D) X-ray',
  'Reasoning:',
  '<reasoning>',
  'Speckle and a fan-shaped field of view, so ultrasound.',
  '</reasoning>',
  'Which option does the reasoning conclude? Reply with one letter, or NONE.',
].join('\n');

function chatBody(user: string, model = 'rule-judge') {
  return JSON.stringify({ model, temperature: 0, messages: [{ role: 'system', content: 'You grade reasoning.' }, { role: 'user', content: user }] });
}

async function post(server: RuleJudgeServer, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, json: (await res.json()) as { choices?: Array<{ message: { content: string } }>; error?: { message: string; code: string | null } } };
}

describe('parseJudgePrompt', () => {
  it('recovers question, options and reasoning from the tagged layout', () => {
    const p = parseJudgePrompt([{ role: 'user', content: USER }]);
    assert.deepEqual(p, {
      ok: true,
      input: {
        question: 'Which imaging modality was used to acquire this image?',
        options: ['MRI', 'CT', 'Ultrasound', 'X-ray'],
        think: 'Speckle and a fan-shaped field of view, so ultrasound.',
      },
    });
  });

  it('reads "A. text" options, a "Reasoning:" label and text parts', () => {
    const text = 'Question: Where is the lesion?\nA. Left Upper\nB. Right Upper\nReasoning: It sits top right.\nReply with one letter.';
    const p = parseJudgePrompt([{ role: 'user', content: [{ type: 'text', text }] }]);
    assert.ok(p.ok);
    assert.deepEqual(p.input.options, ['Left Upper', 'Right Upper']);
    assert.equal(p.input.think, 'It sits top right.');
  });

  it('says what is missing', () => {
    const p = parseJudgePrompt([{ role: 'user', content: 'Question: x\n(A) MRI\n(B) CT' }]);
    assert.equal(p.ok, false);
    assert.match(!p.ok ? p.problem : '', /no reasoning/);
  });
});

describe('startRuleJudgeServer', () => {
  let server: RuleJudgeServer;
  before(async () => {
    server = await startRuleJudgeServer({ failFirst: 1, apiKey: 'k-123' });
  });
  after(() => server.close());

  it('fails the first request on purpose with 503, then answers with the rule deduction', async () => {
    const first = await post(server, chatBody(USER), { authorization: 'Bearer k-123' });
    assert.equal(first.status, 503);
    const second = await post(server, chatBody(USER), { authorization: 'Bearer k-123' });
    assert.equal(second.status, 200);
    assert.equal(second.json.choices?.[0]?.message.content, 'C');
    // The server judges the findings (conclusion: strip): speckle and a fan-shaped view are ultrasound, whatever the last clause says.
    const changed = await post(server, chatBody(USER.replace('so ultrasound', 'so the answer is (B) CT')), { authorization: 'Bearer k-123' });
    assert.equal(changed.json.choices?.[0]?.message.content, 'C');
  });

  it('reads the conclusion instead with judge.conclusion "keep" (server-main --conclusion keep)', async () => {
    const keep = await startRuleJudgeServer({ judge: { conclusion: 'keep' } });
    try {
      const changed = await post(keep, chatBody(USER.replace('so ultrasound', 'so the answer is (B) CT')));
      assert.equal(changed.json.choices?.[0]?.message.content, 'B');
    } finally {
      await keep.close();
    }
  });

  it('formats the reply by model id', async () => {
    const auth = { authorization: 'Bearer k-123' };
    const replies = await Promise.all(
      ['rule-judge-paren', 'rule-judge-tag', 'rule-judge-prefix', 'rule-judge-words'].map(async (m) => (await post(server, chatBody(USER, m), auth)).json.choices?.[0]?.message.content),
    );
    assert.deepEqual(replies, ['(C)', '<answer>C</answer>', 'Answer: C', 'The reasoning points to the third option.']);
    const none = await post(server, chatBody(USER.replace('Speckle and a fan-shaped field of view, so ultrasound.', 'So the answer is (C) Ultrasound.')), auth);
    assert.equal(none.json.choices?.[0]?.message.content, 'NONE');
  });

  it('rejects a wrong key (401), an unknown model (404) and an unreadable prompt (400)', async () => {
    assert.equal((await post(server, chatBody(USER), { authorization: 'Bearer wrong' })).status, 401);
    const unknown = await post(server, chatBody(USER, 'gpt-9'), { authorization: 'Bearer k-123' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error?.code, 'model_not_found');
    const bad = await post(server, chatBody('just text'), { authorization: 'Bearer k-123' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error?.message ?? '', /no reasoning/);
  });

  it('lists its models and reports its counters', async () => {
    const models = (await (await fetch(`${server.baseUrl}/models`)).json()) as { data: Array<{ id: string }> };
    assert.ok(models.data.some((m) => m.id === 'rule-judge'));
    const stats = (await (await fetch(`http://127.0.0.1:${server.port}/stats`)).json()) as Record<string, number>;
    assert.equal(stats.failedOnPurpose, 1);
    assert.equal(stats.answered, 7);
    assert.equal(stats.requests, 11);
    assert.equal(stats.inFlight, 0);
    assert.deepEqual(stats, { ...server.stats() });
  });
});
