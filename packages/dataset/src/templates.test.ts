import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRng, TASKS, stripConclusion } from '@medad/core';
import { OPTION_SETS } from './options.js';
import { COT_FORMATS, COT_FRAMES, QUESTION_TEMPLATES, composeCot, fillCotFrame, templatesComplete } from './templates.js';
import { ANATOMY_EVIDENCE, ANOMALY_EVIDENCE, MODALITY_EVIDENCE, PATHOLOGY_EVIDENCE, REGION_EVIDENCE } from './vocab.js';

function containsWord(text: string, phrase: string): boolean {
  const esc = phrase.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![a-z0-9-])${esc}(?![a-z0-9-])`).test(text.toLowerCase());
}

describe('question and CoT templates', () => {
  it('has ten distinct paraphrases per task', () => {
    assert.equal(templatesComplete(), true);
    for (const t of TASKS) assert.equal(new Set(QUESTION_TEMPLATES[t]).size, 10, t);
  });

  it('never names an option of its task in a question', () => {
    for (const t of TASKS)
      for (const q of QUESTION_TEMPLATES[t])
        for (const o of OPTION_SETS[t]) assert.equal(containsWord(q, o), false, `"${q}" names "${o}"`);
  });

  it('ends every chain of thought by naming the chosen option with its letter', () => {
    const rng = new SeededRng(3);
    for (let i = 0; i < COT_FRAMES.length * 3; i++) {
      const cot = composeCot('bright bone and black air', 'C', 'CT', rng);
      assert.ok(cot.endsWith('the answer is (C) CT.'), cot);
      assert.ok(cot.includes('bright bone and black air'));
    }
  });

  it('text-first chains of thought name the option text, then its letter, with the same frames and evidence', () => {
    const a = new SeededRng(3);
    const b = new SeededRng(3);
    for (let i = 0; i < COT_FRAMES.length * 3; i++) {
      const letterFirst = composeCot('bright bone and black air', 'C', 'CT', a);
      const textFirst = composeCot('bright bone and black air', 'C', 'CT', b, 'text-first');
      assert.ok(textFirst.endsWith('the answer is CT (C).'), textFirst);
      assert.equal(textFirst.replace('the answer is CT (C).', 'the answer is (C) CT.'), letterFirst);
    }
  });
});

describe('stripConclusion on every chain-of-thought shape', () => {
  it('leaves exactly the evidence of every frame, in both formats, for every task', () => {
    const evidence = Object.values({ ...ANATOMY_EVIDENCE, ...MODALITY_EVIDENCE, ...ANOMALY_EVIDENCE, ...PATHOLOGY_EVIDENCE, ...REGION_EVIDENCE });
    const findings = ['The image shows {evidence}.', 'I see {evidence}.', 'Evidence: {evidence}.', 'Looking at the image, there is {evidence}.'];
    assert.equal(findings.length, COT_FRAMES.length);
    for (const format of COT_FORMATS) {
      COT_FRAMES.forEach((frame, f) => {
        const shaped = format === 'text-first' ? frame.replace('({letter}) {option}.', '{option} ({letter}).') : frame;
        for (const ev of evidence) {
          const cot = fillCotFrame(shaped, ev, 'D', 'A single focal lesion');
          assert.equal(stripConclusion(cot), findings[f]!.replace('{evidence}', ev), cot);
        }
      });
    }
  });
});
