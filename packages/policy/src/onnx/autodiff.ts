import type { LayerOps } from '../vlm/layers.js';
import type { GraphBuilder } from './graph-builder.js';

/** Maps the gradients of an op's outputs (null = none reached it) to its inputs' gradients. */
type Vjp = (dys: ReadonlyArray<string | null>) => ReadonlyArray<string | null>;

interface Recorded {
  inputs: readonly string[];
  outputs: readonly string[];
  vjp: Vjp;
}

/** The largest int64 an ONNX Slice end may take ("to the end"). */
const TO_END = Number.MAX_SAFE_INTEGER;

/**
 * Reverse-mode differentiation of an ONNX graph as it is built: every op emits its forward nodes
 * now and records how to emit its vector-Jacobian product; {@link backward} then emits the
 * gradient nodes in reverse order, summing where a value fans out. Only values reached from a
 * {@link watch}ed value are recorded. Shapes may be dynamic (gradients reshape to `Shape(x)`);
 * the ops are the ones the MedAD transformer uses (ARCHITECTURE.md), each with its textbook VJP.
 */
export class Tape implements LayerOps<string, string> {
  private readonly recorded: Recorded[] = [];
  private readonly live = new Set<string>();

  constructor(readonly g: GraphBuilder) {}

  /** Marks `name` as a value whose gradient is wanted (a weight or a differentiable input). */
  watch(name: string): string {
    this.live.add(name);
    return name;
  }

  private needs(name: string): boolean {
    return this.live.has(name);
  }

  private record(inputs: readonly string[], outputs: readonly string[], vjp: Vjp): void {
    if (!inputs.some((i) => this.live.has(i))) return;
    outputs.forEach((o) => this.live.add(o));
    this.recorded.push({ inputs, outputs, vjp });
  }

  /** An int64 shape constant. */
  shape(dims: readonly number[]): string {
    return this.g.int64(dims);
  }

  /** `a · b` for 2-D `a` `[M, K]` and `b` `[K, N]`. */
  matmul(a: string, b: string): string {
    const g = this.g;
    const y = g.op('MatMul', [a, b]);
    this.record([a, b], [y], ([dy]) => [
      this.needs(a) ? g.op('Gemm', [dy!, b], { transB: { int: 1 } }) : null,
      this.needs(b) ? g.op('Gemm', [a, dy!], { transA: { int: 1 } }) : null,
    ]);
    return y;
  }

  /** `x + b` for `x` `[M, N]` and a row vector `b` `[N]` (also `x` `[B, M, N]` + `b` `[M, N]`). */
  addBroadcast(x: string, b: string): string {
    const g = this.g;
    const y = g.op('Add', [x, b]);
    this.record([x, b], [y], ([dy]) => [dy, this.needs(b) ? g.op('ReduceSum', [dy!, g.int64([0])], { keepdims: { int: 0 } }) : null]);
    return y;
  }

  /** `a + b`, same shapes. */
  add(a: string, b: string): string {
    const y = this.g.op('Add', [a, b]);
    this.record([a, b], [y], ([dy]) => [dy, dy]);
    return y;
  }

  reshape(x: string, shape: string): string {
    const g = this.g;
    const y = g.op('Reshape', [x, shape]);
    this.record([x], [y], ([dy]) => [g.op('Reshape', [dy!, g.op('Shape', [x])])]);
    return y;
  }

  transpose(x: string, perm: readonly number[]): string {
    const g = this.g;
    const y = g.op('Transpose', [x], { perm: { ints: perm } });
    const inverse = perm.map((_, i) => perm.indexOf(i));
    this.record([x], [y], ([dy]) => [g.op('Transpose', [dy!], { perm: { ints: inverse } })]);
    return y;
  }

  /**
   * Concatenation along `axis`; `sizes` are the inputs' static extents on that axis (the last may
   * be null: "the rest"), which its gradient slices back out.
   */
  concat(inputs: readonly string[], axis: number, sizes: ReadonlyArray<number | null>): string {
    const g = this.g;
    const y = g.op('Concat', inputs, { axis: { int: axis } });
    this.record(inputs, [y], ([dy]) => {
      let start = 0;
      return inputs.map((x, k) => {
        const size = sizes[k];
        const end = size === null || size === undefined ? TO_END : start + size;
        const part = this.needs(x) ? g.op('Slice', [dy!, g.int64([start]), g.int64([end]), g.int64([axis])]) : null;
        start = end;
        return part;
      });
    });
    return y;
  }

  /**
   * LayerNorm over the last axis of 2-D `x` `[M, d]` (ONNX LayerNormalization, whose mean and
   * inverse standard deviation outputs the gradient reuses).
   */
  layerNorm(x: string, gamma: string, beta: string, eps: number): string {
    const g = this.g;
    const attrs = { axis: { int: -1 }, epsilon: { float: eps } };
    // Nothing to differentiate (an inference graph): the plain node, without the saved statistics.
    if (![x, gamma, beta].some((i) => this.live.has(i))) return g.op('LayerNormalization', [x, gamma, beta], attrs);
    const [y, mean, inv] = g.node('LayerNormalization', [x, gamma, beta], attrs, undefined, 3) as [string, string, string];
    this.record([x, gamma, beta], [y], ([dy]) => {
      const xhat = g.op('Mul', [g.op('Sub', [x, mean]), inv]);
      const dxh = g.op('Mul', [dy!, gamma]);
      const m1 = g.op('ReduceMean', [dxh], { axes: { ints: [-1] }, keepdims: { int: 1 } });
      const m2 = g.op('ReduceMean', [g.op('Mul', [dxh, xhat])], { axes: { ints: [-1] }, keepdims: { int: 1 } });
      const dx = g.op('Mul', [inv, g.op('Sub', [g.op('Sub', [dxh, m1]), g.op('Mul', [xhat, m2])])]);
      const rows = g.int64([0]);
      return [
        this.needs(x) ? dx : null,
        this.needs(gamma) ? g.op('ReduceSum', [g.op('Mul', [dy!, xhat]), rows], { keepdims: { int: 0 } }) : null,
        this.needs(beta) ? g.op('ReduceSum', [dy!, rows], { keepdims: { int: 0 } }) : null,
      ];
    });
    return y;
  }

  /**
   * The tanh-approximated GELU `0.5·x·(1 + tanh(c·(x + 0.044715·x³)))`, written in the shape ORT
   * fuses into one kernel; its derivative `0.5·(1 + t) + 0.5·x·(1 − t²)·c·(1 + 3·0.044715·x²)`.
   */
  gelu(x: string): string {
    const g = this.g;
    const a = 0.044715;
    const c = Math.sqrt(2 / Math.PI);
    const cube = g.op('Pow', [x, g.scalar(3)]);
    const t = g.op('Tanh', [g.op('Mul', [g.op('Add', [g.op('Mul', [cube, g.scalar(a)]), x]), g.scalar(c)])]);
    const onePlusT = g.op('Add', [t, g.scalar(1)]);
    const half = g.op('Mul', [x, g.scalar(0.5)]);
    const y = g.op('Mul', [half, onePlusT]);
    this.record([x], [y], ([dy]) => {
      const sech2 = g.op('Sub', [g.scalar(1), g.op('Mul', [t, t])]);
      const du = g.op('Add', [g.op('Mul', [g.op('Mul', [x, x]), g.scalar(3 * a * c)]), g.scalar(c)]);
      const slope = g.op('Add', [g.op('Mul', [onePlusT, g.scalar(0.5)]), g.op('Mul', [g.op('Mul', [half, sech2]), du])]);
      return [g.op('Mul', [dy!, slope])];
    });
    return y;
  }

  relu(x: string): string {
    const g = this.g;
    const y = g.op('Relu', [x]);
    this.record([x], [y], ([dy]) => [g.op('Where', [g.op('Greater', [x, g.scalar(0)]), dy!, g.scalar(0)])]);
    return y;
  }

  /**
   * Scaled dot-product attention over heads: `q` `[B, H, T, dh]`, `k`, `v` `[B, H, L, dh]`,
   * optional additive `bias` `[B, 1, T, L]` (not differentiated) → `[B, H, T, dh]`.
   */
  attention(q: string, k: string, v: string, bias: string | null, scale: number): string {
    const g = this.g;
    const swap = { perm: { ints: [0, 1, 3, 2] } };
    let scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], swap)]), g.scalar(scale)]);
    if (bias) scores = g.op('Add', [scores, bias]);
    const p = g.op('Softmax', [scores], { axis: { int: -1 } });
    const y = g.op('MatMul', [p, v]);
    this.record([q, k, v], [y], ([dy]) => {
      const dv = g.op('MatMul', [g.op('Transpose', [p], swap), dy!]);
      const dp = g.op('MatMul', [dy!, g.op('Transpose', [v], swap)]);
      const rowDot = g.op('ReduceSum', [g.op('Mul', [dp, p]), g.int64([-1])], { keepdims: { int: 1 } });
      const ds = g.op('Mul', [g.op('Mul', [p, g.op('Sub', [dp, rowDot])]), g.scalar(scale)]);
      return [
        this.needs(q) ? g.op('MatMul', [ds, k]) : null,
        this.needs(k) ? g.op('MatMul', [g.op('Transpose', [ds], swap), q]) : null,
        this.needs(v) ? dv : null,
      ];
    });
    return y;
  }

  /**
   * Splits fused projections `[B·N, 3d]` into queries, keys and values `[B, H, N, dh]` (reshape
   * to `shape5` = `[B, N, 3, H, dh]`, heads first); a part no gradient reaches counts as zero.
   */
  splitQkv(fused: string, shape5: string): [string, string, string] {
    const g = this.g;
    const perm = [2, 0, 3, 1, 4];
    const heads = g.op('Transpose', [g.op('Reshape', [fused, shape5])], { perm: { ints: perm } });
    const parts = [0, 1, 2].map((k) => g.op('Gather', [heads, g.int64([k], true)], { axis: { int: 0 } })) as [string, string, string];
    this.record([fused], parts, (dys) => {
      const full = dys.map((d, k) => g.op('Unsqueeze', [d ?? g.op('ConstantOfShape', [g.op('Shape', [parts[k]!])]), g.int64([0])]));
      const back = g.op('Transpose', [g.op('Concat', full, { axis: { int: 0 } })], { perm: { ints: perm.map((_, i) => perm.indexOf(i)) } });
      return [g.op('Reshape', [back, g.op('Shape', [fused])])];
    });
    return parts;
  }

  /** An attention context `[B, H, N, dHead]` → tokens `[B·N, d]`. */
  mergeHeads(ctx: string, d: number): string {
    return this.reshape(this.transpose(ctx, [0, 2, 1, 3]), this.g.int64([-1, d]));
  }

  /** Entries `indices` of `x` along `axis` (an input of the graph: not recorded). */
  gatherInput(x: string, indices: readonly number[], axis: number): string {
    return this.g.op('Gather', [x, this.g.int64(indices)], { axis: { int: axis } });
  }

  /** Rows `rows` `[R]` (int64, distinct) of 2-D `x` `[M, d]`; the gradient scatters them back. */
  gatherRows(x: string, rows: string): string {
    const g = this.g;
    const y = g.op('Gather', [x, rows], { axis: { int: 0 } });
    this.record([x], [y], ([dy]) => [
      g.op('ScatterND', [g.op('ConstantOfShape', [g.op('Shape', [x])]), g.op('Unsqueeze', [rows, g.int64([1])]), dy!]),
    ]);
    return y;
  }

  /**
   * The 2-D image position table `[g·g, d]` = `row[r] + col[c]` from `row`, `col` `[g, d]`;
   * gradients sum over columns and rows respectively.
   */
  gridPositions(row: string, col: string, grid: number, d: number): string {
    const g = this.g;
    const y = g.op('Reshape', [g.op('Add', [g.op('Unsqueeze', [row, g.int64([1])]), g.op('Unsqueeze', [col, g.int64([0])])]), g.int64([grid * grid, d])]);
    this.record([row, col], [y], ([dy]) => {
      const cube = g.op('Reshape', [dy!, g.int64([grid, grid, d])]);
      return [
        g.op('ReduceSum', [cube, g.int64([1])], { keepdims: { int: 0 } }),
        g.op('ReduceSum', [cube, g.int64([0])], { keepdims: { int: 0 } }),
      ];
    });
    return y;
  }

  /**
   * Emits the gradient nodes for `seeds` (value → its gradient) and returns the gradient of every
   * watched value a seed reaches (fan-out contributions summed).
   */
  backward(seeds: ReadonlyMap<string, string>): Map<string, string> {
    const contributions = new Map<string, string[]>();
    for (const [v, d] of seeds) contributions.set(v, [d]);
    const total = (v: string): string | null => {
      const list = contributions.get(v);
      if (!list) return null;
      if (list.length > 1) {
        const sum = this.g.op('Sum', list);
        contributions.set(v, [sum]);
        return sum;
      }
      return list[0]!;
    };
    for (let r = this.recorded.length - 1; r >= 0; r--) {
      const { inputs, outputs, vjp } = this.recorded[r]!;
      const dys = outputs.map(total);
      if (dys.every((d) => d === null)) continue;
      const dxs = vjp(dys);
      inputs.forEach((x, k) => {
        const dx = dxs[k];
        if (!dx || !this.live.has(x)) return;
        const list = contributions.get(x);
        if (list) list.push(dx);
        else contributions.set(x, [dx]);
      });
    }
    const out = new Map<string, string>();
    for (const v of contributions.keys()) out.set(v, total(v)!);
    return out;
  }
}
