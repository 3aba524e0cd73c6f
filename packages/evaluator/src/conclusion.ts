import { lastNamedOption, type OptionLetter } from '@medad/core';

/**
 * The option a reasoning concludes, judged from the option *texts* it names (not letters): the
 * option whose text is mentioned last (`lastNamedOption` in @medad/core: whole words, longer texts
 * win, so "CE-MRI" is not "MRI"). Used for think-correctness: does the reasoning name the right finding?
 */
export function concludedOption(think: string | null, options: readonly string[]): OptionLetter | null {
  return lastNamedOption(think, options);
}
