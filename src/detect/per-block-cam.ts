/**
 * The per-block reference of the activation-map mosaic: every block runs the pruned network on its own window,
 * builds its own map and adds it into the scene's sum, as the method is described. Holds the whole scene in
 * memory and runs the pruned pass about four times per pixel at 50 % overlap: it exists to check the streaming
 * fast path (cam-mosaic.ts) and to build the CAM of a single training block.
 */
import type { Network } from '../model/network.js';
import type { PreparedSource } from '../prepare/prepared-source.js';
import type { BlockGrid } from './block-grid.js';
import type { BlockScores } from './block-scores.js';
import { channelWeights, emptyWeights } from './channel-weights.js';
import { gridCoverage, latticeRowToPixels, rowSource } from './coverage.js';
import { latticeOf } from './cam-mosaic.js';

export interface SceneCam {
  width: number;
  height: number;
  cam: Float32Array;
  valid: Uint8Array;
}

export async function perBlockCam(network: Network, source: PreparedSource, grid: BlockGrid, scores: BlockScores, options: { gate: boolean }): Promise<SceneCam> {
  const lattice = latticeOf(network);
  const { width, height } = source;
  const C = network.channels;
  const nx = grid.xs.length;
  const { cols, rows } = gridCoverage(lattice, grid, width, height);
  const NX = cols.count;
  const NY = rows.count;
  const sceneValid = (await source.read({ x: 0, y: 0, width, height })).valid;
  const sum = new Float64Array(NX * NY);
  const count = new Int32Array(NX * NY);
  const weights = emptyWeights(nx * grid.ys.length, C);

  for (let r = 0; r < grid.ys.length; r++) {
    for (let c = 0; c < nx; c++) {
      const b = r * nx + c;
      // Lattice points this block needs: its members (for the means) and the points it covers (for its map).
      const coverCols = range(cols.cover, cols.coverTo, c);
      const coverRows = range(rows.cover, rows.coverTo, r);
      const i0 = Math.min(cols.memberFrom[c], coverCols[0]);
      const i1 = Math.max(cols.memberTo[c], coverCols[1]);
      const j0 = Math.min(rows.memberFrom[r], coverRows[0]);
      const j1 = Math.max(rows.memberTo[r], coverRows[1]);
      const [sx, sw] = lattice.inputSpan(cols.first + i0, cols.first + i1);
      const [sy, sh] = lattice.inputSpan(rows.first + j0, rows.first + j1);
      const fm = await network.features((await source.read({ x: sx, y: sy, width: sw, height: sh })).data, sh, sw);
      const at = (k: number, j: number, i: number) => fm.data[k * fm.height * fm.width + (j - j0) * fm.width + (i - i0)];
      const featureSum = new Float64Array(C);
      let validCount = 0;
      for (let j = rows.memberFrom[r]; j < rows.memberTo[r]; j++) {
        for (let i = cols.memberFrom[c]; i < cols.memberTo[c]; i++) {
          if (rows.pixel[j] < 0 || cols.pixel[i] < 0 || !sceneValid[rows.pixel[j] * width + cols.pixel[i]]) continue;
          validCount++;
          for (let k = 0; k < C; k++) featureSum[k] += at(k, j, i);
        }
      }
      channelWeights(b, scores.logit[b], scores.pooled, featureSum, validCount, network.classifier, options.gate, weights);
      if (!weights.used[b]) continue;
      for (let j = coverRows[0]; j < coverRows[1]; j++) {
        for (let i = coverCols[0]; i < coverCols[1]; i++) {
          let v = weights.beta[b];
          for (let k = 0; k < C; k++) v += weights.a[b * C + k] * at(k, j, i);
          sum[j * NX + i] += v;
          count[j * NX + i]++;
        }
      }
    }
  }

  const latticeCam = Float32Array.from(sum, (s, p) => (count[p] ? s / count[p] : NaN));
  const cam = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const { upper, lower, fy } = rowSource(lattice, rows, y);
    const u = latticeCam.subarray((upper - rows.first) * NX, (upper - rows.first + 1) * NX);
    const l = latticeCam.subarray((lower - rows.first) * NX, (lower - rows.first + 1) * NX);
    latticeRowToPixels(lattice, cols, u, l, fy, width, cam, y * width);
  }
  return { width, height, cam, valid: sceneValid };
}

/** The contiguous range [from, to) of points whose covering blocks include block `block`. */
function range(from: Int32Array, to: Int32Array, block: number): [number, number] {
  let first = -1;
  let last = -1;
  for (let i = 0; i < from.length; i++) {
    if (from[i] <= block && block <= to[i]) {
      if (first < 0) first = i;
      last = i;
    }
  }
  return [first, last + 1];
}
