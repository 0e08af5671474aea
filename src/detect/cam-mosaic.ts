/**
 * The whole-scene activation map, streamed top to bottom in flat memory (METHOD.md section 4, fast path).
 *
 * A block's map is linear in the pruned features (CAM_b = beta_b + sum_k a_bk F'_k), so the mosaic's average over
 * the blocks covering a point is beta-bar + sum_k a-bar_k F'_k(point), with a-bar, beta-bar averaged over those
 * blocks. The pruned features are therefore computed once per point, not once per covering block (4 times at
 * 50 % overlap), in chunks of lattice rows across the full width (the network runs on column tiles of each
 * chunk, so its working memory does not grow with the width). A block row's weights need its features'
 * means, so only the feature rows between the oldest unfinished output row and the newest computed row are held:
 * about one block height, whatever the scene's height.
 */
import type { Network } from '../model/network.js';
import type { PreparedSource } from '../prepare/prepared-source.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import type { BlockGrid } from './block-grid.js';
import type { BlockScores } from './block-scores.js';
import { channelWeights, emptyWeights } from './channel-weights.js';
import { gridCoverage, latticeRowToPixels, rowSource, type AxisCoverage } from './coverage.js';
import { FeatureLattice } from './feature-lattice.js';

export interface CamRows {
  /** First pixel row and number of rows; full scene width. */
  y: number;
  height: number;
  cam: Float32Array;
  valid: Uint8Array;
}

export interface CamOptions {
  gate: boolean;
  /** Lattice rows per feature pass; larger is faster per pixel and holds more memory. */
  chunkRows?: number;
  /** Lattice columns per feature pass (default about 1024 px); the chunk's rows are cut into tiles this wide. */
  tileColumns?: number;
  onProgress?: ProgressCallback;
}

/** Pixels across one feature pass (plus its halo). */
const TILE_WIDTH = 1024;

/** Columns [x, x + w) of a [bands, h, width] window. */
function columns(data: Float32Array, bands: number, h: number, width: number, x: number, w: number): Float32Array {
  const out = new Float32Array(bands * h * w);
  for (let r = 0; r < bands * h; r++) out.set(data.subarray(r * width + x, r * width + x + w), r * w);
  return out;
}

export function latticeOf(network: Network): FeatureLattice {
  return new FeatureLattice(network.model.description.architecture.layers, network.prunedPools, network.geometry.stride, network.geometry.offset);
}

export async function* mosaicCam(network: Network, source: PreparedSource, grid: BlockGrid, scores: BlockScores, options: CamOptions): AsyncGenerator<CamRows> {
  const onProgress = options.onProgress ?? noProgress;
  const lattice = latticeOf(network);
  const { width, height } = source;
  const C = network.channels;
  const nx = grid.xs.length;
  const ny = grid.ys.length;
  const { cols, rows } = gridCoverage(lattice, grid, width, height);
  const NX = cols.count;
  const chunkRows = Math.max(1, options.chunkRows ?? Math.ceil(64 / lattice.stride));
  const tileCols = Math.max(1, options.tileColumns ?? Math.ceil(TILE_WIDTH / lattice.stride));
  const classifier = network.classifier;
  const weights = emptyWeights(nx * ny, C);

  const features = new Map<number, Float32Array>(); // relative lattice row -> [C][NX]
  const pointValid = new Map<number, Uint8Array>(); // relative lattice row -> [NX]
  const pixelValid = new Map<number, Uint8Array>(); // pixel row -> [width]
  const camRows = new Map<number, Float32Array>(); // relative lattice row -> [NX]
  const sums = new Map<number, { sum: Float64Array; count: Int32Array }>(); // block row -> per block
  const rowDone = new Uint8Array(ny);
  let next = 0; // next lattice row (relative) to compute
  let finalized = 0; // next lattice row to turn into map values
  let yOut = 0; // next pixel row to emit

  const [sx, sw] = lattice.inputSpan(cols.first, cols.first + NX);
  while (yOut < height) {
    if (next < rows.count) {
      const end = Math.min(next + chunkRows, rows.count);
      const [sy, sh] = lattice.inputSpan(rows.first + next, rows.first + end);
      const win = await source.read({ x: sx, y: sy, width: sw, height: sh });
      for (let y = Math.max(sy, yOut); y < Math.min(sy + sh, height); y++) {
        if (!pixelValid.has(y)) pixelValid.set(y, win.valid.slice((y - sy) * sw - sx, (y - sy) * sw - sx + width));
      }
      const featureRows = Array.from({ length: end - next }, () => new Float32Array(C * NX));
      // The feature pass runs on column tiles of the chunk: the runtime's intermediate maps (several times the
      // input's size) then stay bounded however wide the scene is; valid convolutions give the same values.
      for (let i0 = 0; i0 < NX; i0 += tileCols) {
        const i1 = Math.min(i0 + tileCols, NX);
        const [tx, tw] = lattice.inputSpan(cols.first + i0, cols.first + i1);
        const tile = tw === sw ? win.data : columns(win.data, source.bandCount, sh, sw, tx - sx, tw);
        const fm = await network.features(tile, sh, tw);
        if (fm.height < end - next || fm.width < i1 - i0) throw new Error(`feature pass gave ${fm.width} x ${fm.height}, expected at least ${i1 - i0} x ${end - next}`);
        for (let j = next; j < end; j++) {
          for (let k = 0; k < C; k++) {
            const from = k * fm.height * fm.width + (j - next) * fm.width;
            featureRows[j - next].set(fm.data.subarray(from, from + i1 - i0), k * NX + i0);
          }
        }
      }
      for (let j = next; j < end; j++) {
        const row = featureRows[j - next];
        const valid = new Uint8Array(NX);
        const py = rows.pixel[j];
        if (py >= 0) {
          for (let i = 0; i < NX; i++) {
            const px = cols.pixel[i];
            valid[i] = px >= 0 ? win.valid[(py - sy) * sw + (px - sx)] : 0;
          }
        }
        features.set(j, row);
        pointValid.set(j, valid);
        accumulateMeans(j, row, valid, rows, cols, C, nx, ny, sums);
      }
      next = end;
      for (let r = 0; r < ny; r++) {
        if (rowDone[r] || rows.memberTo[r] > next) continue;
        const acc = sums.get(r) ?? { sum: new Float64Array(nx * C), count: new Int32Array(nx) };
        for (let c = 0; c < nx; c++) {
          const b = r * nx + c;
          channelWeights(b, scores.logit[b], scores.pooled, acc.sum.subarray(c * C, (c + 1) * C), acc.count[c], classifier, options.gate, weights);
        }
        rowDone[r] = 1;
        sums.delete(r);
      }
      onProgress({ kind: 'progress', stage: 'activation map', done: Math.min(height, Math.round(lattice.position(rows.first + next))), total: height, unit: 'rows' });
    }
    while (finalized < next && coveringRowsDone(rows, finalized, rowDone)) {
      camRows.set(finalized, camRow(features.get(finalized)!, rows.cover[finalized], rows.coverTo[finalized], cols, weights, C, nx));
      features.delete(finalized);
      pointValid.delete(finalized);
      finalized++;
    }
    // Pixel rows whose two lattice rows are final.
    const firstY = yOut;
    const out: Float32Array[] = [];
    while (yOut < height) {
      const { upper, lower, fy } = rowSource(lattice, rows, yOut);
      const u = camRows.get(upper - rows.first);
      const l = camRows.get(lower - rows.first);
      if (!u || !l) break;
      const pixels = new Float32Array(width);
      latticeRowToPixels(lattice, cols, u, l, fy, width, pixels, 0);
      out.push(pixels);
      yOut++;
    }
    if (out.length > 0) {
      const cam = new Float32Array(out.length * width);
      const valid = new Uint8Array(out.length * width);
      out.forEach((row, i) => {
        cam.set(row, i * width);
        valid.set(pixelValid.get(firstY + i)!, i * width);
        pixelValid.delete(firstY + i);
      });
      const keepFrom = rowSource(lattice, rows, Math.min(yOut, height - 1)).upper - rows.first;
      for (const j of camRows.keys()) if (j < keepFrom) camRows.delete(j);
      yield { y: firstY, height: out.length, cam, valid };
    } else if (next >= rows.count && finalized >= rows.count) {
      throw new Error('activation map mosaic stalled');
    }
  }
}

function coveringRowsDone(rows: AxisCoverage, j: number, rowDone: Uint8Array): boolean {
  for (let r = rows.cover[j]; r <= rows.coverTo[j]; r++) if (!rowDone[r]) return false;
  return true;
}

/**
 * Adds one lattice row's valid features to the running sums of the blocks it is a member of. Prefix sums along
 * the row (computed once) give each block's sum in one subtraction, so overlapping blocks cost no extra pass.
 */
function accumulateMeans(j: number, row: Float32Array, valid: Uint8Array, rows: AxisCoverage, cols: AxisCoverage, C: number, nx: number, ny: number, sums: Map<number, { sum: Float64Array; count: Int32Array }>): void {
  const NX = cols.count;
  let prefix: Float64Array | null = null;
  let validPrefix: Int32Array | null = null;
  for (let r = 0; r < ny; r++) {
    if (j < rows.memberFrom[r] || j >= rows.memberTo[r]) continue;
    if (!prefix || !validPrefix) {
      prefix = new Float64Array(C * (NX + 1));
      validPrefix = new Int32Array(NX + 1);
      for (let i = 0; i < NX; i++) validPrefix[i + 1] = validPrefix[i] + valid[i];
      for (let k = 0; k < C; k++) {
        const base = k * NX;
        const out = k * (NX + 1);
        for (let i = 0; i < NX; i++) prefix[out + i + 1] = prefix[out + i] + (valid[i] ? row[base + i] : 0);
      }
    }
    let acc = sums.get(r);
    if (!acc) {
      acc = { sum: new Float64Array(nx * C), count: new Int32Array(nx) };
      sums.set(r, acc);
    }
    for (let c = 0; c < nx; c++) {
      const from = cols.memberFrom[c];
      const to = cols.memberTo[c];
      const n = validPrefix[to] - validPrefix[from];
      if (n === 0) continue;
      acc.count[c] += n;
      for (let k = 0; k < C; k++) acc.sum[c * C + k] += prefix[k * (NX + 1) + to] - prefix[k * (NX + 1) + from];
    }
  }
}

/**
 * One lattice row of the mosaic: along the row, runs of points share their covering blocks; each run's weights
 * are averaged over the used blocks once, then applied to every point's features.
 */
export function camRow(row: Float32Array, r0: number, r1: number, cols: AxisCoverage, weights: { a: Float32Array; beta: Float32Array; used: Uint8Array }, C: number, nx: number): Float32Array {
  const NX = cols.count;
  const cam = new Float32Array(NX);
  const a = new Float64Array(C);
  let i = 0;
  while (i < NX) {
    const c0 = cols.cover[i];
    const c1 = cols.coverTo[i];
    let end = i + 1;
    while (end < NX && cols.cover[end] === c0 && cols.coverTo[end] === c1) end++;
    a.fill(0);
    let beta = 0;
    let used = 0;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const b = r * nx + c;
        if (!weights.used[b]) continue;
        used++;
        beta += weights.beta[b];
        for (let k = 0; k < C; k++) a[k] += weights.a[b * C + k];
      }
    }
    if (used === 0) cam.fill(NaN, i, end);
    else {
      for (let p = i; p < end; p++) cam[p] = beta / used;
      for (let k = 0; k < C; k++) {
        const w = a[k] / used;
        if (w === 0) continue;
        const base = k * NX;
        for (let p = i; p < end; p++) cam[p] += w * row[base + p];
      }
    }
    i = end;
  }
  return cam;
}
