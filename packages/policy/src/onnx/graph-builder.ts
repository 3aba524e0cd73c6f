import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX element types the exporter uses. */
export type ElemType = 'float' | 'int64' | 'bool';

/** A tensor dimension: a fixed size or a symbolic name (dynamic). */
export type Dim = number | string;

/** An attribute value; integers and floats are told apart explicitly because JS numbers are not. */
export type AttrValue =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { string: string };

const ELEM: Record<ElemType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** The opset the exported models declare (LayerNormalization needs 17). */
export const ONNX_OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
export const ONNX_IR_VERSION = 8;

function valueInfo(name: string, elem: ElemType, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ('int' in value) return { name, type: T.INT, i: value.int };
  if ('float' in value) return { name, type: T.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: T.INTS, ints: [...value.ints] };
  return { name, type: T.STRING, s: new TextEncoder().encode(value.string) };
}

/** Little-endian bytes of a typed array (no copy when already aligned). */
function bytesOf(a: Float32Array | BigInt64Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Builds one ONNX graph node by node and serialises it to a `ModelProto`. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** Declares a graph input. */
  input(name: string, elem: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  /** Declares a graph output (the value must be produced by some node). */
  output(name: string, elem: ElemType, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** Adds a float32 initializer (a weight) and returns its name. */
  weight(name: string, data: Float32Array, dims: readonly number[]): string {
    if (this.initializers.some((t) => t.name === name)) throw new RangeError(`initializer "${name}" is added twice to graph ${this.name}`);
    this.initializers.push({ name, dataType: ELEM.float, dims: [...dims], rawData: bytesOf(data) });
    return name;
  }

  /** A float scalar (0-d) constant, shared between uses of the same value. */
  scalar(value: number): string {
    return this.constant(`f:${value}`, () => {
      const name = `const_f_${this.counter++}`;
      this.initializers.push({ name, dataType: ELEM.float, dims: [], rawData: bytesOf(new Float32Array([value])) });
      return name;
    });
  }

  /** An int64 constant: a 1-D tensor of `values`, or a 0-d scalar when `scalar` is true. */
  int64(values: readonly number[], scalar = false): string {
    return this.constant(`i:${scalar ? 's' : 'v'}:${values.join(',')}`, () => {
      const name = `const_i_${this.counter++}`;
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      this.initializers.push({ name, dataType: ELEM.int64, dims: scalar ? [] : [values.length], rawData: bytesOf(data) });
      return name;
    });
  }

  /** Appends a node with `nOut` outputs (auto-named unless `outNames` is given) and returns them. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, outNames?: readonly string[], nOut = 1): string[] {
    const id = this.counter++;
    const outputs = outNames ? [...outNames] : Array.from({ length: nOut }, (_, k) => `${opType}_${id}${nOut > 1 ? `_${k}` : ''}`);
    this.nodes.push({
      name: `${opType}_${id}`,
      opType,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** Like {@link node} for single-output ops; `outName` names the result. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, outName?: string): string {
    return this.node(opType, inputs, attrs, outName ? [outName] : undefined)[0]!;
  }

  /** Serialises the graph into an ONNX model file's bytes. */
  toBytes(docString = ''): Uint8Array {
    const model: onnxProto.onnx.IModelProto = {
      irVersion: ONNX_IR_VERSION,
      producerName: 'medad-policy',
      producerVersion: '0.1.0',
      docString,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  private constant(key: string, make: () => string): string {
    let name = this.constants.get(key);
    if (!name) {
      name = make();
      this.constants.set(key, name);
    }
    return name;
  }
}
