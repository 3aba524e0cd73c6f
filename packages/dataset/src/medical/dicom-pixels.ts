/** Layout of DICOM stored pixel values (PS3.5 §8): how to read sample `i` of the pixel data. */
export interface PixelLayout {
  bitsAllocated: 8 | 16 | 32;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  littleEndian: boolean;
  /** 8-bit samples in an OW element of a big-endian file sit in byte-swapped 16-bit words. */
  swapBytePairs: boolean;
}

/** A reader of stored sample `i` (0-based over all frames), with bits outside bitsStored masked and the sign extended. */
export function storedValueReader(bytes: Uint8Array, offset: number, byteLength: number, layout: PixelLayout): (i: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, byteLength);
  const le = layout.littleEndian;
  const raw: (i: number) => number =
    layout.bitsAllocated === 8
      ? layout.swapBytePairs
        ? (i) => view.getUint8(i ^ 1)
        : (i) => view.getUint8(i)
      : layout.bitsAllocated === 16
        ? (i) => view.getUint16(i * 2, le)
        : (i) => view.getUint32(i * 4, le);
  const shift = layout.highBit + 1 - layout.bitsStored;
  const full = shift === 0 && layout.bitsStored === layout.bitsAllocated;
  const range = 2 ** layout.bitsStored;
  const half = range / 2;
  if (full) {
    if (!layout.signed) return raw;
    return (i) => {
      const u = raw(i);
      return u >= half ? u - range : u;
    };
  }
  const divisor = 2 ** shift;
  return (i) => {
    // Arithmetic instead of bit operators so 32-bit samples stay unsigned before masking.
    const u = Math.floor(raw(i) / divisor) % range;
    return layout.signed && u >= half ? u - range : u;
  };
}

/** Interprets a 16-bit stored value of an US/SS-typed attribute with the image's pixel representation. */
export function asPixelValue(value16: number, signed: boolean): number {
  return signed && value16 >= 0x8000 ? value16 - 0x10000 : value16;
}
