import { ErrorCode, MedadError } from '@medad/core';
import { wtf8Decode, wtf8Encode } from './wtf8.js';

/** The special tokens, with fixed ids 0..8 in this order. */
export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>', '<image>', '<think>', '</think>', '<answer>', '</answer>'] as const;
/** A special token string. */
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

/** Fixed ids of the special tokens. */
export const SPECIAL_IDS = Object.freeze({
  pad: 0, bos: 1, eos: 2, unk: 3, image: 4, thinkOpen: 5, thinkClose: 6, answerOpen: 7, answerClose: 8,
});

const BYTE_BASE = SPECIAL_TOKENS.length;
const BYTE_COUNT = 256;
const FIRST_LEARNED = BYTE_BASE + BYTE_COUNT;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * Pre-tokenizer: special tokens (a space before one stays its own piece), then words / numbers / single punctuation marks that carry an
 * optional leading space, then any single whitespace character; `[\s\S]` guarantees coverage.
 */
const SPECIAL_ALT = SPECIAL_TOKENS.map(escapeRegex).join('|');
const PIECE = new RegExp(
  `${SPECIAL_ALT}| (?=${SPECIAL_ALT})| ?[\\p{L}\\p{M}]+| ?\\p{N}+| ?[^\\s\\p{L}\\p{M}\\p{N}]|[\\s\\S]`,
  'gu',
);

/** Splits text into pre-tokenizer pieces (their concatenation is the text). */
export function pretokenize(text: string): string[] {
  return text.match(PIECE) ?? [];
}

/** Options for {@link WordTokenizer.train}. */
export interface TokenizerTrainOptions {
  /** Most learned entries (characters + pieces) to keep; default 4000. */
  maxVocab?: number;
  /** A piece enters the vocabulary when seen at least this often; default 2. */
  minCount?: number;
}

/** The JSON form of a tokenizer (`tokenizer.json`). */
export interface TokenizerJson {
  type: 'medad-word-tokenizer';
  version: 1;
  specials: string[];
  byteTokens: number;
  /** Learned entries (characters then pieces); entry i has id `specials.length + byteTokens + i`. */
  vocab: string[];
}

/**
 * A word/punctuation-level tokenizer with character and byte (WTF-8) fallback, so
 * `decode(encode(s)) === s` for every JavaScript string, and in-vocabulary text costs about
 * one token per word.
 */
export class WordTokenizer {
  private readonly idOf = new Map<string, number>();
  private readonly strings: string[];

  private constructor(readonly learned: readonly string[]) {
    this.strings = [...SPECIAL_TOKENS, ...Array.from({ length: BYTE_COUNT }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`), ...learned];
    learned.forEach((s, i) => this.idOf.set(s, FIRST_LEARNED + i));
    SPECIAL_TOKENS.forEach((s, i) => this.idOf.set(s, i));
  }

  /** Learns the vocabulary from a corpus (questions, options, CoTs); deterministic for a given corpus. */
  static train(texts: Iterable<string>, options: TokenizerTrainOptions = {}): WordTokenizer {
    const maxVocab = options.maxVocab ?? 4000;
    const minCount = options.minCount ?? 2;
    const specials = new Set<string>(SPECIAL_TOKENS);
    const pieceCounts = new Map<string, number>();
    const charCounts = new Map<string, number>();
    for (const text of texts) {
      for (const piece of pretokenize(text)) {
        if (specials.has(piece)) continue;
        pieceCounts.set(piece, (pieceCounts.get(piece) ?? 0) + 1);
        for (const ch of piece) charCounts.set(ch, (charCounts.get(ch) ?? 0) + 1);
      }
    }
    const byCount = (m: Map<string, number>): string[] =>
      [...m.entries()].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([s]) => s);
    const chars = [...charCounts.keys()].sort();
    const learned: string[] = [];
    const seen = new Set<string>();
    for (const c of chars) {
      if (learned.length >= maxVocab) break;
      learned.push(c);
      seen.add(c);
    }
    for (const p of byCount(pieceCounts)) {
      if (learned.length >= maxVocab) break;
      if (seen.has(p)) continue;
      learned.push(p);
      seen.add(p);
    }
    return new WordTokenizer(learned);
  }

  /** Rebuilds a tokenizer from its JSON; `where` names the file for errors. */
  static fromJSON(json: unknown, where = 'tokenizer.json'): WordTokenizer {
    const j = json as Partial<TokenizerJson> | null;
    if (!j || j.type !== 'medad-word-tokenizer' || j.version !== 1) {
      throw new MedadError(ErrorCode.InvalidData, `${where}: not a medad-word-tokenizer v1 file (type ${JSON.stringify(j?.type)}, version ${JSON.stringify(j?.version)})`, {
        fix: 'point to a tokenizer.json written by WordTokenizer.toJSON()',
      });
    }
    if (!Array.isArray(j.specials) || j.specials.join('\u0000') !== SPECIAL_TOKENS.join('\u0000') || j.byteTokens !== BYTE_COUNT) {
      throw new MedadError(ErrorCode.InvalidData, `${where}: field "specials" or "byteTokens" differs from this version's layout`, {
        fix: `expected specials ${SPECIAL_TOKENS.join(' ')} and byteTokens 256; re-train the tokenizer`,
      });
    }
    if (!Array.isArray(j.vocab) || j.vocab.some((v) => typeof v !== 'string' || v.length === 0)) {
      throw new MedadError(ErrorCode.InvalidData, `${where}: field "vocab" must be an array of non-empty strings`, {
        fix: 'restore the file from the checkpoint it came with',
      });
    }
    if (new Set(j.vocab).size !== j.vocab.length) {
      throw new MedadError(ErrorCode.InvalidData, `${where}: field "vocab" has duplicate entries`, { fix: 're-train the tokenizer' });
    }
    return new WordTokenizer(j.vocab);
  }

  /** The JSON form (`tokenizer.json`). */
  toJSON(): TokenizerJson {
    return { type: 'medad-word-tokenizer', version: 1, specials: [...SPECIAL_TOKENS], byteTokens: BYTE_COUNT, vocab: [...this.learned] };
  }

  /** Number of ids (specials + 256 bytes + learned entries). */
  get vocabSize(): number {
    return this.strings.length;
  }

  /** The id of a token string, or undefined when it is not in the vocabulary. */
  tokenId(token: string): number | undefined {
    return this.idOf.get(token);
  }

  /** The string of an id (byte tokens read `<0xNN>`). */
  idToToken(id: number): string {
    const s = this.strings[id];
    if (s === undefined) {
      throw new MedadError(ErrorCode.BadUserInput, `Token id ${id} is outside the vocabulary (size ${this.vocabSize})`, {
        fix: 'use ids produced by this tokenizer',
      });
    }
    return s;
  }

  /** Token ids of `text`; never produces `<unk>` (unknown characters fall back to bytes). */
  encode(text: string): number[] {
    const out: number[] = [];
    for (const piece of pretokenize(text)) this.encodePiece(piece, out);
    return out;
  }

  private encodePiece(piece: string, out: number[]): void {
    const id = this.idOf.get(piece);
    if (id !== undefined) {
      out.push(id);
      return;
    }
    if (piece.length > 1 && piece.startsWith(' ')) {
      const rest = this.idOf.get(piece.slice(1));
      const space = this.idOf.get(' ');
      if (rest !== undefined && space !== undefined) {
        out.push(space, rest);
        return;
      }
    }
    for (const ch of piece) {
      const cid = this.idOf.get(ch);
      if (cid !== undefined) out.push(cid);
      else for (const b of wtf8Encode(ch)) out.push(BYTE_BASE + b);
    }
  }

  /** The text of token ids (the exact inverse of {@link encode}). */
  decode(ids: readonly number[]): string {
    let text = '';
    let bytes: number[] = [];
    for (const id of ids) {
      if (id >= BYTE_BASE && id < FIRST_LEARNED) {
        bytes.push(id - BYTE_BASE);
        continue;
      }
      if (bytes.length) {
        text += wtf8Decode(bytes);
        bytes = [];
      }
      text += this.idToToken(id);
    }
    if (bytes.length) text += wtf8Decode(bytes);
    return text;
  }
}
