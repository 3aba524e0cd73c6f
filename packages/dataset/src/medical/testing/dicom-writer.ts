import { deflateRawSync } from 'node:zlib';

/** What {@link writeDicom} puts into a synthetic DICOM Part 10 file (test fixtures only). */
export interface SyntheticDicom {
  transferSyntax?: string;
  rows: number;
  cols: number;
  frames?: number;
  bitsAllocated: 8 | 16;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  photometric?: string;
  samplesPerPixel?: number;
  planarConfiguration?: 0 | 1;
  /** Stored sample values in file order (already masked / two's complement as the file should hold them). */
  pixels: ArrayLike<number>;
  rescaleSlope?: number;
  rescaleIntercept?: number;
  windowCenter?: number;
  windowWidth?: number;
  pixelPaddingValue?: number;
  modality?: string;
  /** SeriesInstanceUID (0020,000E). */
  seriesInstanceUid?: string;
  /** PatientID (0010,0020). */
  patientId?: string;
  /** Write the pixels as an encapsulated (compressed-style) fragment sequence. */
  encapsulated?: boolean;
  /** Already-compressed frames, written as encapsulated pixel data, one fragment per frame (`pixels` is then ignored). */
  fragments?: Uint8Array[];
  /** With `fragments`: fill the basic offset table (default: leave it empty). */
  offsetTable?: boolean;
  /** Leave out the pixel data element. */
  omitPixelData?: boolean;
}

interface El {
  group: number;
  element: number;
  vr: string;
  value: Uint8Array;
  undefinedLength?: boolean;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

function text(s: string, pad: string): Uint8Array {
  const padded = s.length % 2 ? s + pad : s;
  return Uint8Array.from(padded, (ch) => ch.charCodeAt(0));
}

function u16(v: number, le: boolean): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v & 0xffff, le);
  return b;
}

function encode(els: El[], explicit: boolean, le: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const el of [...els].sort((a, b) => a.group - b.group || a.element - b.element)) {
    const head = new DataView(new ArrayBuffer(12));
    head.setUint16(0, el.group, le);
    head.setUint16(2, el.element, le);
    const len = el.undefinedLength ? 0xffffffff : el.value.length;
    let n: number;
    if (!explicit) {
      head.setUint32(4, len, le);
      n = 8;
    } else if (LONG_VRS.has(el.vr)) {
      head.setUint8(4, el.vr.charCodeAt(0));
      head.setUint8(5, el.vr.charCodeAt(1));
      head.setUint32(8, len, le);
      n = 12;
    } else {
      head.setUint8(4, el.vr.charCodeAt(0));
      head.setUint8(5, el.vr.charCodeAt(1));
      head.setUint16(6, len, le);
      n = 8;
    }
    parts.push(new Uint8Array(head.buffer, 0, n), el.value);
  }
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function pixelBytes(d: SyntheticDicom, le: boolean): Uint8Array {
  const bytesPer = d.bitsAllocated / 8;
  const out = new Uint8Array(d.pixels.length * bytesPer + ((d.pixels.length * bytesPer) % 2));
  const view = new DataView(out.buffer);
  for (let i = 0; i < d.pixels.length; i++) {
    if (bytesPer === 1) view.setUint8(i, d.pixels[i]! & 0xff);
    else view.setUint16(i * 2, d.pixels[i]! & 0xffff, le);
  }
  return out;
}

function encapsulate(frame: Uint8Array): Uint8Array {
  const item = (tagElement: number, body: Uint8Array): Uint8Array => {
    const head = new DataView(new ArrayBuffer(8));
    head.setUint16(0, 0xfffe, true);
    head.setUint16(2, tagElement, true);
    head.setUint32(4, body.length, true);
    return concat([new Uint8Array(head.buffer), body]);
  };
  // Empty basic offset table, one fragment that starts like a JPEG stream, then the sequence delimiter.
  const fragment = concat([Uint8Array.of(0xff, 0xd8, 0xff, 0xe0), frame.subarray(0, frame.length - (frame.length % 2))]);
  return concat([item(0xe000, new Uint8Array(0)), item(0xe000, fragment), item(0xe0dd, new Uint8Array(0))]);
}

function item(tagElement: number, body: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(8));
  head.setUint16(0, 0xfffe, true);
  head.setUint16(2, tagElement, true);
  head.setUint32(4, body.length, true);
  return concat([new Uint8Array(head.buffer), body]);
}

/** Compressed frames as an encapsulated pixel data value: offset table item, one fragment per frame (padded to even length), delimiter. */
function encapsulateFrames(frames: Uint8Array[], offsetTable: boolean): Uint8Array {
  const items = frames.map((f) => item(0xe000, f.length % 2 ? concat([f, Uint8Array.of(0)]) : f));
  const offsets = new Uint8Array(offsetTable ? 4 * frames.length : 0);
  let at = 0;
  items.forEach((it, k) => {
    if (offsetTable) new DataView(offsets.buffer).setUint32(4 * k, at, true);
    at += it.length;
  });
  return concat([item(0xe000, offsets), ...items, item(0xe0dd, new Uint8Array(0))]);
}

/** Encodes a synthetic single- or multi-frame DICOM Part 10 file in the given transfer syntax (for tests). */
export function writeDicom(d: SyntheticDicom): Uint8Array {
  const ts = d.transferSyntax ?? EXPLICIT_LE;
  const le = ts !== '1.2.840.10008.1.2.2';
  const explicit = ts !== '1.2.840.10008.1.2';
  const signed = d.pixelRepresentation === 1;
  const us = (v: number): Uint8Array => u16(v, le);
  const els: El[] = [
    { group: 0x0008, element: 0x0016, vr: 'UI', value: text('1.2.840.10008.5.1.4.1.1.7', '\0') },
    { group: 0x0008, element: 0x0060, vr: 'CS', value: text(d.modality ?? 'OT', ' ') },
    { group: 0x0028, element: 0x0002, vr: 'US', value: us(d.samplesPerPixel ?? 1) },
    { group: 0x0028, element: 0x0004, vr: 'CS', value: text(d.photometric ?? 'MONOCHROME2', ' ') },
    { group: 0x0028, element: 0x0010, vr: 'US', value: us(d.rows) },
    { group: 0x0028, element: 0x0011, vr: 'US', value: us(d.cols) },
    { group: 0x0028, element: 0x0100, vr: 'US', value: us(d.bitsAllocated) },
    { group: 0x0028, element: 0x0101, vr: 'US', value: us(d.bitsStored ?? d.bitsAllocated) },
    { group: 0x0028, element: 0x0102, vr: 'US', value: us((d.bitsStored ?? d.bitsAllocated) - 1) },
    { group: 0x0028, element: 0x0103, vr: 'US', value: us(d.pixelRepresentation ?? 0) },
  ];
  if (d.patientId !== undefined) els.push({ group: 0x0010, element: 0x0020, vr: 'LO', value: text(d.patientId, ' ') });
  if (d.seriesInstanceUid !== undefined) els.push({ group: 0x0020, element: 0x000e, vr: 'UI', value: text(d.seriesInstanceUid, '\0') });
  if (d.frames !== undefined) els.push({ group: 0x0028, element: 0x0008, vr: 'IS', value: text(String(d.frames), ' ') });
  if (d.planarConfiguration !== undefined) els.push({ group: 0x0028, element: 0x0006, vr: 'US', value: us(d.planarConfiguration) });
  if (d.pixelPaddingValue !== undefined) els.push({ group: 0x0028, element: 0x0120, vr: signed ? 'SS' : 'US', value: us(d.pixelPaddingValue) });
  if (d.windowCenter !== undefined) els.push({ group: 0x0028, element: 0x1050, vr: 'DS', value: text(String(d.windowCenter), ' ') });
  if (d.windowWidth !== undefined) els.push({ group: 0x0028, element: 0x1051, vr: 'DS', value: text(String(d.windowWidth), ' ') });
  if (d.rescaleIntercept !== undefined) els.push({ group: 0x0028, element: 0x1052, vr: 'DS', value: text(String(d.rescaleIntercept), ' ') });
  if (d.rescaleSlope !== undefined) els.push({ group: 0x0028, element: 0x1053, vr: 'DS', value: text(String(d.rescaleSlope), ' ') });
  if (!d.omitPixelData) {
    const raw = d.fragments ? new Uint8Array(0) : pixelBytes(d, le);
    els.push(
      d.fragments
        ? { group: 0x7fe0, element: 0x0010, vr: 'OB', value: encapsulateFrames(d.fragments, Boolean(d.offsetTable)), undefinedLength: true }
        : d.encapsulated
        ? { group: 0x7fe0, element: 0x0010, vr: 'OB', value: encapsulate(raw), undefinedLength: true }
        : { group: 0x7fe0, element: 0x0010, vr: d.bitsAllocated === 8 ? 'OB' : 'OW', value: raw },
    );
  }
  let body = encode(els, explicit, le);
  if (ts === '1.2.840.10008.1.2.1.99') body = new Uint8Array(deflateRawSync(body));
  const metaEls: El[] = [
    { group: 0x0002, element: 0x0001, vr: 'OB', value: Uint8Array.of(0, 1) },
    { group: 0x0002, element: 0x0002, vr: 'UI', value: text('1.2.840.10008.5.1.4.1.1.7', '\0') },
    { group: 0x0002, element: 0x0003, vr: 'UI', value: text('1.2.3.4.5.6.7', '\0') },
    { group: 0x0002, element: 0x0010, vr: 'UI', value: text(ts, '\0') },
  ];
  const metaBody = encode(metaEls, true, true);
  const groupLength = new DataView(new ArrayBuffer(4));
  groupLength.setUint32(0, metaBody.length, true);
  const metaHead = encode([{ group: 0x0002, element: 0x0000, vr: 'UL', value: new Uint8Array(groupLength.buffer) }], true, true);
  const preamble = new Uint8Array(132);
  preamble.set([0x44, 0x49, 0x43, 0x4d], 128);
  return concat([preamble, metaHead, metaBody, body]);
}
