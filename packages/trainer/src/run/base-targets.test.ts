import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPTION_LETTERS, type MedAdSample, type RawImage } from '@medad/core';
import { baseSamples, describeLook, imageLook } from './base-targets.js';
import type { TrainingData } from './data.js';

const solid = (v: number, colour = false): RawImage => {
  const data = new Uint8Array(4 * 4 * 3);
  for (let i = 0; i < 16; i++) data.set(colour ? [v, 0, 255 - v] : [v, v, v], i * 3);
  return { width: 4, height: 4, channels: 3, data };
};

test('imageLook measures brightness, contrast and colour; describeLook grades them against the cuts', () => {
  const gray = imageLook(solid(200));
  assert.ok(Math.abs(gray.brightness - 200) < 1e-6 && gray.contrast < 1e-6 && gray.colour === 0);
  const checker: RawImage = { width: 2, height: 1, channels: 1, data: Uint8Array.from([0, 255]) };
  assert.ok(Math.abs(imageLook(checker).contrast - 127.5) < 1e-6);
  assert.ok(imageLook(solid(100, true)).colour > 8);
  const cuts = { brightness: [80, 160] as [number, number], contrast: [10, 40] as [number, number] };
  assert.equal(describeLook(gray, cuts), 'The image is a grayscale image, bright overall, with low contrast.');
});

test('base targets keep the question and options, name no option, drop the lesion boxes and draw letters uniformly and reproducibly', () => {
  const samples: MedAdSample[] = Array.from({ length: 400 }, (_, i) => ({
    id: `s${i}`, image: `i${i}.png`, modality: 'CT', anatomy: 'Brain', task: 'modality_classification', question: 'Which modality?', options: ['MRI', 'CT', 'X-ray', 'Ultrasound'],
    answer: 'B', cot: 'The scan shows CT features, so the answer is CT (B).', source: 't', split: 'train', bbox: { x: 0, y: 0, width: 2, height: 2 },
  }));
  const data: TrainingData = { where: 'mem', list: () => samples, image: (s) => solid(Number(s.id.slice(1)) % 256, Number(s.id.slice(1)) % 2 === 0) };
  const a = baseSamples(samples, data, 3);
  assert.deepEqual(a, baseSamples(samples, data, 3), 'same seed, same targets');
  assert.notDeepEqual(a.map((s) => s.answer), baseSamples(samples, data, 4).map((s) => s.answer));
  for (const s of a) {
    assert.equal(s.question, 'Which modality?');
    assert.equal(s.bbox, undefined);
    for (const o of s.options) assert.ok(!s.cot.toLowerCase().includes(o.toLowerCase()), `${s.cot} names ${o}`);
    assert.ok(s.cot.endsWith(`So the answer is (${s.answer}).`), s.cot);
  }
  const counts = OPTION_LETTERS.map((l) => a.filter((s) => s.answer === l).length);
  for (const c of counts) assert.ok(c > 70 && c < 130, `letters ${counts}`);
  assert.ok(a.some((s) => s.cot.includes('colour')) && a.some((s) => s.cot.includes('grayscale')));
});

test('the caption base adds the modality and body region (a captioner\'s knowledge) and still draws the letters uniformly', () => {
  const samples: MedAdSample[] = Array.from({ length: 8 }, (_, i) => ({
    id: `s${i}`, image: `i${i}.png`, modality: 'MRI', anatomy: 'Brain', task: 'pathology_characterization', question: 'What is the lesion?', options: ['Cyst', 'Tumour', 'Bleed', 'Normal'],
    answer: 'B', cot: 'A bright round lesion, so the answer is Tumour (B).', source: 't', split: 'train',
  }));
  const data: TrainingData = { where: 'mem', list: () => samples, image: () => solid(90) };
  const look = baseSamples(samples, data, 3);
  const caption = baseSamples(samples, data, 3, 'caption');
  caption.forEach((s, i) => {
    assert.equal(s.cot, `This is a MRI image of the Brain. ${look[i]!.cot}`);
    assert.equal(s.answer, look[i]!.answer, 'the same uniformly drawn letter');
    for (const o of s.options) assert.ok(!s.cot.includes(o), `${s.cot} names the option ${o}`);
  });
});

test('baseMcq turns that fraction of base samples into general look questions whose key is the phrase the description uses; the rest are unchanged', () => {
  const samples: MedAdSample[] = Array.from({ length: 600 }, (_, i) => ({
    id: `s${i}`, image: `i${i}.png`, modality: 'CT', anatomy: 'Chest', task: 'anatomy_identification', question: 'Which region?', options: ['Chest', 'Brain', 'Abdomen', 'Knee'],
    answer: 'A', cot: 'Ribs and lungs, so the answer is Chest (A).', source: 't', split: 'train',
  }));
  const data: TrainingData = { where: 'mem', list: () => samples, image: (s) => solid((Number(s.id.slice(1)) * 37) % 256, Number(s.id.slice(1)) % 3 === 0) };
  const plain = baseSamples(samples, data, 5, 'caption');
  const mixed = baseSamples(samples, data, 5, 'caption', 0.5);
  assert.deepEqual(mixed, baseSamples(samples, data, 5, 'caption', 0.5), 'reproducible');
  const asked = mixed.filter((s) => s.question !== 'Which region?');
  assert.ok(asked.length > 240 && asked.length < 360, `${asked.length} of 600 are look questions`);
  mixed.forEach((s, i) => {
    if (s.question === 'Which region?') return assert.deepEqual(s, plain[i], 'a sample left as it was keeps its target');
    assert.equal(s.cot, plain[i]!.cot.replace(/\(([A-D])\)\.$/, `(${s.answer}).`), 'the same description, then the key');
    const key = s.options[OPTION_LETTERS.indexOf(s.answer)]!;
    assert.ok(s.cot.includes(key), `the key "${key}" is the phrase the description uses: ${s.cot}`);
    for (const o of s.options) if (o !== key) assert.ok(!s.cot.includes(o), `a distractor "${o}" is not in ${s.cot}`);
    assert.equal(new Set(s.options).size, 4);
    for (const o of s.options) assert.ok(!['Chest', 'Brain', 'Abdomen', 'Knee', 'CT'].includes(o), 'never a task option');
  });
  const counts = OPTION_LETTERS.map((l) => asked.filter((s) => s.answer === l).length);
  for (const c of counts) assert.ok(c > asked.length / 4 - 30 && c < asked.length / 4 + 30, `key letters ${counts}`);
});
