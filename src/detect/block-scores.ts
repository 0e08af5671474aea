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

export async function scoreBlocks(network: Network, source: PreparedSource, grid: BlockGrid, onProgress: ProgressCallback = noProgress, batchSize = 32): Promise<BlockScores> {
  const { blockSize: size, xs, ys } = grid;
  const count = xs.length * ys.length;
  const blockLength = source.bandCount * size * size;
  const logit = new Float32Array(count);
  const pooled = new Float32Array(count * network.channels);
  const batch = new Float32Array(batchSize * blockLength);
  let filled = 0;
  let first = 0;
  const flush = async () => {
    if (filled === 0) return;
    const out = await network.score(batch.subarray(0, filled * blockLength), filled);
    logit.set(out.logit, first);
    pooled.set(out.pooled, first * network.channels);
    first += filled;
    filled = 0;
    onProgress({ kind: 'progress', stage: 'score blocks', done: first, total: count, unit: 'blocks' });
  };
  for (const y of ys) {
    // One strip of rows per block row, cut into blocks: the scene is read once per block row.
    const x0 = Math.min(xs[0], 0);
    const stripWidth = Math.max(source.width, xs[xs.length - 1] + size) - x0;
    const strip = await source.read({ x: x0, y, width: stripWidth, height: size });
    for (const x of xs) {
      const out = filled * blockLength;
      for (let b = 0; b < source.bandCount; b++) {
        for (let r = 0; r < size; r++) {
          const from = b * stripWidth * size + r * stripWidth + (x - x0);
          batch.set(strip.data.subarray(from, from + size), out + b * size * size + r * size);
        }
      }
      filled += 1;
      if (filled === batchSize) await flush();
    }
  }
  await flush();
  return { logit, pooled };
}
