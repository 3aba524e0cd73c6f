/** One DICOM transfer syntax: its name, whether {@link decodeDicom} reads it, and its byte order. */
export interface TransferSyntaxInfo {
  name: string;
  supported: boolean;
  littleEndian: boolean;
}

const NATIVE = (name: string, littleEndian = true): TransferSyntaxInfo => ({ name, supported: true, littleEndian });
const COMPRESSED = (name: string): TransferSyntaxInfo => ({ name, supported: false, littleEndian: true });

/** Known transfer syntaxes (PS3.5 / PS3.6): the uncompressed ones are decoded, compressed ones are rejected as UNSUPPORTED. */
export const DICOM_TRANSFER_SYNTAXES: Readonly<Record<string, TransferSyntaxInfo>> = Object.freeze({
  '1.2.840.10008.1.2': NATIVE('Implicit VR Little Endian'),
  '1.2.840.10008.1.2.1': NATIVE('Explicit VR Little Endian'),
  '1.2.840.10008.1.2.1.99': NATIVE('Deflated Explicit VR Little Endian'),
  '1.2.840.10008.1.2.2': NATIVE('Explicit VR Big Endian', false),
  '1.2.840.10008.1.2.4.50': COMPRESSED('JPEG Baseline (Process 1)'),
  '1.2.840.10008.1.2.4.51': COMPRESSED('JPEG Extended (Process 2 & 4)'),
  '1.2.840.10008.1.2.4.57': COMPRESSED('JPEG Lossless, Non-Hierarchical (Process 14)'),
  '1.2.840.10008.1.2.4.70': COMPRESSED('JPEG Lossless, First-Order Prediction (Process 14 SV1)'),
  '1.2.840.10008.1.2.4.80': COMPRESSED('JPEG-LS Lossless'),
  '1.2.840.10008.1.2.4.81': COMPRESSED('JPEG-LS Near-Lossless'),
  '1.2.840.10008.1.2.4.90': COMPRESSED('JPEG 2000 (Lossless Only)'),
  '1.2.840.10008.1.2.4.91': COMPRESSED('JPEG 2000'),
  '1.2.840.10008.1.2.4.92': COMPRESSED('JPEG 2000 Part 2 Multi-component (Lossless Only)'),
  '1.2.840.10008.1.2.4.93': COMPRESSED('JPEG 2000 Part 2 Multi-component'),
  '1.2.840.10008.1.2.4.100': COMPRESSED('MPEG2 Main Profile / Main Level'),
  '1.2.840.10008.1.2.4.101': COMPRESSED('MPEG2 Main Profile / High Level'),
  '1.2.840.10008.1.2.4.102': COMPRESSED('MPEG-4 AVC/H.264 High Profile'),
  '1.2.840.10008.1.2.4.103': COMPRESSED('MPEG-4 AVC/H.264 BD-compatible High Profile'),
  '1.2.840.10008.1.2.4.104': COMPRESSED('MPEG-4 AVC/H.264 High Profile for 2D Video'),
  '1.2.840.10008.1.2.4.105': COMPRESSED('MPEG-4 AVC/H.264 High Profile for 3D Video'),
  '1.2.840.10008.1.2.4.106': COMPRESSED('MPEG-4 AVC/H.264 Stereo High Profile'),
  '1.2.840.10008.1.2.4.107': COMPRESSED('HEVC/H.265 Main Profile'),
  '1.2.840.10008.1.2.4.108': COMPRESSED('HEVC/H.265 Main 10 Profile'),
  '1.2.840.10008.1.2.4.201': COMPRESSED('High-Throughput JPEG 2000 (Lossless Only)'),
  '1.2.840.10008.1.2.4.202': COMPRESSED('High-Throughput JPEG 2000 with RPCL Options (Lossless Only)'),
  '1.2.840.10008.1.2.4.203': COMPRESSED('High-Throughput JPEG 2000'),
  '1.2.840.10008.1.2.5': COMPRESSED('RLE Lossless'),
});

/** How to turn a compressed DICOM file into one this module reads. */
export const DECOMPRESS_FIX =
  'decompress it to Explicit VR Little Endian first, e.g. `gdcmconv --raw IN.dcm OUT.dcm` (GDCM) or `dcmdjpeg`/`dcmdrle` (DCMTK), then import again';
