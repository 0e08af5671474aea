/**
 * The learnable tensors of a network, by name, with their shapes, and their seeded initialisation.
 * Names: conv{i}.weight [out, in / copies (after conv0), 3, 3], conv{i}.bias [out], gcp.weight [C, S, S] (GCP head only),
 * fc.weight [C], fc.bias [1].
 */
import { Random } from '../random.js';
import { type Architecture, featureChannels, outputSide } from './architecture.js';

export interface ParameterSpec {
  name: string;
  shape: number[];
}

export type Weights = Map<string, Float32Array>;

export function parameterSpecs(arch: Architecture, inputBands: number): ParameterSpec[] {
  const specs: ParameterSpec[] = [];
  let channels = inputBands;
  let convIndex = 0;
  for (const layer of arch.layers) {
    if (layer.kind !== 'conv') continue;
    // Grouped by copy after the first convolution: each copy's channels see only that copy's inputs.
    const inputs = convIndex === 0 ? channels : channels / (arch.copies ?? 1);
    specs.push({ name: `conv${convIndex}.weight`, shape: [layer.channels, inputs, 3, 3] });
    specs.push({ name: `conv${convIndex}.bias`, shape: [layer.channels] });
    channels = layer.channels;
    convIndex += 1;
  }
  const side = outputSide(arch.layers, arch.blockSize);
  if (arch.head === 'gcp') specs.push({ name: 'gcp.weight', shape: [channels, side, side] });
  specs.push({ name: 'fc.weight', shape: [featureChannels(arch.layers)] });
  specs.push({ name: 'fc.bias', shape: [1] });
  return specs;
}

export const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * He-normal convolutions (ReLU nets without batch norm train from scratch only with a variance-preserving start),
 * GCP kernels start as global average pooling (1/S^2), so the untrained head is the classic GAP-CAM.
 */
export function initialWeights(arch: Architecture, inputBands: number, seed: number): Weights {
  const random = new Random(seed);
  const weights: Weights = new Map();
  for (const spec of parameterSpecs(arch, inputBands)) {
    const data = new Float32Array(sizeOf(spec.shape));
    if (spec.name.startsWith('conv') && spec.name.endsWith('.weight')) {
      const fanIn = spec.shape[1] * 9;
      const std = Math.sqrt(2 / fanIn);
      for (let i = 0; i < data.length; i++) data[i] = random.normal() * std;
    } else if (spec.name === 'gcp.weight') {
      data.fill(1 / (spec.shape[1] * spec.shape[2]));
    } else if (spec.name === 'fc.weight') {
      const std = Math.sqrt(1 / spec.shape[0]);
      for (let i = 0; i < data.length; i++) data[i] = random.normal() * std;
    }
    weights.set(spec.name, data);
  }
  return weights;
}
