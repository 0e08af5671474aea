/**
 * Test-time augmentation as one wider network. Averaging a network's activation maps over flipped and turned
 * copies of the scene is the same as averaging the maps of copies of the network whose 3x3 kernels and GCP
 * kernels are flipped and turned alike, run on the scene as it is: a valid convolution of a flipped image is the
 * flip of the convolution with the flipped kernel. Side by side (the first convolution widened, the others
 * grouped by copy, the linear unit averaging the copies' logits), the copies are one network whose LPP map is
 * the copies' mean map: channel rescaling is per channel, so the mosaic, the gate, the streaming and the
 * threshold need no change. N copies cost N times the network's work.
 *
 * The copies' pooled scores equal the network's on the turned block when every map a 2x2 pool reads has an even
 * side (the bundled networks at 48 px: 44 and 18); otherwise they are close, not equal. Orientations are taken
 * in order: 2 = identity and the left-right flip; 4 adds the up-down flip and both; 8 adds the four transposed.
 */
import { InputError } from '../errors.js';
import type { Model } from './model-file.js';
import { parameterSpecs, type Weights } from './parameters.js';

export const TTA_COPIES = [1, 2, 4, 8] as const;

interface Orientation {
  flipX: boolean;
  flipY: boolean;
  transpose: boolean;
}

const ORIENTATIONS: Orientation[] = [false, true].flatMap((transpose) =>
  [[false, false], [true, false], [false, true], [true, true]].map(([flipX, flipY]) => ({ flipX, flipY, transpose })),
);

/** Copies `count` square kernels of side `n` from `src` into `dst` at `dstAt`, each turned by `o`. */
function orientKernels(src: Float32Array, count: number, n: number, o: Orientation, dst: Float32Array, dstAt: number): void {
  for (let k = 0; k < count; k++) {
    const base = k * n * n;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        let sx = o.transpose ? y : x;
        let sy = o.transpose ? x : y;
        if (o.flipX) sx = n - 1 - sx;
        if (o.flipY) sy = n - 1 - sy;
        dst[dstAt + base + y * n + x] = src[base + sy * n + sx];
      }
    }
  }
}

/** The model as `copies` turned copies of its network side by side (1: the model itself). */
export function dihedralCopies(model: Model, copies: number): Model {
  if (copies === 1) return model;
  if (!(TTA_COPIES as readonly number[]).includes(copies)) throw new InputError(`expected one of ${TTA_COPIES.join(', ')} orientations, got ${copies}`, '--tta');
  const { description } = model;
  const arch = description.architecture;
  if ((arch.copies ?? 1) !== 1) throw new Error(`${arch.name} already holds ${arch.copies} copies`);
  const bands = description.bands.length;
  const wide = {
    ...arch,
    name: `${arch.name} x${copies} orientations`,
    layers: arch.layers.map((l) => (l.kind === 'conv' ? { ...l, channels: l.channels * copies } : l)),
    copies,
  };
  const weights: Weights = new Map();
  for (const spec of parameterSpecs(arch, bands)) {
    const one = model.weights.get(spec.name)!;
    const all = new Float32Array(one.length * copies);
    ORIENTATIONS.slice(0, copies).forEach((o, c) => {
      const at = c * one.length;
      if (spec.name.endsWith('.weight') && spec.name.startsWith('conv')) orientKernels(one, spec.shape[0] * spec.shape[1], 3, o, all, at);
      else if (spec.name === 'gcp.weight') orientKernels(one, spec.shape[0], spec.shape[1], o, all, at);
      else if (spec.name === 'fc.weight') for (let i = 0; i < one.length; i++) all[at + i] = one[i] / copies;
      else all.set(one, at); // biases
    });
    // fc.bias is one number: the copies' mean logit keeps it once.
    weights.set(spec.name, spec.name === 'fc.bias' ? one.slice() : all);
  }
  return { description: { ...description, architecture: wide }, weights };
}
