import { createRequire } from 'node:module';
import jpeg from 'jpeg-js';
import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';
import { DECOMPRESS_FIX } from './dicom-syntax.js';
import { invalidMedicalData, thrownText, unsupportedMedicalData } from './errors.js';

/**
 * Decoders of compressed DICOM pixel data (PS3.5 §8.2, Annex G): RLE Lossless (written here, it is
 * PackBits), JPEG Baseline (jpeg-js), JPEG Lossless (jpeg-lossless-decoder-js), JPEG-LS (CharLS), JPEG 2000 (OpenJPEG) and High-Throughput
 * JPEG 2000 (OpenJPH), the last three the WASM builds cornerstone maintains. Every decoder returns the frame's stored values as
 * little-endian bytes of `bitsAllocated` each, colour interleaved (RGB), which is what the native
 * path reads.
 */

/** Geometry of one frame. */
export interface FrameInfo {
  rows: number;
  cols: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  signed: boolean;
}

/** The compressed syntaxes decoded here, and whether the WASM codecs must be loaded first. */
export const DECODED_SYNTAXES: Readonly<Record<string, { codec: 'rle' | 'jpeg' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg2000' | 'htj2k'; colourDecoded: boolean }>> = Object.freeze({
  '1.2.840.10008.1.2.5': { codec: 'rle', colourDecoded: false },
  '1.2.840.10008.1.2.4.50': { codec: 'jpeg', colourDecoded: true },
  '1.2.840.10008.1.2.4.57': { codec: 'jpeg-lossless', colourDecoded: false },
  '1.2.840.10008.1.2.4.70': { codec: 'jpeg-lossless', colourDecoded: false },
  '1.2.840.10008.1.2.4.80': { codec: 'jpeg-ls', colourDecoded: false },
  '1.2.840.10008.1.2.4.81': { codec: 'jpeg-ls', colourDecoded: false },
  '1.2.840.10008.1.2.4.90': { codec: 'jpeg2000', colourDecoded: true },
  '1.2.840.10008.1.2.4.91': { codec: 'jpeg2000', colourDecoded: true },
  '1.2.840.10008.1.2.4.201': { codec: 'htj2k', colourDecoded: true },
  '1.2.840.10008.1.2.4.202': { codec: 'htj2k', colourDecoded: true },
  '1.2.840.10008.1.2.4.203': { codec: 'htj2k', colourDecoded: true },
});

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  getDecodedBuffer(): Uint8Array;
  delete?(): void;
}
interface WasmModule {
  J2KDecoder?: new () => WasmDecoder;
  JpegLSDecoder?: new () => WasmDecoder;
  HTJ2KDecoder?: new () => WasmDecoder;
}

let wasm: { jpegLs: WasmModule; jpeg2000: WasmModule; htj2k: WasmModule } | undefined;
let loading: Promise<void> | undefined;

/** Loads the WASM decoders (JPEG-LS, JPEG 2000, HTJ2K) once per process; RLE and JPEG Baseline need nothing. */
export function loadDicomCodecs(): Promise<void> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    // Each factory gets its own object: emscripten fills it as the module, so sharing one mixes their exports.
    const load = (name: string): Promise<WasmModule> => (require(name) as (o: object) => Promise<WasmModule>)({ print: () => undefined, printErr: () => undefined });
    const [jpegLs, jpeg2000, htj2k] = await Promise.all([load('@cornerstonejs/codec-charls/decodewasmjs'), load('@cornerstonejs/codec-openjpeg/decodewasmjs'), load('@cornerstonejs/codec-openjph/wasmjs')]);
    wasm = { jpegLs, jpeg2000, htj2k };
  })();
  return loading;
}

/** Whether a compressed syntax is decoded here now (the WASM ones after {@link loadDicomCodecs}). */
export function canDecode(transferSyntax: string): boolean {
  const d = DECODED_SYNTAXES[transferSyntax];
  if (!d) return false;
  return d.codec === 'rle' || d.codec === 'jpeg' || d.codec === 'jpeg-lossless' || wasm !== undefined;
}

/** Decodes one compressed frame into little-endian stored values (interleaved colour). */
export function decodeFrame(transferSyntax: string, bytes: Uint8Array, info: FrameInfo, path: string): Uint8Array {
  const d = DECODED_SYNTAXES[transferSyntax];
  if (!d || !canDecode(transferSyntax)) {
    throw unsupportedMedicalData(path, `transfer syntax ${transferSyntax} is not decoded here`, DECOMPRESS_FIX, { transferSyntax });
  }
  const expected = info.rows * info.cols * info.samplesPerPixel * (info.bitsAllocated / 8);
  let out: Uint8Array;
  try {
    if (d.codec === 'rle') out = decodeRle(bytes, info);
    else if (d.codec === 'jpeg') out = decodeJpegBaseline(bytes, info);
    else if (d.codec === 'jpeg-lossless') out = decodeJpegLossless(bytes, info);
    else out = decodeWasm(d.codec === 'jpeg-ls' ? wasm!.jpegLs.JpegLSDecoder! : d.codec === 'htj2k' ? wasm!.htj2k.HTJ2KDecoder! : wasm!.jpeg2000.J2KDecoder!, bytes, info);
  } catch (err) {
    if (err instanceof Error && 'code' in err) throw err;
    throw invalidMedicalData(path, `compressed pixel data could not be decoded (${d.codec}: ${thrownText(err)})`, 'check that the file is complete (re-export it), or decompress it with a DICOM toolkit', err);
  }
  if (out.length < expected) {
    throw invalidMedicalData(path, `a decoded ${d.codec} frame holds ${out.length} bytes, but ${info.rows}x${info.cols}x${info.samplesPerPixel} at ${info.bitsAllocated} bits need ${expected}`, 'check the Rows, Columns and BitsAllocated of the file against its pixel data');
  }
  return out.subarray(0, expected);
}

/**
 * RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, one PackBits segment per
 * byte plane — for each sample, its most significant byte first.
 */
export function decodeRle(bytes: Uint8Array, info: FrameInfo): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 64) throw new Error('RLE header shorter than 64 bytes');
  const segments = view.getUint32(0, true);
  const bytesPerSample = info.bitsAllocated / 8;
  const want = info.samplesPerPixel * bytesPerSample;
  if (segments !== want) throw new Error(`RLE frame has ${segments} segments; ${info.samplesPerPixel} sample(s) of ${info.bitsAllocated} bits need ${want}`);
  const pixels = info.rows * info.cols;
  const out = new Uint8Array(pixels * want);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : bytes.length;
    if (start < 64 || start > end || end > bytes.length) throw new Error(`RLE segment ${s + 1} lies outside the frame`);
    const sample = Math.floor(s / bytesPerSample);
    const byteInValue = bytesPerSample - 1 - (s % bytesPerSample); // little-endian position of this plane's byte
    let i = start;
    let p = 0;
    const put = (v: number): void => {
      if (p < pixels) out[(p * info.samplesPerPixel + sample) * bytesPerSample + byteInValue] = v;
      p++;
    };
    while (i < end && p < pixels) {
      const n = (bytes[i++]! << 24) >> 24;
      if (n >= 0) {
        for (let k = 0; k <= n && i < end; k++) put(bytes[i++]!);
      } else if (n !== -128) {
        const v = bytes[i++]!;
        for (let k = 0; k < 1 - n; k++) put(v);
      }
    }
    if (p < pixels) throw new Error(`RLE segment ${s + 1} decodes to ${p} of ${pixels} bytes`);
  }
  return out;
}

function decodeJpegBaseline(bytes: Uint8Array, info: FrameInfo): Uint8Array {
  if (info.bitsAllocated !== 8) throw new Error(`JPEG Baseline holds 8-bit samples, the file says ${info.bitsAllocated}`);
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
  const n = img.width * img.height;
  const channels = img.data.length / n;
  if (img.width !== info.cols || img.height !== info.rows) throw new Error(`JPEG is ${img.width}x${img.height}, the file says ${info.cols}x${info.rows}`);
  if (channels === info.samplesPerPixel) return img.data;
  // A grayscale image stored as a 3-component JPEG: its components are equal.
  const out = new Uint8Array(n * info.samplesPerPixel);
  for (let p = 0; p < n; p++) for (let c = 0; c < info.samplesPerPixel; c++) out[p * info.samplesPerPixel + c] = img.data[p * channels + Math.min(c, channels - 1)]!;
  return out;
}

function decodeJpegLossless(bytes: Uint8Array, info: FrameInfo): Uint8Array {
  const decoder = new JpegLosslessDecoder();
  const copy = bytes.slice();
  const out = new Uint8Array(decoder.decompress(copy.buffer, 0, copy.length));
  const { dimX, dimY, numComp } = decoder.frame;
  if (dimX !== info.cols || dimY !== info.rows || numComp !== info.samplesPerPixel) {
    throw new Error(`the stream is ${dimX}x${dimY} with ${numComp} component(s), the file says ${info.cols}x${info.rows} with ${info.samplesPerPixel}`);
  }
  return out;
}

function decodeWasm(Decoder: new () => WasmDecoder, bytes: Uint8Array, info: FrameInfo): Uint8Array {
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode();
    const fi = decoder.getFrameInfo();
    if (fi.width !== info.cols || fi.height !== info.rows || fi.componentCount !== info.samplesPerPixel) {
      throw new Error(`the stream is ${fi.width}x${fi.height} with ${fi.componentCount} component(s), the file says ${info.cols}x${info.rows} with ${info.samplesPerPixel}`);
    }
    const decoded = decoder.getDecodedBuffer();
    const bytesPer = fi.bitsPerSample <= 8 ? 1 : 2;
    if (bytesPer === info.bitsAllocated / 8) return decoded.slice();
    // 8-bit samples in 16-bit pixels (or the reverse): widen or narrow to BitsAllocated.
    const n = info.rows * info.cols * info.samplesPerPixel;
    const out = new Uint8Array(n * (info.bitsAllocated / 8));
    const src = new DataView(decoded.buffer, decoded.byteOffset, decoded.byteLength);
    const dst = new DataView(out.buffer);
    for (let i = 0; i < n; i++) {
      const v = bytesPer === 1 ? src.getUint8(i) : src.getUint16(i * 2, true);
      if (info.bitsAllocated === 8) dst.setUint8(i, v & 0xff);
      else dst.setUint16(i * 2, v, true);
    }
    return out;
  } finally {
    decoder.delete?.();
  }
}
