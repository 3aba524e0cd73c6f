import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPTION_LETTERS, REGIONS, SeededRng, type OptionLetter } from '@medad/core';
import {
  ANATOMIES,
  ANATOMY_EVIDENCE,
  ANOMALY_EVIDENCE,
  ANOMALY_FINDINGS,
  COT_FRAMES,
  MODALITIES,
  MODALITY_EVIDENCE,
  PATHOLOGIES,
  PATHOLOGY_EVIDENCE,
  REGION_EVIDENCE,
  buildOptions,
  fillCotFrame,
} from '@medad/dataset';
import { deduceConclusion } from './conclusion.js';

// The benchmark's own vocabulary, evidence sentences and CoT frames (packages/dataset).
const TASK_VOCAB: Record<string, [readonly string[], Record<string, string>]> = {
  anatomy_identification: [ANATOMIES, ANATOMY_EVIDENCE],
  modality_classification: [MODALITIES, MODALITY_EVIDENCE],
  anomaly_detection: [ANOMALY_FINDINGS, ANOMALY_EVIDENCE],
  pathology_characterization: [PATHOLOGIES, PATHOLOGY_EVIDENCE],
  lesion_localization: [REGIONS, REGION_EVIDENCE],
};

interface Tally {
  total: number;
  /** Ground-truth CoT as generated: "… so the answer is (B) CT." */
  full: number;
  /** The same CoT with its letters removed: the option text alone must carry the conclusion. */
  textOnly: number;
  /** The CoT with a wrong letter beside the right text: the text wins (default policy). */
  wrongLetter: number;
  /** Evidence alone, no conclusion: a deduction here must at least not be a wrong option. */
  evidenceWrong: number;
}

function measure(task: string, seed: number): Tally {
  const [pool, evidence] = TASK_VOCAB[task]!;
  const rng = new SeededRng(seed);
  const t: Tally = { total: 0, full: 0, textOnly: 0, wrongLetter: 0, evidenceWrong: 0 };
  for (const correct of pool) {
    for (let k = 0; k < 5; k++) {
      for (const frame of COT_FRAMES) {
        const { options, answer } = buildOptions(correct, pool, OPTION_LETTERS[rng.int(4)]!, rng);
        const judge = (think: string) => deduceConclusion({ question: 'q', options, think });
        const cot = fillCotFrame(frame, evidence[correct]!, answer, correct);
        const wrong: OptionLetter = OPTION_LETTERS[(OPTION_LETTERS.indexOf(answer) + 1) % 4]!;
        t.total++;
        if (judge(cot) === answer) t.full++;
        if (judge(cot.replaceAll(`(${answer}) `, '')) === answer) t.textOnly++;
        if (judge(cot.replaceAll(`(${answer})`, `(${wrong})`)) === answer) t.wrongLetter++;
        const fromEvidence = judge(`The image shows ${evidence[correct]}.`);
        if (fromEvidence !== null && fromEvidence !== answer) t.evidenceWrong++;
      }
    }
  }
  return t;
}

describe('rule judge on the benchmark chains of thought', () => {
  for (const task of Object.keys(TASK_VOCAB)) {
    it(`${task}: every ground-truth CoT is deduced, with or without its letter, and evidence alone never names a wrong option`, () => {
      const t = measure(task, 11);
      assert.ok(t.total >= 80, `only ${t.total} cases`);
      assert.deepEqual(
        { full: t.full, textOnly: t.textOnly, wrongLetter: t.wrongLetter, evidenceWrong: t.evidenceWrong },
        { full: t.total, textOnly: t.total, wrongLetter: t.total, evidenceWrong: 0 },
      );
    });
  }
});
