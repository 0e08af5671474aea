/**
 * Builds ONNX graphs in TypeScript and serialises them with the ONNX protobuf schema.
 *
 * Why build graphs by hand: onnxruntime has no training API under Node, so wdcd writes the forward graph of its
 * small closed set of layers and, for training, the backward graph as ordinary ONNX ops (see gradients.ts).
 * The same bytes run in onnxruntime-node and onnxruntime-web.
 */
import { createRequire } from 'node:module';

// Required, not imported: importing a CommonJS module from an ES module makes Node scan its source for exports,
// and onnx-proto is 330 KB of generated code. That scan took 50-70 ms at every start, in every thread that
// builds graphs, plus V8's optimising compiles of the scanner (`require`: about 20 ms).
const { onnx } = createRequire(import.meta.url)('onnx-proto') as typeof import('onnx-proto');

/** The opset every wdcd graph targets (ReduceSum takes its axes as an input from opset 13 on). */
export const OPSET = 17;

type AttributeValue = number | number[] | string | { ints: number[] } | { float: number };

/** A value in the graph: its name, and its static shape where known (-1 or a string for a dynamic axis). */
export interface Value {
  readonly name: string;
}

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private counter = 0;
  private readonly constantCache = new Map<string, Value>();

  constructor(private readonly graphName: string) {}

  /** A fresh, unique value name with a readable prefix. */
  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, dims: (number | string)[], type: 'float' | 'int64' = 'float'): Value {
    this.inputs.push(valueInfo(name, dims, type));
    return { name };
  }

  output(value: Value, name: string, dims: (number | string)[]): void {
    if (value.name !== name) this.node('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, dims, 'float'));
  }

  /** A float32 tensor stored inside the model (weights of an inference graph). */
  initializer(name: string, dims: number[], data: Float32Array): Value {
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      }),
    );
    return { name };
  }

  /** An int64 constant (shapes, axes), shared when the same one is asked for twice. */
  ints(values: number[]): Value {
    const key = `i64:${values.join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached) return cached;
    const name = this.fresh('const_i64');
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: [values.length],
        dataType: onnx.TensorProto.DataType.INT64,
        rawData: new Uint8Array(data.buffer),
      }),
    );
    const value = { name };
    this.constantCache.set(key, value);
    return value;
  }

  /** A float32 scalar constant. */
  scalar(v: number): Value {
    const key = `f32:${v}`;
    const cached = this.constantCache.get(key);
    if (cached) return cached;
    const value = this.initializer(this.fresh('const_f32'), [], new Float32Array([v]));
    this.constantCache.set(key, value);
    return value;
  }

  /** Adds one node and returns its (first) output. */
  node(op: string, inputs: (Value | null)[], attributes: Record<string, AttributeValue> = {}, outputName?: string): Value {
    return this.nodeMulti(op, inputs, 1, attributes, outputName ? [outputName] : undefined)[0];
  }

  nodeMulti(op: string, inputs: (Value | null)[], outputCount: number, attributes: Record<string, AttributeValue> = {}, outputNames?: string[]): Value[] {
    const outNames = outputNames ?? Array.from({ length: outputCount }, () => this.fresh(op.toLowerCase()));
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        input: inputs.map((v) => (v ? v.name : '')),
        output: outNames,
        attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
      }),
    );
    return outNames.map((name) => ({ name }));
  }

  /** Serialises the graph as an ONNX model. */
  toBytes(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'wdcd',
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
      graph: onnx.GraphProto.create({
        name: this.graphName,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      }),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, dims: (number | string)[], type: 'float' | 'int64') {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: type === 'float' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            typeof d === 'number' && d >= 0
              ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
              : onnx.TensorShapeProto.Dimension.create({ dimParam: typeof d === 'string' ? d : 'dynamic' }),
          ),
        }),
      }),
    }),
  });
}

function attribute(name: string, value: AttributeValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return onnx.AttributeProto.create({ name, type: T.INT, i: value });
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: T.INTS, ints: value.ints });
}
