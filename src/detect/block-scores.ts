/**
 * The trained (pooled) network over every block of the sliding window: the block's cloud logit, which the
 * block gate uses, and its pooled channel responses g, which LPP carries over to the pruned features.
 */
import type { Network } from '../model/network.js';
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

/**
 * Scores the blocks of one grid row into `scores`. The row's strip of the scene is read once and cut into
 * blocks, `batchSize` blocks per run of the network.
 */
export async function scoreBlockRow(network: Network, source: PreparedSource, grid: BlockGrid, row: number, scores: BlockScores, batchSize = 32): Promise<void> {
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

/** Every block of the grid, row by row (the per-block reference and the clear-sky statistics use this). */
export async function scoreBlocks(network: Network, source: PreparedSource, grid: BlockGrid, onProgress: ProgressCallback = noProgress, batchSize = 32): Promise<BlockScores> {
  const scores = emptyScores(grid, network.channels);
  for (let r = 0; r < grid.ys.length; r++) {
    await scoreBlockRow(network, source, grid, r, scores, batchSize);
    onProgress({ kind: 'progress', stage: 'score blocks', done: (r + 1) * grid.xs.length, total: scores.logit.length, unit: 'blocks' });
  }
  return scores;
}
