import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deduceConclusion, type ConclusionOptions } from './conclusion.js';

const MODALITY = ['MRI', 'CE-MRI', 'CT', 'Ultrasound'];
const XRAY = ['MRI', 'CT', 'Ultrasound', 'X-ray'];
const REGION = ['Left Upper', 'Right Upper', 'Left Lower', 'Right Lower'];
const ANOMALY = ['Abnormal', 'Normal'];
const Q = 'Which imaging modality was used to acquire this image?';

interface Case {
  name: string;
  options: string[];
  think: string;
  expected: 'A' | 'B' | 'C' | 'D' | null;
  config?: ConclusionOptions;
}

const CASES: Case[] = [
  { name: 'explicit letter and text', options: MODALITY, think: 'Cortical bone is bright, so the answer is (C) CT.', expected: 'C' },
  { name: 'text only, concluding phrase', options: MODALITY, think: 'Speckle and a fan-shaped field of view, consistent with ultrasound.', expected: 'D' },
  { name: 'substring option: CE-MRI, not MRI', options: MODALITY, think: 'The rim enhances after contrast: this is CE-MRI.', expected: 'B' },
  { name: 'the shorter option alone', options: MODALITY, think: 'Soft-tissue contrast is high and nothing enhances, typical of MRI.', expected: 'A' },
  { name: 'negated option earlier in the text', options: MODALITY, think: 'The image is not MRI; bright cortical bone indicates CT.', expected: 'C' },
  { name: '"rather than" negates', options: MODALITY, think: 'This looks like CT rather than MRI.', expected: 'C' },
  { name: 'negation sentence, then the answer', options: MODALITY, think: 'It is definitely not CE-MRI. The answer is MRI.', expected: 'A' },
  { name: 'nothing named', options: MODALITY, think: 'no idea at all', expected: null },
  { name: 'empty reasoning', options: MODALITY, think: '', expected: null },
  { name: 'upper case text', options: MODALITY, think: 'ULTRASOUND speckle is obvious, so ULTRASOUND.', expected: 'D' },
  { name: 'bare letter after "the answer is"', options: MODALITY, think: 'Bright bone. The answer is D.', expected: 'D' },
  { name: 'lower-case "option b"', options: MODALITY, think: 'Option b fits best.', expected: 'B' },
  { name: '"is ruled out" after the option', options: MODALITY, think: 'MRI is ruled out because bone is bright; so CT.', expected: 'C' },
  { name: 'a list of the options is not a conclusion', options: MODALITY, think: 'Options are MRI, CE-MRI, CT and Ultrasound. The speckle suggests ultrasound.', expected: 'D' },
  { name: '"neither … nor"', options: MODALITY, think: 'Neither MRI nor CT fits; the rim enhances, so CE-MRI.', expected: 'B' },
  { name: 'negation spreads over a list', options: MODALITY, think: 'It is not MRI, CE-MRI or CT, so Ultrasound.', expected: 'D' },
  { name: 'letter and text disagree: text wins by default', options: MODALITY, think: 'The answer is (A) CT.', expected: 'C' },
  { name: 'letter and text disagree: letter policy', options: MODALITY, think: 'The answer is (A) CT.', expected: 'A', config: { onConflict: 'letter' } },
  { name: 'letter and text disagree: null policy', options: MODALITY, think: 'The answer is (A) CT.', expected: null, config: { onConflict: 'null' } },
  { name: 'declared answer beats a later aside', options: MODALITY, think: 'The answer is (C) CT. MRI would show dark cortical bone.', expected: 'C' },
  { name: '"not (A) MRI but (C) CT"', options: MODALITY, think: 'The answer is not (A) MRI but (C) CT.', expected: 'C' },
  { name: '"no" scopes over its noun phrase only', options: MODALITY, think: 'No bright bone is visible on this MRI.', expected: 'A' },
  { name: 'text then letter "CT (C)"', options: MODALITY, think: 'Dense bone everywhere: CT (C) is the answer.', expected: 'C' },
  { name: 'region in reversed word order', options: REGION, think: 'The lesion sits in the upper left quadrant.', expected: 'A' },
  { name: '"outside the central third" is not Center', options: ['Center', 'Left Upper', 'Right Upper', 'Left Lower'], think: 'Its centre lies in the upper half on the left, outside the central third.', expected: null },
  { name: 'benchmark CoT frame with its evidence', options: ['Center', 'Left Upper', 'Right Upper', 'Left Lower'], think: 'I see a lesion whose centre lies in the upper half on the left, outside the central third; this fits Left Upper, so the answer is (B) Left Upper.', expected: 'B' },
  { name: 'region, other region negated', options: REGION, think: 'The mass is in the right lower region, not the left lower.', expected: 'D' },
  { name: '"abnormal" is not "normal"', options: ANOMALY, think: 'There is an irregular mass, so the image is abnormal.', expected: 'A' },
  { name: '"normal" alone', options: ANOMALY, think: 'The tissue texture is uniform; the image looks normal.', expected: 'B' },
  { name: 'synonym: radiographic → X-ray', options: XRAY, think: 'A projection image of the chest with bony ribs, so a radiographic study.', expected: 'D' },
  { name: 'synonym containing another option: contrast-enhanced MRI', options: MODALITY, think: 'The lesion enhances, which points to contrast-enhanced MRI.', expected: 'B' },
  { name: 'user alias', options: XRAY, think: 'This is a plain chest film of type Z.', expected: 'D', config: { aliases: { 'x-ray': ['chest film'] } } },
  { name: '"less likely than" favours what follows', options: MODALITY, think: 'MRI is less likely than CT.', expected: 'C' },
  { name: 'only a negated option', options: MODALITY, think: 'It is certainly not MRI.', expected: null },
  { name: 'negation off', options: MODALITY, think: 'It is certainly not MRI.', expected: 'A', config: { negation: false } },
  { name: 'letter beyond the options is ignored', options: ANOMALY, think: 'The answer is D.', expected: null },
];

describe('deduceConclusion', () => {
  for (const c of CASES) {
    it(`${c.name}: "${c.think}" → ${c.expected}`, () => {
      assert.equal(deduceConclusion({ question: Q, options: c.options, think: c.think }, c.config), c.expected);
    });
  }
});
