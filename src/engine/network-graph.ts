/**
 * Forward graphs of a wdcd network: the convolution stack (optionally with max-pools pruned, LPP) and the
 * pooling head (GCP or GAP) with its linear cloud unit. Records what the backward pass needs.
 */
import type { Architecture } from '../model/architecture.js';
import type { GraphBuilder, Value } from './graph-builder.js';

/** One forward layer as the backward pass sees it. `shape` entries are static when the graph has a fixed size. */
export type LayerTrace =
  | { kind: 'conv'; input: Value; output: Value; weight: string; bias: string; inShape: number[]; outShape: number[] }
  | { kind: 'relu'; output: Value }
  | { kind: 'pool'; input: Value; output: Value; inShape: number[]; outShape: number[] };

export interface StackResult {
  features: Value;
  /** Static [N, C, H, W] of the features, when the input shape was static. */
  shape: number[] | null;
  trace: LayerTrace[];
}

export type ParameterValues = (name: string) => Value;

/**
 * The convolution stack. Pools whose layer index is in `prunedPools` are left out (local pooling pruning).
 * `inputShape` is [N, bands, H, W] for static graphs (training), or null for dynamic inference graphs.
 */
export function emitConvStack(
  b: GraphBuilder,
  arch: Architecture,
  input: Value,
  inputShape: number[] | null,
  param: ParameterValues,
  prunedPools: ReadonlySet<number> = new Set(),
): StackResult {
  const trace: LayerTrace[] = [];
  let x = input;
  let shape = inputShape ? [...inputShape] : null;
  let convIndex = 0;
  arch.layers.forEach((layer, index) => {
    if (layer.kind === 'conv') {
      const weight = `conv${convIndex}.weight`;
      const bias = `conv${convIndex}.bias`;
      const outShape = shape ? [shape[0], layer.channels, shape[2] - 2, shape[3] - 2] : [];
      const group = convIndex === 0 ? 1 : arch.copies ?? 1;
      const y = b.node('Conv', [x, param(weight), param(bias)], group === 1 ? { kernel_shape: [3, 3] } : { kernel_shape: [3, 3], group });
      trace.push({ kind: 'conv', input: x, output: y, weight, bias, inShape: shape ?? [], outShape });
      const r = b.node('Relu', [y]);
      trace.push({ kind: 'relu', output: r });
      x = r;
      shape = shape ? outShape : null;
      convIndex += 1;
    } else if (!prunedPools.has(index)) {
      const outShape = shape ? [shape[0], shape[1], Math.floor(shape[2] / 2), Math.floor(shape[3] / 2)] : [];
      const y = b.node('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
      trace.push({ kind: 'pool', input: x, output: y, inShape: shape ?? [], outShape });
      x = y;
      shape = shape ? outShape : null;
    }
  });
  return { features: x, shape, trace };
}

/** The head: g [N, C] (GCP or GAP of the features) and the block's cloud logit [N]. */
export function emitHead(b: GraphBuilder, arch: Architecture, features: Value, param: ParameterValues): { pooled: Value; logit: Value } {
  const pooled =
    arch.head === 'gcp'
      ? b.node('ReduceSum', [b.node('Mul', [features, param('gcp.weight')]), b.ints([2, 3])], { keepdims: 0 })
      : b.node('ReduceMean', [features], { axes: [2, 3], keepdims: 0 });
  const logit = b.node('Add', [b.node('ReduceSum', [b.node('Mul', [pooled, param('fc.weight')]), b.ints([1])], { keepdims: 0 }), param('fc.bias')]);
  return { pooled, logit };
}
