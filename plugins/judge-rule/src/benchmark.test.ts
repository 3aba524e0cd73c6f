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
import { deduceConclusion, deduceRule } from './conclusion.js';

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
  /** Strip (the default judge): the findings of the ground-truth CoT, in both CoT formats, deduce the key. */
  strip: number;
  /** Strip on the CoT with its conclusion (text and letter) rewritten to the next option: still the key. */
  stripSwapped: number;
}

function measure(task: string, seed: number): Tally {
  const [pool, evidence] = TASK_VOCAB[task]!;
  const rng = new SeededRng(seed);
  const t: Tally = { total: 0, full: 0, textOnly: 0, wrongLetter: 0, evidenceWrong: 0, strip: 0, stripSwapped: 0 };
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
        const strip = (think: string) => deduceRule({ question: 'q', options, think });
        const textFirst = fillCotFrame(frame.replace('({letter}) {option}.', '{option} ({letter}).'), evidence[correct]!, answer, correct);
        if (strip(cot) === answer && strip(textFirst) === answer) t.strip++;
        // The findings of the key, the conclusion ("this fits …", "the answer is …") naming another option.
        if (strip(fillCotFrame(frame, evidence[correct]!, wrong, options[OPTION_LETTERS.indexOf(wrong)]!)) === answer) t.stripSwapped++;
      }
    }
  }
  return t;
}

describe('rule judge on the benchmark chains of thought', () => {
  for (const task of Object.keys(TASK_VOCAB)) {
    it(`${task}: every ground-truth CoT is deduced, with or without its letter, evidence alone never names a wrong option, and the findings alone (strip) deduce the key even under a swapped conclusion`, () => {
      const t = measure(task, 11);
      assert.ok(t.total >= 80, `only ${t.total} cases`);
      assert.deepEqual(
        { full: t.full, textOnly: t.textOnly, wrongLetter: t.wrongLetter, evidenceWrong: t.evidenceWrong, strip: t.strip, stripSwapped: t.stripSwapped },
        { full: t.total, textOnly: t.total, wrongLetter: t.total, evidenceWrong: 0, strip: t.total, stripSwapped: t.total },
      );
    });
  }
});
