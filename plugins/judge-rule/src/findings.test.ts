import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deduceRule, type ConclusionOptions } from './conclusion.js';

const MODALITY = ['MRI', 'CE-MRI', 'CT', 'Ultrasound'];
const REGION = ['Left Upper', 'Right Upper', 'Center', 'Right Lower'];
const ANOMALY = ['No abnormality', 'A single focal lesion', 'Multiple focal lesions', 'A diffuse abnormality'];
const PATHOLOGY = ['Cyst', 'Abscess', 'Calcification', 'Infarct'];
const ANATOMY = ['Brain', 'Kidney', 'Colon', 'Skin'];

interface Case {
  name: string;
  options: string[];
  think: string;
  strip: 'A' | 'B' | 'C' | 'D' | null;
  keep: 'A' | 'B' | 'C' | 'D' | null;
  config?: ConclusionOptions;
}

// Findings of one option, last sentence naming another: strip follows the findings, keep the last sentence.
const CASES: Case[] = [
  { name: 'modality: speckle, concluded CT', options: MODALITY, think: 'I see a fan-shaped field of view filled with granular speckle, so the answer is CT (C).', strip: 'D', keep: 'C' },
  { name: 'modality: enhancing vessels, concluded MRI', options: MODALITY, think: 'Evidence: fluid dark and scattered brightly enhancing vessels. Therefore the answer is (A) MRI.', strip: 'B', keep: 'A' },
  { name: 'modality: bright fluid and a bias field, "this fits" another option', options: MODALITY, think: 'I see bright fluid and a slowly varying intensity bias; this fits CT, so the answer is (C) CT.', strip: 'A', keep: 'C' },
  { name: 'region: upper half on the left, concluded Center', options: REGION, think: 'The image shows a lesion whose centre lies in the upper half on the left, outside the central third, so the answer is Center (C).', strip: 'A', keep: 'C' },
  { name: 'region: paraphrase "bottom right corner"', options: REGION, think: 'The mass sits in the bottom right corner of the image. So the answer is (B) Right Upper.', strip: 'D', keep: 'B' },
  { name: 'region: middle third', options: REGION, think: 'Looking at the image, there is a lesion whose centre lies within the middle third both across and down, so the answer is (D) Right Lower.', strip: 'C', keep: 'D' },
  { name: 'anomaly: no change, concluded a diffuse abnormality', options: ANOMALY, think: 'I see tissue with the expected texture and no focal or diffuse change, so the answer is A diffuse abnormality (D).', strip: 'A', keep: 'D' },
  { name: 'anomaly: several lesions, concluded single', options: ANOMALY, think: 'The image shows several separate focal lesions, so the answer is (B) A single focal lesion.', strip: 'C', keep: 'B' },
  { name: 'anomaly: ill-defined area', options: ANOMALY, think: 'Evidence: a large ill-defined area of altered texture without a discrete margin. Therefore the answer is (A) No abnormality.', strip: 'D', keep: 'A' },
  { name: 'pathology: thick ring, concluded Cyst', options: PATHOLOGY, think: 'I see a thick bright ring around a dark centre; this fits Cyst, so the answer is (A) Cyst.', strip: 'B', keep: 'A' },
  { name: 'pathology: bright dots, concluded Infarct', options: PATHOLOGY, think: 'The image shows a cluster of tiny very bright dots, so the answer is Infarct (D).', strip: 'C', keep: 'D' },
  { name: 'anatomy: crypts, concluded Skin', options: ANATOMY, think: 'Looking at the image, there is rows of elongated crypts lined by purple nuclei, so the answer is (D) Skin.', strip: 'C', keep: 'D' },
  { name: 'anatomy: skull and ventricles', options: ANATOMY, think: 'An oval skull outline around folded tissue with central ventricles, so the answer is (B) Kidney.', strip: 'A', keep: 'B' },
  // What strip does not deduce.
  { name: 'only a restated answer', options: MODALITY, think: 'So the answer is (C) CT.', strip: null, keep: 'C' },
  { name: 'findings that fit no option', options: MODALITY, think: 'The image is characteristic, so the answer is (A) MRI.', strip: null, keep: 'A' },
  { name: 'findings that fit two options equally', options: MODALITY, think: 'Bright bone and granular speckle, so the answer is (C) CT.', strip: null, keep: 'C' },
  { name: 'a negated finding does not count', options: MODALITY, think: 'There is no speckle and bright bone, so the answer is (D) Ultrasound.', strip: 'C', keep: 'D' },
  { name: 'an option named in the findings counts', options: MODALITY, think: 'This looks like CT rather than MRI. So the answer is (A) MRI.', strip: 'C', keep: 'A' },
  { name: 'letters in the findings never count', options: MODALITY, think: 'Option (B) is what I see. So the answer is (A) MRI.', strip: null, keep: 'A' },
  { name: 'built-in findings off: only option texts', options: MODALITY, think: 'Granular speckle, so the answer is (C) CT.', strip: null, keep: 'C', config: { builtinFindings: false } },
  { name: 'user findings phrases', options: MODALITY, think: 'Hyperechoic rim, so the answer is (C) CT.', strip: 'D', keep: 'C', config: { findings: { ultrasound: ['hyperechoic'] } } },
];

describe('deduceRule: strip reads the findings, keep the conclusion', () => {
  for (const c of CASES) {
    it(`${c.name}: strip → ${c.strip}, keep → ${c.keep}`, () => {
      const input = { question: 'q', options: c.options, think: c.think };
      assert.equal(deduceRule(input, c.config), c.strip, 'strip (default)');
      assert.equal(deduceRule(input, { ...c.config, conclusion: 'strip' }), c.strip, 'strip');
      assert.equal(deduceRule(input, { ...c.config, conclusion: 'keep' }), c.keep, 'keep');
    });
  }
});
