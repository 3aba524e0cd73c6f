import * as ort from 'onnxruntime-node';

/** The per-layer keys and values `[batch, nHeads, length, dHead]` of a batch of sequences. */
export interface KvCache {
  batch: number;
  /** Cached positions (image prefix + text) per row. */
  length: number;
  keys: ort.Tensor[];
  values: ort.Tensor[];
}

/** Releases a cache's tensors (their buffers become garbage at once instead of at the end of a loop). */
export function disposeKv(kv: KvCache): void {
  for (const t of kv.keys) t.dispose();
  for (const t of kv.values) t.dispose();
}

/** The buffers of a {@link DecodeCache}: per layer keys and values, and the attention mask. */
export interface DecodeStorage {
  keys: Float32Array[];
  values: Float32Array[];
  mask: BigInt64Array;
}

/**
 * A decode loop's keys/values, preallocated once: `[rows, nHeads, capacity, dHead]` per layer and
 * kind, plus the attention mask `[rows, capacity + 1]` (the last column is the fed token itself).
 * Slots fill in order (image and prompt prefix, then one per step), so the decoder is fed the
 * same buffers every step (ORT reads inputs in place) and only the new entries are written.
 */
export class DecodeCache {
  readonly keys: Float32Array[];
  readonly values: Float32Array[];
  private readonly mask: BigInt64Array;
  private readonly heads: number;
  private readonly dHead: number;
  /** Slots taken by the prefill (image + longest prompt). */
  private prefix = 0;

  /** The buffers this cache lives in (at least its size): hand them to the next cache with {@link storage}. */
  readonly storage: DecodeStorage;

  constructor(
    cfg: { nLayers: number; nHeads: number; dModel: number },
    /** Rows currently in the batch (shrinks with {@link keepRows}). */
    public rows: number,
    readonly capacity: number,
    /**
     * Buffers of an earlier cache to reuse when they are large enough (zeroed first). A decode
     * loop's cache is tens of MB: fresh buffers cost a page fault per 4 kB on first write, which
     * measured ~13% of a rollout.
     */
    recycled?: DecodeStorage,
  ) {
    this.heads = cfg.nHeads;
    this.dHead = cfg.dModel / cfg.nHeads;
    const size = rows * this.heads * capacity * this.dHead;
    const maskSize = rows * (capacity + 1);
    const fits = recycled && recycled.keys.length === cfg.nLayers && recycled.keys[0]!.length >= size && recycled.mask.length >= maskSize;
    this.storage = fits
      ? recycled
      : {
          keys: Array.from({ length: cfg.nLayers }, () => new Float32Array(size)),
          values: Array.from({ length: cfg.nLayers }, () => new Float32Array(size)),
          mask: new BigInt64Array(maskSize),
        };
    this.keys = this.storage.keys.map((b) => b.subarray(0, size));
    this.values = this.storage.values.map((b) => b.subarray(0, size));
    this.mask = this.storage.mask.subarray(0, maskSize);
    if (fits) {
      for (const b of [...this.keys, ...this.values]) b.fill(0);
      this.mask.fill(0n);
    }
    for (let r = 0; r < rows; r++) this.mask[r * (capacity + 1) + capacity] = 1n;
  }

  /** Copies row `from` of a prefill cache (and its mask) into row `row`. */
  fillPrefix(row: number, prefill: KvCache, from: number, mask: BigInt64Array): void {
    const L = prefill.length;
    if (L > this.capacity) throw new RangeError(`a prefix of ${L} slots does not fit a cache of ${this.capacity}`);
    this.prefix = L;
    const span = L * this.dHead;
    const copy = (src: ort.Tensor, dst: Float32Array): void => {
      const data = src.data as Float32Array;
      for (let h = 0; h < this.heads; h++) {
        dst.set(data.subarray((from * this.heads + h) * span, (from * this.heads + h + 1) * span), (row * this.heads + h) * this.capacity * this.dHead);
      }
    };
    prefill.keys.forEach((t, l) => copy(t, this.keys[l]!));
    prefill.values.forEach((t, l) => copy(t, this.values[l]!));
    this.mask.set(mask, row * (this.capacity + 1));
  }

  /** Copies batch row `from` (keys, values and mask) onto row `to`: a group's rows share their prompt's prefill. */
  copyRow(from: number, to: number): void {
    const block = this.heads * this.capacity * this.dHead;
    for (const buf of [...this.keys, ...this.values]) buf.copyWithin(to * block, from * block, (from + 1) * block);
    this.mask.copyWithin(to * (this.capacity + 1), from * (this.capacity + 1), (from + 1) * (this.capacity + 1));
  }

  /** The `past_key_values.*` feeds over the rows in the batch (views, not copies). */
  feeds(): Record<string, ort.Tensor> {
    const n = this.rows * this.heads * this.capacity * this.dHead;
    const dims = [this.rows, this.heads, this.capacity, this.dHead];
    const feeds: Record<string, ort.Tensor> = {};
    this.keys.forEach((k, i) => (feeds[`past_key_values.${i}.key`] = new ort.Tensor('float32', k.subarray(0, n), dims)));
    this.values.forEach((v, i) => (feeds[`past_key_values.${i}.value`] = new ort.Tensor('float32', v.subarray(0, n), dims)));
    return feeds;
  }

  /** The attention mask for a step: the filled slots, then the fed token. */
  stepMask(): BigInt64Array {
    return this.mask.subarray(0, this.rows * (this.capacity + 1));
  }

  /**
   * Stores step `t`'s keys/values (slot `prefix + t`) from the decoder's outputs: `entry(layer,
   * kind)` gives a `[rows, heads, length, dHead]` array and the index `at` of the new entry in it;
   * `running(row)` (default: all) says which rows' masks gain the slot.
   */
  writeStep(t: number, entry: (layer: number, kind: 'key' | 'value') => { data: Float32Array; at: number; length: number }, running?: (row: number) => boolean): void {
    const s = this.prefix + t;
    if (s >= this.capacity) throw new RangeError(`step ${t} is past the cache's capacity of ${this.capacity} slots`);
    const dh = this.dHead;
    const write = (dst: Float32Array, { data, at, length }: { data: Float32Array; at: number; length: number }): void => {
      for (let rh = 0; rh < this.rows * this.heads; rh++) {
        dst.set(data.subarray((rh * length + at) * dh, (rh * length + at + 1) * dh), (rh * this.capacity + s) * dh);
      }
    };
    this.keys.forEach((k, l) => write(k, entry(l, 'key')));
    this.values.forEach((v, l) => write(v, entry(l, 'value')));
    // Only running rows attend to their new slot: a finished row left in the batch keeps its
    // mask (and so its text position, which must stay below maxTextLen) until it is compacted away.
    for (let r = 0; r < this.rows; r++) if (!running || running(r)) this.mask[r * (this.capacity + 1) + s] = 1n;
  }

  /** Keeps the batch rows `keep` (ascending), moved to the front in that order. */
  keepRows(keep: readonly number[]): void {
    keep.forEach((from, to) => {
      if (from < to || from >= this.rows) throw new RangeError(`keepRows needs ascending rows inside the batch of ${this.rows}, got ${keep.join(',')}`);
      if (from !== to) this.copyRow(from, to);
    });
    this.rows = keep.length;
  }
}

/** Reads the `present.{i}.key/value` outputs of a session run into a cache. */
export function kvFromOutputs(outputs: ort.InferenceSession.ReturnType, nLayers: number): KvCache {
  const keys: ort.Tensor[] = [];
  const values: ort.Tensor[] = [];
  for (let i = 0; i < nLayers; i++) {
    keys.push(outputs[`present.${i}.key`] as ort.Tensor);
    values.push(outputs[`present.${i}.value`] as ort.Tensor);
  }
  const dims = keys[0]!.dims;
  return { batch: dims[0]!, length: dims[2]!, keys, values };
}

/** Feeds `past_key_values.{i}.key/value` from a cache. */
export function kvFeeds(kv: KvCache): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  kv.keys.forEach((t, i) => (feeds[`past_key_values.${i}.key`] = t));
  kv.values.forEach((t, i) => (feeds[`past_key_values.${i}.value`] = t));
  return feeds;
}
