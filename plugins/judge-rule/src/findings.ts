import { OPTION_LETTERS, phrasePattern, spansOf, type JudgeInput, type OptionLetter } from '@medad/core';
import { findMentions, isNegated, type MentionOptions } from './mentions.js';

/**
 * What a reasoning's findings say about each option: lower-case option text → regular
 * expressions (case-insensitive, matched as whole words) for the look, place or count that point
 * to it. Written for the benchmark's vocabulary (`@medad/dataset`'s option sets and evidence
 * sentences) and their common paraphrases; a cue only counts for options the question offers.
 */
export const BUILTIN_FINDINGS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // modality_classification
  mri: [String.raw`bright\s+fluid`, String.raw`fluid\s+(?:is\s+)?bright`, String.raw`intensity\s+bias`, String.raw`bias\s+field`, String.raw`t2[\s-]*weighted`],
  'ce-mri': [String.raw`fluid\s+(?:is\s+)?dark`, String.raw`dark\s+fluid`, String.raw`(?:brightly\s+)?enhancing`, 'enhancement', 'enhances', String.raw`gadolinium`],
  ct: [String.raw`(?:very\s+)?bright\s+(?:cortical\s+)?bone`, String.raw`bone\s+(?:is\s+)?(?:very\s+)?bright`, String.raw`black\s+air`, 'hounsfield'],
  oct: [String.raw`horizontal\s+layers`, String.raw`grainy\s+streaks`, String.raw`layered\s+cross[\s-]*section`],
  ultrasound: [String.raw`fan[\s-]*shaped`, String.raw`(?:granular\s+)?speckle`, String.raw`darkens\s+with\s+depth`, String.raw`acoustic\s+shadow(?:ing)?`],
  dermoscopy: [String.raw`round\s+lens`, String.raw`vignett(?:ed|ing)(?:\s+corners)?`, String.raw`skin[\s-]*colou?red\s+surface`, String.raw`close[\s-]*up\s+of\s+(?:the\s+)?skin`],
  endoscopy: [String.raw`mucosal\s+surface`, String.raw`black[\s-]*bordered(?:\s+view)?`, String.raw`(?:white\s+)?light\s+reflections?`, String.raw`specular\s+highlights?`],
  'fundus photography': [String.raw`orange[\s-]*red\s+disc`, String.raw`dark\s+red\s+vessels`],
  'x-ray': [String.raw`projection\s+(?:image|shadows?|radiograph)`, String.raw`corner\s+marker`, String.raw`white\s+dense\s+structures`],
  microscopy: [String.raw`stained(?:\s+tissue)?`, String.raw`purple\s+nuclei`, String.raw`h\s*&\s*e`],
  // anatomy_identification (all views: sections, histology, surface photos, OCT)
  brain: ['skull', 'ventricles?', String.raw`folded\s+tissue`, 'gyri', 'sulci'],
  lung: [String.raw`air[\s-]*filled\s+fields?`, 'mediastinum', String.raw`air\s+spaces`, 'alveol(?:i|ar)', String.raw`(?:cellular\s+)?septa`],
  heart: ['chambers', String.raw`muscular\s+wall`, 'myocardium', 'ventricular'],
  liver: [String.raw`wedge[\s-]*shaped\s+organ`, String.raw`central\s+vein`, String.raw`cords\s+of\s+(?:pink\s+)?cells`, 'hepatocytes?'],
  kidney: [String.raw`bean[\s-]*shaped`, 'medulla', 'glomerul(?:ar|i|us)', String.raw`tubular\s+rings`, String.raw`renal`],
  breast: [String.raw`dome[\s-]*shaped`, 'fibroglandular', String.raw`fat\s+cells`, String.raw`(?:a\s+)?duct\s+lined`, 'mammary'],
  knee: [String.raw`bone\s+ends`, String.raw`joint\s+space`, 'femur', 'tibia', 'patella'],
  retina: ['retinal', String.raw`optic\s+disc`, 'foveal?'],
  skin: [String.raw`skin\s+surface`, String.raw`pigment(?:\s+network)?`, 'hairs?', String.raw`dermal(?:\s+fibres)?`, String.raw`bright\s+surface\s+line`, 'epidermis'],
  colon: [String.raw`tubular\s+lumen`, String.raw`ring[\s-]*shaped\s+folds`, 'crypts?', String.raw`mucosal\s+tube`, 'haustra'],
  // pathology_characterization
  cyst: [String.raw`thin\s+(?:bright\s+)?rim`, String.raw`(?:round\s+)?dark\s+lesion`, String.raw`fluid[\s-]*filled`],
  'benign tumor': [String.raw`uniformly\s+bright`, String.raw`sharp\s+margin`, String.raw`well[\s-]*(?:defined|circumscribed)`],
  'malignant tumor': ['spiculated', String.raw`irregular\s+bright\s+mass`, String.raw`uneven\s+content`, 'infiltrative'],
  abscess: [String.raw`thick\s+(?:bright\s+)?ring`, String.raw`dark\s+cent(?:re|er)`, String.raw`ring[\s-]*enhancing`],
  calcification: [String.raw`(?:tiny\s+)?(?:very\s+)?bright\s+dots`, String.raw`tiny\s+dots`, 'punctate'],
  infarct: ['lobulated', String.raw`irregular\s+dark\s+area`, String.raw`wedge\s+of\s+dark`],
  // anomaly_detection
  'no abnormality': [String.raw`expected\s+texture`, String.raw`no\s+focal\s+or\s+diffuse\s+change`, String.raw`no\s+(?:focal\s+)?(?:lesions?|abnormalit(?:y|ies))`, 'unremarkable'],
  'a single focal lesion': [String.raw`(?:one|a\s+single|a\s+solitary|single)\s+(?:discrete\s+)?(?:focal\s+)?lesion`],
  'multiple focal lesions': [String.raw`(?:several|multiple|numerous|many|two|three|four)\s+(?:separate\s+|discrete\s+|distinct\s+)?(?:focal\s+)?lesions`],
  'a diffuse abnormality': [String.raw`ill[\s-]*defined`, String.raw`altered\s+texture`, String.raw`diffuse(?:ly)?\s+(?:altered|abnormal|change)`],
  // lesion_localization: a vertical and a horizontal side in one clause, or the middle third
  'left upper': [String.raw`(?:upper|top|superior)\b[^,;.]{0,24}?\bleft`, String.raw`left\b[^,;.]{0,24}?\b(?:upper|top|superior)`],
  'right upper': [String.raw`(?:upper|top|superior)\b[^,;.]{0,24}?\bright`, String.raw`right\b[^,;.]{0,24}?\b(?:upper|top|superior)`],
  'left lower': [String.raw`(?:lower|bottom|inferior)\b[^,;.]{0,24}?\bleft`, String.raw`left\b[^,;.]{0,24}?\b(?:lower|bottom|inferior)`],
  'right lower': [String.raw`(?:lower|bottom|inferior)\b[^,;.]{0,24}?\bright`, String.raw`right\b[^,;.]{0,24}?\b(?:lower|bottom|inferior)`],
  center: [String.raw`(?:middle|central)\s+third`, String.raw`(?:cent(?:re|er)|middle)\s+of\s+the\s+image`],
});

/** Settings of {@link deduceFromFindings}. */
export interface FindingsOptions extends MentionOptions {
  /** Findings cues per lower-case option text, as regular-expression sources (whole words, case-insensitive). */
  findings: Readonly<Record<string, readonly string[]>>;
}

const WORD = String.raw`[\p{L}\p{N}]`;

interface Cue {
  index: number;
  start: number;
  end: number;
}

function cueSpans(text: string, options: readonly string[], findings: FindingsOptions['findings']): Cue[] {
  const out: Cue[] = [];
  options.slice(0, OPTION_LETTERS.length).forEach((option, index) => {
    for (const source of findings[option.trim().toLowerCase()] ?? []) {
      for (const m of spansOf(String.raw`(?<!${WORD})(?:${source})(?!${WORD})`, text)) out.push({ index, ...m });
    }
  });
  return out;
}

/** User-given findings phrases as cue sources ({@link phrasePattern}: hyphen/space tolerant, optional plural). */
export function phraseCues(phrases: Readonly<Record<string, readonly string[]>>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(phrases)) out[k.trim().toLowerCase()] = v.map((p) => phrasePattern(p)).filter((p): p is string => p !== null);
  return out;
}

/**
 * The option a reasoning's findings point to, or null when they point to none or to several
 * equally. Reads the text it is given (the caller strips the conclusion): every findings cue
 * ({@link BUILTIN_FINDINGS}) and every option text named counts one for its option; a match
 * inside a longer one is dropped ("no focal or diffuse change" is not "diffuse"), and negated
 * ones ("not MRI", "outside the central third") do not count. Letters never count.
 */
export function deduceFromFindings(input: JudgeInput, options: FindingsOptions): OptionLetter | null {
  const text = input.think.normalize('NFKC');
  if (!text.trim()) return null;
  const named: Cue[] = findMentions(text, input.options, options)
    .filter((m) => m.kind !== 'letter' && !m.negated && m.letter !== null)
    .map((m) => ({ index: OPTION_LETTERS.indexOf(m.letter!), start: m.start, end: m.end }));
  const all = [...named, ...cueSpans(text, input.options, options.findings)];
  all.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Cue[] = [];
  for (const c of all) if (!kept.some((k) => c.start < k.end && k.start < c.end)) kept.push(c);
  const score = new Array<number>(Math.min(input.options.length, OPTION_LETTERS.length)).fill(0);
  for (const c of kept) {
    if (c.index < 0 || c.index >= score.length) continue;
    if (options.negation && isNegated(text, c.start, c.end)) continue;
    score[c.index]!++;
  }
  const best = Math.max(0, ...score);
  if (best === 0 || score.filter((s) => s === best).length > 1) return null;
  return OPTION_LETTERS[score.indexOf(best)]!;
}
