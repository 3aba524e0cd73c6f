import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Judge, JudgeInput } from '../contracts/judge.js';
import { isOptionLetter } from '../domain.js';
import { FIXTURE_SAMPLE } from './fixtures.js';

/** Options for {@link describeJudgeContract}. */
export interface JudgeContractOptions {
  /** Minimum fraction of explicit reasonings ("so the answer is (X) text") the judge must get right. Default 1. */
  minExplicitAccuracy?: number;
}

/** Reasonings that each conclude with one option, named by letter and text. */
export function explicitJudgeInputs(): Array<JudgeInput & { expected: string }> {
  const { question, options } = FIXTURE_SAMPLE;
  return options.map((text, i) => {
    const letter = 'ABCD'[i]!;
    return {
      question,
      options,
      think: `The appearance of the image is characteristic, so the answer is (${letter}) ${text}.`,
      expected: letter,
    };
  });
}

/** The conformance suite every judge plugin runs in its own tests. */
export function describeJudgeContract(
  label: string,
  factory: () => Judge | Promise<Judge>,
  options: JudgeContractOptions = {},
): void {
  const minAccuracy = options.minExplicitAccuracy ?? 1;
  describe(`judge contract: ${label}`, () => {
    it('has a non-empty name', async () => {
      const judge = await factory();
      assert.ok(typeof judge.name === 'string' && judge.name.length > 0);
    });

    it('returns one letter or null per input', async () => {
      const judge = await factory();
      const inputs: JudgeInput[] = [
        ...explicitJudgeInputs(),
        { question: FIXTURE_SAMPLE.question, options: FIXTURE_SAMPLE.options, think: '' },
        { question: FIXTURE_SAMPLE.question, options: FIXTURE_SAMPLE.options, think: 'no idea at all' },
      ];
      const out = await judge.deduce(inputs);
      assert.equal(out.length, inputs.length);
      for (const d of out) assert.ok(d === null || isOptionLetter(d), `bad deduction ${String(d)}`);
    });

    it('deduces the option an explicit reasoning concludes', async () => {
      const judge = await factory();
      const inputs = explicitJudgeInputs();
      const out = await judge.deduce(inputs);
      const right = out.filter((d, i) => d === inputs[i]!.expected).length;
      assert.ok(right / inputs.length >= minAccuracy, `only ${right}/${inputs.length} explicit reasonings deduced`);
    });

    it('handles an empty batch', async () => {
      const judge = await factory();
      assert.deepEqual(await judge.deduce([]), []);
    });
  });
}
