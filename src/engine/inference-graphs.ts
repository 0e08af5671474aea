/**
 * Inference graphs, with the weights baked in as initialisers:
 * - the scoring graph (the trained, pooled network) gives each block's cloud logit and its pooled channel
 *   responses g (the GCP outputs), which LPP needs;
 * - the feature graph (the pool-pruned network, LPP) gives the high-resolution feature maps F' of any window.
 */
import { type Architecture, featureChannels } from '../model/architecture.js';
import { parameterSpecs, type Weights } from '../model/parameters.js';
import { GraphBuilder, type Value } from './graph-builder.js';
import { emitConvStack, emitHead } from './network-graph.js';

function weightValues(b: GraphBuilder, arch: Architecture, inputBands: number, weights: Weights, names?: (n: string) => boolean) {
  const values = new Map<string, Value>();
  for (const spec of parameterSpecs(arch, inputBands)) {
    if (names && !names(spec.name)) continue;
    const data = weights.get(spec.name);
    if (!data) throw new Error(`model weights lack ${spec.name}`);
    values.set(spec.name, b.initializer(spec.name, spec.shape, data));
  }
  return (name: string) => values.get(name)!;
}

export function buildScoringGraph(arch: Architecture, inputBands: number, weights: Weights): Uint8Array {
  const b = new GraphBuilder(`${arch.name}-score`);
  const x = b.input('input', ['batch', inputBands, arch.blockSize, arch.blockSize]);
  const param = weightValues(b, arch, inputBands, weights);
  const stack = emitConvStack(b, arch, x, null, param);
  const { pooled, logit } = emitHead(b, arch, stack.features, param);
  b.output(logit, 'logit', ['batch']);
  b.output(pooled, 'pooled', ['batch', featureChannels(arch.layers)]);
  return b.toBytes();
}

export function buildFeatureGraph(arch: Architecture, inputBands: number, weights: Weights, prunedPools: ReadonlySet<number>): Uint8Array {
  const b = new GraphBuilder(`${arch.name}-lpp`);
  const x = b.input('input', ['batch', inputBands, 'height', 'width']);
  const param = weightValues(b, arch, inputBands, weights, (n) => n.startsWith('conv'));
  const stack = emitConvStack(b, arch, x, null, param, prunedPools);
  b.output(stack.features, 'features', ['batch', featureChannels(arch.layers), 'out_height', 'out_width']);
  return b.toBytes();
}
