import * as tf from '@tensorflow/tfjs';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

let patched = false;

/**
 * Replaces the wasm backend's `Slice` kernel for contiguous slices: the stock kernel reads the
 * whole input through `readSync` (a fresh copy of every byte) before copying the slice, so taking
 * B samples out of a `[B, …]` tensor cost O(B²) copies. This one copies only the slice from the
 * heap; other slices fall through to the stock kernel. Idempotent.
 */
export function registerWasmKernels(): void {
  if (patched) return;
  const stock = tf.getKernel('Slice', 'wasm');
  if (!stock) return;
  patched = true;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({
    kernelName: 'Slice',
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    disposeFunc: stock.disposeFunc,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      const attrs = args.attrs as unknown as { begin: number[]; size: number[] };
      const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
      if (x.dtype === 'string' || !tf.slice_util.isSliceContinous(x.shape, begin, size)) return stock.kernelFunc(args);
      const backend = args.backend as unknown as WasmBackendLike;
      const out = backend.makeOutput(size, x.dtype);
      const count = size.reduce((a, b) => a * b, 1);
      if (count === 0) return out;
      const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
      // Views are taken after makeOutput, which may grow (and so replace) the wasm heap.
      const src = backend.typedArrayFromHeap(x);
      backend.typedArrayFromHeap(out).set(src.subarray(offset, offset + count));
      return out;
    },
  });
}
