// jpeg-lossless-decoder-js 2.1 ships no type declarations: the part of its API this package uses.
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    /** The last decoded frame's size and component count. */
    frame: { dimX: number; dimY: number; numComp: number };
    /** Decodes a JPEG Lossless (process 14) stream; 8-bit samples as bytes, 16-bit as little-endian pairs. */
    decompress(buffer: ArrayBuffer, offset?: number, length?: number): ArrayBuffer;
  }
}
