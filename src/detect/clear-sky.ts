/**
 * The statistical clear-sky threshold (METHOD.md section 5): a pixel is cloud where CAM >= T, T = mean + k std of
 * the activation map over clear-sky blocks. Each clear block's map is built alone (its own window, mirrored at
 * its edges) with the gate off, so the statistics describe the spatial detail the gate would otherwise hide.
 * `pixel` pools every pixel of every clear block; `block` averages per-block means and standard deviations.
 */
import type { LabelledBlock } from '../datasets/blocks.js';
import type { ClearSkyStatistics } from '../model/model-file.js';
import type { Network } from '../model/network.js';
import { preparedArray } from '../prepare/prepared-source.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import { blockGrid } from './block-grid.js';
import { scoreBlocks } from './block-scores.js';
import { perBlockCam } from './per-block-cam.js';

export async function clearSkyStatistics(
  network: Network,
  blocks: LabelledBlock[],
  statistic: 'pixel' | 'block' = 'pixel',
  onProgress: ProgressCallback = noProgress,
): Promise<ClearSkyStatistics> {
  const clear = blocks.filter((b) => b.label === 0);
  if (clear.length === 0) throw new Error('no clear-sky blocks to estimate the threshold statistics from');
  const norm = network.model.description.normalization;
  const moments = new ClearSkyMoments();
  for (const [index, block] of clear.entries()) {
    const source = preparedArray(block.bands, block.bandCount, block.size, block.size, norm);
    const grid = blockGrid(block.size, block.size, block.size, block.size);
    const scores = await scoreBlocks(network, source, grid);
    const { cam, valid } = await perBlockCam(network, source, grid, scores, { gate: false });
    moments.add(cam, valid);
    onProgress({ kind: 'progress', stage: 'clear-sky statistics', done: index + 1, total: clear.length, unit: 'blocks' });
  }
  return moments.statistics(statistic, clear.length);
}

/**
 * The arithmetic of the statistics, one block map at a time (invalid and NaN pixels skipped): Welford's running
 * sums over all pixels (stable over millions of pixels) for `pixel`, and the per-block mean and (population)
 * standard deviation averaged over the blocks that have valid pixels for `block`.
 */
export class ClearSkyMoments {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private blocksWithData = 0;
  private meanSum = 0;
  private stdSum = 0;

  add(cam: Float32Array, valid: Uint8Array): void {
    let bn = 0;
    let bmean = 0;
    let bm2 = 0;
    for (let i = 0; i < cam.length; i++) {
      if (!valid[i] || cam[i] !== cam[i]) continue;
      const v = cam[i];
      this.n++;
      const d = v - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (v - this.mean);
      bn++;
      const bd = v - bmean;
      bmean += bd / bn;
      bm2 += bd * (v - bmean);
    }
    if (bn > 0) {
      this.blocksWithData++;
      this.meanSum += bmean;
      this.stdSum += Math.sqrt(bm2 / bn);
    }
  }

  statistics(statistic: 'pixel' | 'block', blocks: number): ClearSkyStatistics {
    const { n } = this;
    if (statistic === 'pixel') return { statistic, mean: this.mean, std: Math.sqrt(this.m2 / Math.max(n, 1)), blocks, pixels: n };
    const m = Math.max(this.blocksWithData, 1);
    return { statistic, mean: this.meanSum / m, std: this.stdSum / m, blocks, pixels: n };
  }
}

export function thresholdOf(stats: ClearSkyStatistics, k: number): number {
  return stats.mean + k * stats.std;
}
