import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COT_FRAMES, PATHOLOGY_EVIDENCE, REGION_EVIDENCE, ANOMALY_EVIDENCE, MODALITY_EVIDENCE, ANATOMY_EVIDENCE, fillCotFrame } from '@medad/dataset';
import { conclusionStart, findOptionMentions, maskLetters, optionPhrase, removeConclusion, swapConclusion, tokenize } from './text.js';

describe('maskLetters', () => {
  const cases: Array<[string, string]> = [
    ['I see tiny dots; this fits Calcification, so the answer is (D) Calcification.', 'I see tiny dots; this fits Calcification, so the answer is Calcification.'],
    ['Option b fits best.', 'Option fits best.'],
    ['Bright bone. The answer is D.', 'Bright bone. The answer is.'],
    ['Answer: C', 'Answer:'],
    ['CT [c] is the answer', 'CT is the answer'],
    // The article of an option text is not a letter.
    ['so the answer is (D) A single focal lesion.', 'so the answer is A single focal lesion.'],
    ['The answer is A diffuse abnormality.', 'The answer is A diffuse abnormality.'],
  ];
  for (const [input, expected] of cases) it(`"${input}" → "${expected}"`, () => assert.equal(maskLetters(input), expected));
});

describe('removeConclusion and swapConclusion on every benchmark CoT frame', () => {
  const evidence = [
    [PATHOLOGY_EVIDENCE.Calcification, 'Calcification'],
    [REGION_EVIDENCE['Left Upper'], 'Left Upper'],
    [ANOMALY_EVIDENCE['A single focal lesion'], 'A single focal lesion'],
    [MODALITY_EVIDENCE['CE-MRI'], 'CE-MRI'],
    [ANATOMY_EVIDENCE.Brain, 'Brain'],
  ] as const;
  for (const frame of COT_FRAMES) {
    it(`keeps only the findings of "${frame}"`, () => {
      for (const [ev, option] of evidence) {
        const cot = fillCotFrame(frame, ev, 'B', option);
        const findings = removeConclusion(cot);
        assert.ok(findings.includes(ev), findings);
        assert.ok(!findings.includes(`${option}.`) && !findings.includes('answer'), findings);
        assert.ok(conclusionStart(cot) > 0);
      }
    });
  }

  it('rewrites the conclusion only, letter and text', () => {
    const options = ['Cyst', 'Calcification', 'Abscess', 'Infarct'];
    const cot = fillCotFrame(COT_FRAMES[1]!, PATHOLOGY_EVIDENCE.Calcification, 'B', 'Calcification');
    assert.equal(swapConclusion(cot, options, 1, 3), 'I see a cluster of tiny very bright dots; this fits Infarct, so the answer is (D) Infarct.');
  });
});

describe('findOptionMentions', () => {
  const find = (think: string, options: string[]) => findOptionMentions(tokenize(think), options.map(optionPhrase)).map((m) => options[m.option]);

  it('a longer option wins over the one inside it, plurals and reversed regions match', () => {
    assert.deepEqual(find('Not MRI: the rim enhances, so CE-MRI.', ['MRI', 'CE-MRI', 'CT', 'X-ray']), ['MRI', 'CE-MRI']);
    assert.deepEqual(find('several cysts in the upper left', ['Cyst', 'Left Upper', 'Abscess', 'Center']), ['Cyst', 'Left Upper']);
    assert.deepEqual(find('so a single focal lesion', ['No abnormality', 'A single focal lesion', 'Multiple focal lesions', 'A diffuse abnormality']), ['A single focal lesion']);
  });
});
