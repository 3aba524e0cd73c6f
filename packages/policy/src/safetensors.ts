import { ErrorCode, MedadError } from '@medad/core';

/** One float32 tensor for safetensors. */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Serialises float32 tensors as safetensors: 8-byte little-endian header length, a JSON header
 * (`{name: {dtype: "F32", shape, data_offsets}}` plus `__metadata__`), padded with spaces to 8
 * bytes, then the raw little-endian data in header order.
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) {
      throw new MedadError(ErrorCode.BadUserInput, `Tensor "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}]`, {
        fix: 'pass data whose length is the product of the shape',
      });
    }
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + size * 4] };
    offset += size * 4;
  }
  let json = JSON.stringify(header);
  const headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  json += ' '.repeat(padded - headerBytes.length);
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(new TextEncoder().encode(json), 8);
  let pos = 8 + padded;
  for (const t of tensors.values()) {
    const dv = new DataView(out.buffer, pos, t.data.length * 4);
    for (let i = 0; i < t.data.length; i++) dv.setFloat32(i * 4, t.data[i]!, true);
    pos += t.data.length * 4;
  }
  return out;
}

/** Parsed safetensors: tensors in file order and the `__metadata__` strings. */
export interface SafetensorsFile {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

function bad(where: string, problem: string): MedadError {
  return new MedadError(ErrorCode.InvalidData, `${where}: ${problem}`, {
    fix: 'the file is truncated or not a safetensors file; re-save the checkpoint',
  });
}

/** Reads safetensors bytes (F32 only); `where` names the file in errors. */
export function decodeSafetensors(bytes: Uint8Array, where = 'model.safetensors'): SafetensorsFile {
  if (bytes.length < 8) throw bad(where, `only ${bytes.length} bytes, less than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) throw bad(where, `header length ${headerLen} exceeds the file size ${bytes.length}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (err) {
    throw bad(where, `header is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const base = 8 + headerLen;
  const dataLen = bytes.length - base;
  const tensors = new Map<string, NamedTensor>();
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__');
  entries.sort((a, b) => ((a[1] as { data_offsets: number[] }).data_offsets?.[0] ?? 0) - ((b[1] as { data_offsets: number[] }).data_offsets?.[0] ?? 0));
  for (const [name, raw] of entries) {
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32') {
      throw new MedadError(ErrorCode.Unsupported, `${where}: tensor "${name}" has dtype ${JSON.stringify(e.dtype)}`, {
        fix: 'convert the weights to float32 (F32) before loading',
      });
    }
    if (!Array.isArray(e.shape) || !e.shape.every((n) => Number.isInteger(n) && n >= 0)) throw bad(where, `tensor "${name}" has an invalid shape ${JSON.stringify(e.shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((n) => Number.isInteger(n))) throw bad(where, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    const [begin, end] = offs as [number, number];
    const size = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (begin < 0 || end > dataLen || end - begin !== size * 4) {
      throw bad(where, `tensor "${name}" data_offsets [${begin}, ${end}] do not fit shape [${(e.shape as number[]).join(', ')}] inside ${dataLen} data bytes`);
    }
    const data = new Float32Array(size);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + base + begin, size * 4);
    for (let i = 0; i < size; i++) data[i] = dv.getFloat32(i * 4, true);
    tensors.set(name, { shape: e.shape as number[], data });
  }
  const meta = header.__metadata__;
  const metadata: Record<string, string> = {};
  if (meta && typeof meta === 'object') for (const [k, v] of Object.entries(meta)) if (typeof v === 'string') metadata[k] = v;
  return { tensors, metadata };
}
