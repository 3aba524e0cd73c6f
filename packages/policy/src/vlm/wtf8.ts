/**
 * WTF-8: UTF-8 that also encodes lone UTF-16 surrogates (as 3-byte sequences), so every
 * JavaScript string, even an ill-formed one, survives the tokenizer's byte fallback exactly.
 */
export function wtf8Encode(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return out;
}

/** Decodes WTF-8 bytes; a malformed sequence becomes U+FFFD per bad byte. */
export function wtf8Decode(bytes: readonly number[]): string {
  let s = '';
  let i = 0;
  const cont = (k: number): number => {
    const b = bytes[k];
    return b !== undefined && (b & 0xc0) === 0x80 ? b & 63 : -1;
  };
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    let cp = -1;
    let len = 1;
    if (b0 < 0x80) cp = b0;
    else if (b0 >= 0xc2 && b0 < 0xe0) {
      const c1 = cont(i + 1);
      if (c1 >= 0) { cp = ((b0 & 31) << 6) | c1; len = 2; }
    } else if (b0 >= 0xe0 && b0 < 0xf0) {
      const c1 = cont(i + 1), c2 = cont(i + 2);
      if (c1 >= 0 && c2 >= 0) {
        const v = ((b0 & 15) << 12) | (c1 << 6) | c2;
        if (v >= 0x800) { cp = v; len = 3; }
      }
    } else if (b0 >= 0xf0 && b0 < 0xf5) {
      const c1 = cont(i + 1), c2 = cont(i + 2), c3 = cont(i + 3);
      if (c1 >= 0 && c2 >= 0 && c3 >= 0) {
        const v = ((b0 & 7) << 18) | (c1 << 12) | (c2 << 6) | c3;
        if (v >= 0x10000 && v <= 0x10ffff) { cp = v; len = 4; }
      }
    }
    if (cp < 0) { s += '\ufffd'; i += 1; continue; }
    s += cp >= 0x10000 ? String.fromCodePoint(cp) : String.fromCharCode(cp);
    i += len;
  }
  return s;
}
