/**
 * Test helpers (not a test file): small randomly initialised wdcd models with a hand-made description, for the
 * tests where training is not the point. Weights come from `initialWeights` (He-normal convs, GCP = 1/S^2).
 */
import type { Architecture } from '../../src/model/architecture.js';
import { poolIndices } from '../../src/model/architecture.js';
import type { ClearSkyStatistics, Model, ModelDescription } from '../../src/model/model-file.js';
import { initialWeights } from '../../src/model/parameters.js';

/** Two pools, five valid 3x3 convs, GCP head: a 7 x 7 final map for 48 px blocks, 11 x 11 for 64 px. */
export function tinyArchitecture(blockSize = 48, head: 'gcp' | 'gap' = 'gcp'): Architecture {
  return {
    name: `tiny-${head}-${blockSize}`,
    blockSize,
    layers: [
      { kind: 'conv', channels: 6 },
      { kind: 'conv', channels: 6 },
      { kind: 'pool' },
      { kind: 'conv', channels: 8 },
      { kind: 'conv', channels: 8 },
      { kind: 'pool' },
      { kind: 'conv', channels: 10 },
    ],
    head,
  };
}

export interface TinyModelOptions {
  seed?: number;
  bands?: string[];
  sensor?: string;
  normalization?: { mean: number[]; std: number[] };
  prunedPools?: number[];
  stride?: number;
  gate?: boolean;
  k?: number;
  clearSky?: ClearSkyStatistics | null;
}

/** A model description + seeded random weights; defaults: 4 bands (L8 Biome reflectance), every pool pruned. */
export function tinyModel(arch: Architecture = tinyArchitecture(), options: TinyModelOptions = {}): Model {
  const bands = options.bands ?? ['blue', 'green', 'red', 'nir'];
  const description: ModelDescription = {
    format: 'wdcd-model',
    version: 1,
    name: arch.name,
    architecture: arch,
    bands,
    units: 'reflectance (0-1)',
    sensor: options.sensor ?? 'landsat8-biome',
    normalization: options.normalization ?? { mean: bands.map(() => 0.15), std: bands.map(() => 0.1) },
    prunedPools: options.prunedPools ?? poolIndices(arch.layers),
    detection: {
      stride: options.stride ?? arch.blockSize / 2,
      gate: options.gate ?? true,
      k: options.k ?? 2,
      clearSky: options.clearSky === undefined ? { statistic: 'pixel', mean: 0, std: 1, blocks: 1, pixels: 1 } : options.clearSky,
    },
  };
  return { description, weights: initialWeights(arch, bands.length, options.seed ?? 1) };
}
