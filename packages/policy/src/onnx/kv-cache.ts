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

function gatherTensor(t: ort.Tensor, rows: readonly number[]): ort.Tensor {
  const [batch, ...rest] = t.dims as number[];
  const block = rest.reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array;
  const dst = new Float32Array(rows.length * block);
  rows.forEach((r, i) => {
    if (r < 0 || r >= batch!) throw new RangeError(`row ${r} is outside a batch of ${batch}`);
    dst.set(src.subarray(r * block, (r + 1) * block), i * block);
  });
  return new ort.Tensor('float32', dst, [rows.length, ...rest]);
}

/**
 * A new cache holding rows `rows` of `kv` in that order: repeats a prompt's prefill for its
 * group (`[0,0,…,1,1,…]`) or drops finished sequences. Rows are contiguous blocks, so this is
 * one copy per row and layer.
 */
export function gatherKvRows(kv: KvCache, rows: readonly number[]): KvCache {
  return {
    batch: rows.length,
    length: kv.length,
    keys: kv.keys.map((t) => gatherTensor(t, rows)),
    values: kv.values.map((t) => gatherTensor(t, rows)),
  };
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
