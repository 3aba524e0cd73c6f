import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRng } from '@medad/core';
import { SPECIAL_IDS, SPECIAL_TOKENS, WordTokenizer, pretokenize } from './tokenizer.js';
import { wtf8Decode, wtf8Encode } from './wtf8.js';

const corpus = [
  '<image> Question: Which imaging modality was used? Options: (A) MRI (B) CT (C) Ultrasound (D) X-ray Answer:',
  '<think> The image shows dense bone as bright white, typical of CT, so the answer is (B) CT. </think> <answer> B </answer>',
  '<think> A bright round lesion lies in the Left Upper region, so the answer is (A) Left Upper. </think> <answer> A </answer>',
];

function randomString(rng: SeededRng, len: number): string {
  const pools = [
    () => String.fromCharCode(32 + rng.int(95)), // ASCII
    () => String.fromCodePoint(0xa0 + rng.int(0x2000)), // Latin/Greek/Cyrillic/...
    () => String.fromCodePoint(0x4e00 + rng.int(0x5000)), // CJK
    () => String.fromCodePoint(0x1f300 + rng.int(0x300)), // emoji (surrogate pairs)
    () => String.fromCharCode(0xd800 + rng.int(0x800)), // lone surrogates
    () => rng.pick(['\n', '\t', '  ', '\u0000', '\r\n', ...SPECIAL_TOKENS]),
  ];
  let s = '';
  for (let i = 0; i < len; i++) s += pools[rng.int(pools.length)]!();
  return s;
}

test('encode/decode round-trips exactly on 500 random unicode strings (incl. lone surrogates)', () => {
  const tok = WordTokenizer.train(corpus, { minCount: 1 });
  const rng = new SeededRng(42);
  for (let i = 0; i < 500; i++) {
    const s = randomString(rng, 1 + rng.int(40));
    assert.equal(tok.decode(tok.encode(s)), s, `string #${i} ${JSON.stringify(s)}`);
  }
});

test('WTF-8 round-trips every BMP code unit and astral code points', () => {
  for (let u = 0; u < 0x10000; u += 7) {
    const s = String.fromCharCode(u);
    assert.equal(wtf8Decode(wtf8Encode(s)), s);
  }
  const astral = '\u{1F600}\u{10FFFF}\u{10000}';
  assert.deepEqual(wtf8Encode('\u{1F600}'), [0xf0, 0x9f, 0x98, 0x80]);
  assert.equal(wtf8Decode(wtf8Encode(astral)), astral);
  assert.equal(wtf8Decode([0xff, 0x41]), '\ufffdA');
});

test('in-vocabulary text costs about one token per word; specials are atomic with fixed ids', () => {
  const tok = WordTokenizer.train(corpus, { minCount: 1 });
  const text = '<think> The image shows dense bone as bright white, typical of CT, so the answer is (B) CT. </think> <answer> B </answer>';
  const ids = tok.encode(text);
  const words = text.split(/\s+/).length;
  assert.ok(ids.length <= words * 1.6, `${ids.length} tokens for ${words} words`);
  assert.equal(ids[0], SPECIAL_IDS.thinkOpen);
  assert.equal(ids[ids.length - 1], SPECIAL_IDS.answerClose);
  assert.ok(ids.includes(SPECIAL_IDS.thinkClose) && ids.includes(SPECIAL_IDS.answerOpen));
  assert.deepEqual(SPECIAL_TOKENS.map((s) => tok.tokenId(s)), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(!tok.encode('zebra-crossing ünïcode').includes(SPECIAL_IDS.unk));
});

test('pretokenize covers the text and keeps a space before a special token separate', () => {
  const s = 'is (B) CT. </think> <answer> B</answer>x';
  const pieces = pretokenize(s);
  assert.equal(pieces.join(''), s);
  assert.deepEqual(pieces.slice(4, 9), [' CT', '.', ' ', '</think>', ' ']);
});

test('JSON save/load gives the same ids, and a bad file is rejected with a fix', () => {
  const tok = WordTokenizer.train(corpus, { minCount: 1 });
  const again = WordTokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
  assert.equal(again.vocabSize, tok.vocabSize);
  for (const text of corpus) assert.deepEqual(again.encode(text), tok.encode(text));
  assert.throws(() => WordTokenizer.fromJSON({ type: 'other' }, 'x/tokenizer.json'), /x\/tokenizer\.json: not a medad-word-tokenizer.*Fix:/);
  assert.throws(() => WordTokenizer.fromJSON({ ...tok.toJSON(), vocab: ['a', 'a'] }), /duplicate/);
});

test('training is deterministic and respects minCount and maxVocab', () => {
  const a = WordTokenizer.train(corpus, { minCount: 2 });
  const b = WordTokenizer.train(corpus, { minCount: 2 });
  assert.deepEqual(a.toJSON(), b.toJSON());
  assert.ok(a.tokenId(' answer') !== undefined);
  assert.equal(a.tokenId(' Ultrasound'), undefined);
  const capped = WordTokenizer.train(corpus, { minCount: 1, maxVocab: 10 });
  assert.equal(capped.vocabSize, 9 + 256 + 10);
});
