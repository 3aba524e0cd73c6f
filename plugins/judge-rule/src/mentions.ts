import { OPTION_LETTERS, findOptionTexts, type OptionLetter } from '@medad/core';

/** Where a reasoning names an option: by its letter, its text, or both side by side ("(C) CT"). */
export interface OptionMention {
  /** The option the mention stands for; null for a letter/text pair that disagree under the `null` policy. */
  letter: OptionLetter | null;
  start: number;
  end: number;
  kind: 'letter' | 'text' | 'pair';
  /** True when the mention is negated ("not MRI", "rather than CT", "MRI is ruled out"). */
  negated: boolean;
}

/** What to do when a letter and the text beside it name different options ("(A) CT" with A = MRI). */
export type ConflictPolicy = 'text' | 'letter' | 'null';

/** Settings for {@link findMentions}. */
export interface MentionOptions {
  /** Extra names per option text, lower-case option text → aliases. */
  aliases: Readonly<Record<string, readonly string[]>>;
  negation: boolean;
  onConflict: ConflictPolicy;
}

/** Common synonyms of the benchmark's option texts (lower-case option text → aliases). */
export const BUILTIN_ALIASES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'x-ray': ['radiograph', 'radiography', 'radiographic', 'plain film'],
  ultrasound: ['sonography', 'sonographic', 'ultrasonography', 'ultrasonographic'],
  mri: ['magnetic resonance', 'mr imaging'],
  'ce-mri': ['contrast-enhanced mri', 'contrast enhanced mri', 'contrast-enhanced magnetic resonance'],
  ct: ['computed tomography'],
  oct: ['optical coherence tomography'],
  // not "centre": "the lesion's centre lies in the upper half" names a point, not the region
  center: ['central', 'centrally'],
  microscopy: ['microscopic', 'histology', 'histological', 'histopathology'],
  dermoscopy: ['dermatoscopy', 'dermoscopic', 'dermatoscopic'],
  endoscopy: ['endoscopic', 'colonoscopy', 'colonoscopic'],
  fundus: ['fundus photograph', 'fundoscopy', 'funduscopic'],
});

const WORD = String.raw`[\p{L}\p{N}]`;
const CLAUSE_BREAK = /[,;:.!?\n]/;
const CLAUSE_WORDS = new Set(['but', 'while', 'whereas', 'although', 'though', 'however', 'so', 'therefore', 'thus', 'hence', 'because', 'and', 'yet']);
const NEGATORS = new Set([
  'not', 'no', 'never', 'without', 'neither', 'nor', 'unlike', 'excluding', 'exclude', 'excludes', 'against',
  'than', 'instead', "isn't", "wasn't", "aren't", "doesn't", "don't", 'cannot', "can't", 'lack', 'lacks',
  'lacking', 'absence', 'absent', 'none', 'nothing', 'outside', 'beyond',
]);
const RULE_VERBS = new Set(['rule', 'rules', 'ruled', 'ruling']);
// Words a negation reaches across ("not typical of CT"); any other word ends its scope, so in
// "no bright bone is visible on this MRI" the "no" does not negate MRI.
const FILLERS = new Set([
  'a', 'an', 'the', 'this', 'that', 'these', 'those', 'it', 'its', 'is', 'be', 'being', 'been', 'was', 'are',
  'were', 'to', 'of', 'with', 'like', 'for', 'from', 'in', 'on', 'at', 'as', 'by', 'consistent', 'typical',
  'characteristic', 'suggestive', 'indicative', 'compatible', 'representative', 'likely', 'probably',
  'necessarily', 'option', 'choice', 'answer', 'image', 'images', 'imaging', 'modality', 'scan', 'study',
  'region', 'area', 'quadrant', 'located', 'seen', 'feature', 'features', 'sign', 'signs', 'evidence',
  'appearance', 'pattern', 'finding', 'findings', 'type', 'kind', 'look', 'looks', 'resemble', 'resembles',
  'show', 'shows', 'suggest', 'suggests', 'indicate', 'indicates', 'represent', 'represents', 'match',
  'matches', 'fit', 'fits', 'appear', 'appears', 'seem', 'seems', 'does', 'do', 'did', 'would', 'could',
  'should', 'can', 'may', 'might', 'one', 'really', 'clearly', 'definitely', 'either', 'any', 'out',
]);
const LESSER = new Set(['less', 'fewer', 'worse', 'weaker']);
const MAX_SCOPE_WORDS = 7;
const POST_NEGATION = new RegExp(
  String.raw`^\s*(?:(?:is|was|are|were|can|could|would|should|must|be|been|being|seems?|appears?|looks?|also|definitely|clearly|therefore|thus|hence|now)\s+){0,3}` +
    String.raw`(?:not|unlikely|excluded|ruled\s+out|less\s+likely|incorrect|wrong|implausible|inconsistent)(?!${WORD})`,
  'iu',
);
const LETTER_PATTERNS: RegExp[] = [
  // "(C)" or "[c]"
  new RegExp(String.raw`[(\[]\s*([A-Da-d])\s*[)\]]`, 'gu'),
  // "option C", "choice b", "letter D"
  new RegExp(String.raw`(?<!${WORD})(?:option|choice|letter)\s+\(?([A-Da-d])(?!${WORD})`, 'giu'),
  // "the answer is C", "answer: B" (upper-case only: "the answer is a lesion" names no option)
  new RegExp(String.raw`(?<!${WORD})answer\s*(?:is|would\s+be|should\s+be|must\s+be|will\s+be|[:=\-])\s*\(?([A-D])(?!${WORD})`, 'giu'),
];

interface Span {
  index: number;
  start: number;
  end: number;
}

function letterSpans(think: string, optionCount: number): Span[] {
  const found: Span[] = [];
  for (const re of LETTER_PATTERNS) {
    for (const m of think.matchAll(re)) {
      const index = OPTION_LETTERS.indexOf(m[1]!.toUpperCase() as OptionLetter);
      if (index < 0 || index >= optionCount) continue;
      if (!found.some((f) => m.index < f.end && f.start < m.index + m[0].length)) found.push({ index, start: m.index, end: m.index + m[0].length });
    }
  }
  return found;
}

const LIST_GAP = /^\s*(?:,\s*(?:or\s+|nor\s+)?|or\s+|nor\s+)$/i;
const PAIR_GAP = /^[\s:.\-–—)(]{0,4}$/;

function resolvePair(letter: Span, text: Span, onConflict: ConflictPolicy): number | null {
  if (letter.index === text.index) return letter.index;
  if (onConflict === 'null') return null;
  return onConflict === 'letter' ? letter.index : text.index;
}

interface RawMention {
  index: number | null;
  start: number;
  end: number;
  kind: OptionMention['kind'];
}

function pairUp(think: string, letters: Span[], texts: Span[], onConflict: ConflictPolicy): RawMention[] {
  const out: RawMention[] = [];
  const usedText = new Set<Span>();
  const usedLetter = new Set<Span>();
  const gap = (a: Span, b: Span) => b.start >= a.end && PAIR_GAP.test(think.slice(a.end, b.start));
  // "(C) CT" first, then "CT (C)".
  for (const l of letters) {
    const t = texts.find((x) => !usedText.has(x) && gap(l, x));
    if (!t) continue;
    usedText.add(t);
    usedLetter.add(l);
    out.push({ index: resolvePair(l, t, onConflict), start: l.start, end: t.end, kind: 'pair' });
  }
  for (const t of texts) {
    if (usedText.has(t)) continue;
    const l = letters.find((x) => !usedLetter.has(x) && gap(t, x));
    if (!l) continue;
    usedText.add(t);
    usedLetter.add(l);
    out.push({ index: resolvePair(l, t, onConflict), start: t.start, end: l.end, kind: 'pair' });
  }
  for (const l of letters) if (!usedLetter.has(l)) out.push({ index: l.index, start: l.start, end: l.end, kind: 'letter' });
  for (const t of texts) if (!usedText.has(t)) out.push({ index: t.index, start: t.start, end: t.end, kind: 'text' });
  return out.sort((a, b) => a.start - b.start);
}

function clauseBefore(think: string, start: number): string[] {
  let i = start;
  while (i > 0 && !CLAUSE_BREAK.test(think[i - 1]!)) i--;
  const words = think
    .slice(i, start)
    .toLowerCase()
    .replace(/[()[\]"“”]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
  const cut = words.map((w) => CLAUSE_WORDS.has(w)).lastIndexOf(true);
  return cut >= 0 ? words.slice(cut + 1) : words;
}

function clauseAfter(think: string, end: number): string {
  let i = end;
  while (i < think.length && !CLAUSE_BREAK.test(think[i]!)) i++;
  return think.slice(end, i);
}

/** True when the words before a mention (same clause) or right after it negate it. */
export function isNegated(think: string, start: number, end: number): boolean {
  const before = clauseBefore(think, start);
  for (let k = before.length - 1, seen = 0; k >= 0 && seen < MAX_SCOPE_WORDS; k--, seen++) {
    const w = before[k]!;
    // "MRI is less likely than CT" favours CT; "CT rather than MRI" rejects MRI.
    if (w === 'than' && before.slice(Math.max(0, k - 3), k).some((x) => LESSER.has(x))) return false;
    if (NEGATORS.has(w)) return true;
    if (w === 'out' && k > 0 && RULE_VERBS.has(before[k - 1]!)) return true;
    if (!FILLERS.has(w)) break;
  }
  return POST_NEGATION.test(clauseAfter(think, end));
}

/** Every place the reasoning names an option, in reading order, with pairs merged and negation marked. */
export function findMentions(think: string, options: readonly string[], settings: MentionOptions): OptionMention[] {
  const text = think.normalize('NFKC');
  const raw = pairUp(text, letterSpans(text, options.length), findOptionTexts(text, options, { aliases: settings.aliases }), settings.onConflict);
  const mentions: OptionMention[] = raw.map((m) => ({
    letter: m.index === null ? null : OPTION_LETTERS[m.index]!,
    start: m.start,
    end: m.end,
    kind: m.kind,
    negated: settings.negation ? isNegated(text, m.start, m.end) : false,
  }));
  // A negation covers the list it starts: "not MRI, CE-MRI or CT".
  for (let i = 1; i < mentions.length; i++) {
    const prev = mentions[i - 1]!;
    if (prev.negated && LIST_GAP.test(text.slice(prev.end, mentions[i]!.start))) mentions[i]!.negated = true;
  }
  return mentions;
}
