/**
 * The trained (pooled) network over every block of the sliding window: the block's cloud logit, which the
 * block gate uses, and its pooled channel responses g, which LPP carries over to the pruned features.
 *
 * Blocks are scored convolutionally: the network's convolutions are valid and its pools 2 x 2, so it commutes
 * with shifts by its total pool stride S. A block whose origin lies a multiple of S from a window's origin
 * therefore finds its own final feature map, value for value, inside the window's. One pass over a window of
 * overlapping blocks (at 50 % overlap every pixel lies in 4 blocks) replaces one pass per block, and only the
 * head (GCP or GAP, then the linear cloud unit) runs per block. `scoreBlockRowDirect` keeps the
 * one-block-at-a-time reference that the tests hold this against.
 */
import { sharedFloats } from '../engine/shared-floats.js';
import { outputSide, poolIndices } from '../model/architecture.js';
import type { FeatureMap, Network } from '../model/network.js';
import type { PreparedSource } from '../prepare/prepared-source.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import type { BlockGrid } from './block-grid.js';

export interface BlockScores {
  /** Per block (row-major over the grid: index = row * xs.length + column). */
  logit: Float32Array;
  /** [blocks, channels]. */
  pooled: Float32Array;
}

export function emptyScores(grid: BlockGrid, channels: number): BlockScores {
  const count = grid.xs.length * grid.ys.length;
  return { logit: new Float32Array(count), pooled: new Float32Array(count * channels) };
}

/** Pixels across one pass of the network (plus one block): bounds the runtime's working memory. */
const WINDOW_WIDTH = 1024;
/** Grid rows per window in `scoreBlocks`. */
const ROWS_PER_WINDOW = 8;

/**
 * Splits consecutive origins into runs that one window can score: every origin of a run lies a multiple of
 * `phase` from the run's first, and the run spans at most `maxSpan` pixels (at least one block).
 */
export function originRuns(origins: number[], blockSize: number, phase: number, maxSpan = Infinity): [number, number][] {
  const runs: [number, number][] = [];
  let first = 0;
  for (let i = 1; i <= origins.length; i++) {
    const ends =
      i === origins.length || (origins[i] - origins[first]) % phase !== 0 || origins[i] + blockSize - origins[first] > Math.max(maxSpan, blockSize);
    if (ends) {
      runs.push([first, i]);
      first = i;
    }
  }
  return runs;
}

/** The head on one block's final feature map, read at (row i0, column j0) of a window's map. */
function blockHead(
  map: FeatureMap, i0: number, j0: number, side: number, gcp: Float32Array | undefined,
  classifier: { weight: Float32Array; bias: number }, pooled: Float32Array, at: number,
): number {
  const { channels, height, width, data } = map;
  let logit = classifier.bias;
  for (let k = 0; k < channels; k++) {
    let sum = 0;
    for (let u = 0; u < side; u++) {
      const row = k * height * width + (i0 + u) * width + j0;
      if (gcp) {
        const kernel = (k * side + u) * side;
        for (let v = 0; v < side; v++) sum += data[row + v] * gcp[kernel + v];
      } else for (let v = 0; v < side; v++) sum += data[row + v];
    }
    const g = gcp ? sum : sum / (side * side);
    pooled[at + k] = g;
    logit += classifier.weight[k] * g;
  }
  return logit;
}

/**
 * Scores the blocks of grid rows `rows` (ascending) into `scores`: the network runs once per window of rows and
 * columns on one pool lattice.
 */
export async function scoreBlockRows(network: Network, source: PreparedSource, grid: BlockGrid, rows: number[], scores: BlockScores): Promise<void> {
  if (rows.length === 0) return;
  const { blockSize: size, xs, ys } = grid;
  const { architecture } = network.model.description;
  const phase = 2 ** poolIndices(architecture.layers).length;
  const side = outputSide(architecture.layers, size);
  const gcp = network.model.weights.get('gcp.weight');
  const classifier = network.classifier;
  const C = network.channels;
  const columnRuns = originRuns(xs, size, phase, WINDOW_WIDTH + size);
  const rowOrigins = rows.map((r) => ys[r]);
  for (const [ra, rb] of originRuns(rowOrigins, size, phase)) {
    const y = rowOrigins[ra];
    const height = rowOrigins[rb - 1] + size - y;
    const passes = columnRuns.map(async ([ca, cb]) => {
      const width = xs[cb - 1] + size - xs[ca];
      const window = await source.read({ x: xs[ca], y, width, height });
      try {
        return await network.pooledFeatures(window.data, height, width, true);
      } finally {
        sharedFloats.give(window.data);
      }
    });
    for (const pass of passes) pass.catch(() => {}); // awaited in turn below; a failure must not go unhandled first
    for (let t = 0; t < columnRuns.length; t++) {
      const map = await passes[t];
      const [ca, cb] = columnRuns[t];
      for (let ri = ra; ri < rb; ri++) {
        const i0 = (rowOrigins[ri] - rowOrigins[ra]) / phase;
        for (let c = ca; c < cb; c++) {
          const b = rows[ri] * xs.length + c;
          scores.logit[b] = blockHead(map, i0, (xs[c] - xs[ca]) / phase, side, gcp, classifier, scores.pooled, b * C);
        }
      }
    }
  }
}

/** Every block of the grid (the per-block reference and the clear-sky statistics use this). */
export async function scoreBlocks(network: Network, source: PreparedSource, grid: BlockGrid, onProgress: ProgressCallback = noProgress): Promise<BlockScores> {
  const scores = emptyScores(grid, network.channels);
  for (let r0 = 0; r0 < grid.ys.length; r0 += ROWS_PER_WINDOW) {
    const rows = Array.from({ length: Math.min(ROWS_PER_WINDOW, grid.ys.length - r0) }, (_, i) => r0 + i);
    await scoreBlockRows(network, source, grid, rows, scores);
    onProgress({ kind: 'progress', stage: 'score blocks', done: (r0 + rows.length) * grid.xs.length, total: scores.logit.length, unit: 'blocks' });
  }
  return scores;
}

/** The reference: one grid row's blocks, each cut out and run through the trained network on its own. */
export async function scoreBlockRowDirect(network: Network, source: PreparedSource, grid: BlockGrid, row: number, scores: BlockScores, batchSize = 32): Promise<void> {
  const { blockSize: size, xs } = grid;
  const y = grid.ys[row];
  const blockLength = source.bandCount * size * size;
  const x0 = Math.min(xs[0], 0);
  const stripWidth = Math.max(source.width, xs[xs.length - 1] + size) - x0;
  const strip = await source.read({ x: x0, y, width: stripWidth, height: size });
  const batch = new Float32Array(Math.min(batchSize, xs.length) * blockLength);
  for (let c0 = 0; c0 < xs.length; c0 += batchSize) {
    const count = Math.min(batchSize, xs.length - c0);
    for (let i = 0; i < count; i++) {
      const x = xs[c0 + i];
      for (let b = 0; b < source.bandCount; b++) {
        for (let r = 0; r < size; r++) {
          const from = b * stripWidth * size + r * stripWidth + (x - x0);
          batch.set(strip.data.subarray(from, from + size), i * blockLength + b * size * size + r * size);
        }
      }
    }
    const out = await network.score(batch.subarray(0, count * blockLength), count);
    const first = row * xs.length + c0;
    scores.logit.set(out.logit, first);
    scores.pooled.set(out.pooled, first * network.channels);
  }
}
