/**
 * The training graph: one ONNX graph that takes a batch, its labels and every parameter as inputs and returns
 * the loss, the logits and the gradient of the loss for every parameter (forward, then the per-layer rules of
 * gradients.ts in reverse). The optimiser runs in TypeScript on the returned gradients.
 */
import type { Architecture } from '../model/architecture.js';
import { parameterSpecs } from '../model/parameters.js';
import { GraphBuilder, type Value } from './graph-builder.js';
import { convBackward, gapBackward, gcpBackward, linearBackward, logisticLoss, poolBackward, reluBackward } from './gradients.js';
import { emitConvStack, emitHead } from './network-graph.js';

export const gradientName = (parameter: string) => `grad.${parameter}`;

export function buildTrainingGraph(arch: Architecture, inputBands: number, batchSize: number): Uint8Array {
  if ((arch.copies ?? 1) !== 1) throw new Error(`${arch.name} is ${arch.copies} copies of a network for test-time augmentation; train the network itself`);
  const b = new GraphBuilder(`${arch.name}-train`);
  const n = batchSize;
  const size = arch.blockSize;
  const x = b.input('input', [n, inputBands, size, size]);
  const labels = b.input('label', [n]);
  const sampleWeights = b.input('sample_weight', [n]);
  const specs = parameterSpecs(arch, inputBands);
  const params = new Map<string, Value>(specs.map((s) => [s.name, b.input(s.name, s.shape)]));
  const param = (name: string) => params.get(name)!;

  const stack = emitConvStack(b, arch, x, [n, inputBands, size, size], param);
  const { pooled, logit } = emitHead(b, arch, stack.features, param);
  const { loss, dz } = logisticLoss(b, logit, labels, sampleWeights);

  const grads = new Map<string, Value>();
  const head = linearBackward(b, dz, pooled, param('fc.weight'));
  grads.set('fc.weight', head.dWeight);
  grads.set('fc.bias', head.dBias);
  let d: Value;
  if (arch.head === 'gcp') {
    const gcp = gcpBackward(b, head.dPooled, stack.features, param('gcp.weight'));
    grads.set('gcp.weight', gcp.dKernel);
    d = gcp.dFeatures;
  } else {
    d = gapBackward(b, head.dPooled, stack.shape!);
  }
  for (let i = stack.trace.length - 1; i >= 0; i--) {
    const layer = stack.trace[i];
    if (layer.kind === 'relu') d = reluBackward(b, d, layer.output);
    else if (layer.kind === 'pool') d = poolBackward(b, d, layer.input, layer.output, layer.inShape, layer.outShape);
    else {
      const r = convBackward(b, d, layer.input, param(layer.weight), i > 0);
      grads.set(layer.weight, r.dw);
      grads.set(layer.bias, r.db);
      if (r.dx) d = r.dx;
    }
  }

  b.output(loss, 'loss', [1]);
  b.output(logit, 'logit', [n]);
  for (const spec of specs) b.output(grads.get(spec.name)!, gradientName(spec.name), spec.shape);
  return b.toBytes();
}
