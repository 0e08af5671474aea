/**
 * Network architectures by name. Every wdcd network is a VGG-style stack of unpadded ("valid") 3x3 convolutions,
 * each followed by ReLU, with 2x2 max-pools between them, then a global pooling head and one linear unit that
 * gives the block's cloud logit (METHOD.md section 2). No batch norm, no dropout, as in the paper.
 */
export type LayerSpec = { kind: 'conv'; channels: number } | { kind: 'pool' };

/** `gcp`: a learned full-map kernel per channel (global convolutional pooling); `gap`: plain global average pooling. */
export type HeadKind = 'gcp' | 'gap';

export interface Architecture {
  name: string;
  /** Side of the square blocks the network is trained and scored on. */
  blockSize: number;
  layers: LayerSpec[];
  head: HeadKind;
  /**
   * Copies of one network side by side (test-time augmentation, model/dihedral-copies.ts): the channel counts
   * in `layers` are the copies' total, and every convolution after the first is grouped by copy. Default 1.
   */
  copies?: number;
}

/** Spatial side of the final feature map for a square input of side `size`, pools applied as in `layers`. */
export function outputSide(layers: LayerSpec[], size: number, prunedPools: ReadonlySet<number> = new Set()): number {
  let side = size;
  layers.forEach((layer, i) => {
    if (layer.kind === 'conv') side -= 2;
    else if (!prunedPools.has(i)) side = Math.floor(side / 2);
  });
  if (side < 1) throw new Error(`a ${size} px input is too small for this network`);
  return side;
}

/** The smallest block side the network takes (a final feature map of one pixel). */
export function minimumBlockSize(layers: LayerSpec[]): number {
  let side = 1;
  for (let i = layers.length - 1; i >= 0; i--) side = layers[i]!.kind === 'conv' ? side + 2 : side * 2;
  return side;
}

/** Channels of the last convolution: the depth of the feature map the head pools. */
export function featureChannels(layers: LayerSpec[]): number {
  const convs = layers.filter((l): l is { kind: 'conv'; channels: number } => l.kind === 'conv');
  return convs[convs.length - 1].channels;
}

/** Indices (into `layers`) of the max-pool layers. */
export function poolIndices(layers: LayerSpec[]): number[] {
  return layers.flatMap((l, i) => (l.kind === 'pool' ? [i] : []));
}

/**
 * Geometry of the pool-pruned (LPP) network: output pixel (i, j) sits over input pixel
 * (offset + stride * i, offset + stride * j) – the centre of its receptive field – and needs `halo` input pixels
 * beyond the block on every side to be computed from real neighbours (unpadded convolutions).
 */
export function prunedGeometry(layers: LayerSpec[], prunedPools: ReadonlySet<number>): { stride: number; offset: number } {
  // Walk backwards: each valid 3x3 conv shifts the centre by one output pixel of its own grid; each kept pool
  // doubles the grid spacing and shifts by half a pooled cell.
  let stride = 1;
  let offset = 0;
  layers.forEach((layer, i) => {
    if (layer.kind === 'conv') offset += stride;
    else if (!prunedPools.has(i)) {
      offset += stride / 2;
      stride *= 2;
    }
  });
  return { stride, offset };
}

const conv = (channels: number): LayerSpec => ({ kind: 'conv', channels });
const pool: LayerSpec = { kind: 'pool' };

/**
 * The paper's network (wdcd-vgg16): 250 px blocks, ten valid 3x3 convs (4->64, 64->64, pool, 64->128, 128->128,
 * pool, 128->256 x3, pool, 256->512, 512->512, 512->1024), a 20 x 20 GCP kernel per channel. ~10.4 M parameters.
 * Pruning all pools costs ~1.1 TFLOP per block: kept for fidelity, too slow for a CPU default.
 */
export const WDCD_VGG16: Architecture = {
  name: 'wdcd-vgg16',
  blockSize: 250,
  layers: [conv(64), conv(64), pool, conv(128), conv(128), pool, conv(256), conv(256), conv(256), pool, conv(512), conv(512), conv(1024)],
  head: 'gcp',
};

/**
 * wdcd-light (`wdcd train`'s default and the rgb model's network): the same design (valid 3x3 convs, two 2x2
 * pools, GCP head), 8-16-32 channels wide and for 128 px blocks. Clouds are told apart mostly by spectra and local texture, so narrow layers suffice; the
 * width was chosen by measurement on 2 CPU cores (onnxruntime, batch 16): 32-64 wide layers ran the fully pruned
 * pass at 0.74 MP/s, this one at 2.0 MP/s (36 kFLOP per pixel), and trains at 55 blocks/s. ~40 k parameters.
 */
export const WDCD_LIGHT: Architecture = {
  name: 'wdcd-light',
  blockSize: 128,
  layers: [conv(8), conv(8), pool, conv(16), conv(16), pool, conv(32), conv(32)],
  head: 'gcp',
};

/**
 * The bundled default's network (wdcd-lean): wdcd-light with its last stage 16 channels wide instead of 32, for
 * 48 px blocks. LPP with every pool pruned runs the last stage at full resolution, where wdcd-light's two
 * 32-channel convolutions were 76 % of the feature pass (18.1 kMAC per pixel); here the pass is 8.9 kMAC per
 * pixel and ran at 2.95 against 1.61 MP/s on one thread. Trained by the same recipe, three seeds each, it
 * validated as well as wdcd-light-gap (the former default) or better, and above its own GAP twin (README,
 * accuracy). ~13 k parameters.
 */
export const WDCD_LEAN: Architecture = {
  name: 'wdcd-lean',
  blockSize: 48,
  layers: [conv(8), conv(8), pool, conv(16), conv(16), pool, conv(16), conv(16)],
  head: 'gcp',
};

export const ARCHITECTURES: Record<string, Architecture> = {
  [WDCD_LIGHT.name]: WDCD_LIGHT,
  [WDCD_VGG16.name]: WDCD_VGG16,
  [WDCD_LEAN.name]: WDCD_LEAN,
  // The same networks with plain global average pooling instead of GCP. wdcd-light-gap was the bundled default
  // (it validated above its GCP twin); wdcd-lean-gap validated below the GCP-headed wdcd-lean (README, accuracy).
  'wdcd-light-gap': { ...WDCD_LIGHT, name: 'wdcd-light-gap', head: 'gap' },
  'wdcd-lean-gap': { ...WDCD_LEAN, name: 'wdcd-lean-gap', head: 'gap' },
};

export function architectureByName(name: string): Architecture {
  const arch = ARCHITECTURES[name];
  if (!arch) throw new Error(`unknown architecture "${name}" (known: ${Object.keys(ARCHITECTURES).join(', ')})`);
  return arch;
}
