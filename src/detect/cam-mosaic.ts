/**
 * The whole-scene activation map, streamed top to bottom (METHOD.md section 4, fast path). Memory does not grow
 * with the scene's height; it grows with its width (rows run across it), which column-stripes.ts bounds.
 *
 * A block's map is linear in the pruned features (CAM_b = beta_b + sum_k a_bk F'_k), so the mosaic's average over
 * the blocks covering a point is beta-bar + sum_k a-bar_k F'_k(point), with a-bar, beta-bar averaged over those
 * blocks. The pruned features are therefore computed once per point, not once per covering block (4 times at
 * 50 % overlap), in chunks of lattice rows across the full width (the network runs on column tiles of each
 * chunk, so its working memory does not grow with the width). A block row's weights need its features'
 * means, so only the feature chunks between the oldest unfinished output row and the newest computed row are
 * held (the runtime's own output tiles, not copies, handed back to it for reuse once final): about one block
 * height plus the chunks in flight.
 */
import type { FeatureMap, Network } from '../model/network.js';
import type { PreparedSource } from '../prepare/prepared-source.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import type { BlockGrid } from './block-grid.js';
import { emptyScores, scoreBlockRows, type BlockScores } from './block-scores.js';
import { channelWeights, emptyWeights } from './channel-weights.js';
import { gridCoverage, latticeRowToPixels, rowSource, type AxisCoverage } from './coverage.js';
import { FeatureLattice } from './feature-lattice.js';

export interface CamRows {
  /** First pixel row and number of rows; full scene width. */
  y: number;
  height: number;
  cam: Float32Array;
  valid: Uint8Array;
  /** 1 where the dark guard rules cloud out (only with options.darkGuard). */
  dark?: Uint8Array;
}

export interface CamOptions {
  gate: boolean;
  /**
   * The blocks' pooled scores, if already computed. Otherwise each block row is scored during the pass, from
   * the same prepared rows the feature pass reads, so the scene is read and prepared once.
   */
  scores?: BlockScores;
  /** Input channel and value (normalised units) below which a pixel is too dark to be cloud. */
  darkGuard?: { channel: number; below: number };
  /** Seconds this thread spends reading ('read') and mosaicking ('mosaic'), added to as the pass runs. */
  seconds?: Record<string, number>;
  /** Lattice rows per feature pass; larger is faster per pixel and holds more memory. */
  chunkRows?: number;
  /** Pixels across one feature pass (default TILE_WIDTH); the chunk's rows are cut into tiles this wide. */
  tileWidth?: number;
  onProgress?: ProgressCallback;
}

/**
 * One lattice row of pruned features, as the network's column tiles left it (no copy): point i of channel k,
 * for i0 <= i < i1, is data[offset + k * channelStride + i - i0].
 */
export interface FeatureSegment {
  i0: number;
  i1: number;
  data: Float32Array;
  offset: number;
  channelStride: number;
}
export type FeatureRow = FeatureSegment[];

/** A [C][NX] row array as a feature row (one segment). */
export function wholeRow(row: Float32Array, count: number): FeatureRow {
  return [{ i0: 0, i1: count, data: row, offset: 0, channelStride: count }];
}

/**
 * Pixels across one feature pass (plus its halo). On the CPU narrow tiles keep a pass's maps in cache: with 256
 * instead of 1024 (npm run bench, 2 cores) the default's feature pass took 7.5 instead of 8.8 s per 16 MP and
 * peak memory fell from 577 to 487 MB (519 at 100 MP). The GPU was measured with 1024 (GPU_TILE_WIDTH), where
 * fewer, larger runs suit it.
 */
export const TILE_WIDTH = 256;
export const GPU_TILE_WIDTH = 1024;
/** Feature chunks computed ahead of the one being mosaicked. */
const CHUNKS_AHEAD = 2;

/** Columns [x, x + w) of a [bands, h, width] window. */
function columns(data: Float32Array, bands: number, h: number, width: number, x: number, w: number): Float32Array {
  const out = new Float32Array(bands * h * w);
  for (let r = 0; r < bands * h; r++) out.set(data.subarray(r * width + x, r * width + x + w), r * w);
  return out;
}

export function latticeOf(network: Network): FeatureLattice {
  return new FeatureLattice(network.model.description.architecture.layers, network.prunedPools, network.geometry.stride, network.geometry.offset);
}

/** Streams the mosaic top to bottom; returns the block scores (computed or given). */
export async function* mosaicCam(network: Network, source: PreparedSource, grid: BlockGrid, options: CamOptions): AsyncGenerator<CamRows, BlockScores> {
  const onProgress = options.onProgress ?? noProgress;
  const lattice = latticeOf(network);
  const { width, height } = source;
  const C = network.channels;
  const nx = grid.xs.length;
  const ny = grid.ys.length;
  const { cols, rows } = gridCoverage(lattice, grid, width, height);
  const NX = cols.count;
  const chunkRows = Math.max(1, options.chunkRows ?? Math.ceil(64 / lattice.stride));
  const tileCols = Math.max(1, Math.ceil((options.tileWidth ?? TILE_WIDTH) / lattice.stride));
  const classifier = network.classifier;
  const weights = emptyWeights(nx * ny, C);
  const scores = options.scores ?? emptyScores(grid, C);
  const scored = new Uint8Array(ny).fill(options.scores ? 1 : 0);
  const seconds = options.seconds ?? {};
  const mosaicStarted = () => {
    const t = performance.now();
    return () => void (seconds.mosaic = (seconds.mosaic ?? 0) + (performance.now() - t) / 1000);
  };
  const intervals = memberIntervals(cols);
  const scratch = { sum: new Float64Array((intervals.edges.length - 1) * C), count: new Int32Array(intervals.edges.length - 1) };

  const features = new Map<number, FeatureRow>(); // relative lattice row -> its features
  const chunkMaps: { to: number; maps: FeatureMap[] }[] = []; // the runtime's outputs, until their rows are final
  const pixelValid = new Map<number, Uint8Array>(); // pixel row -> [width]
  const pixelDark = new Map<number, Uint8Array>(); // pixel row -> [width], with a dark guard
  const guard = options.darkGuard;
  const camRows = new Map<number, Float32Array>(); // relative lattice row -> [NX]
  const sums = new Map<number, { sum: Float64Array; count: Int32Array }>(); // block row -> per block
  const rowDone = new Uint8Array(ny);
  let next = 0; // next lattice row (relative) to compute
  let finalized = 0; // next lattice row to turn into map values
  let yOut = 0; // next pixel row to emit

  const [sx, sw] = lattice.inputSpan(cols.first, cols.first + NX);
  const scoring = new Map<number, Promise<void>>();
  /** Scores grid rows `rs` in one go (one window of the trained network), unless already asked for. */
  const scoreRows = (rs: number[]): void => {
    rs = rs.filter((r) => !scoring.has(r));
    if (rs.length === 0) return;
    const done = rs.every((r) => scored[r]) ? Promise.resolve() : scoreBlockRows(network, source, grid, rs, scores);
    done.catch(() => {}); // awaited when the rows' weights are made; a failure must not go unhandled before
    for (const r of rs) scoring.set(r, done);
  };
  const scoreRow = (r: number): Promise<void> => {
    scoreRows([r]);
    return scoring.get(r)!;
  };

  /**
   * Reads the lattice rows [from, to) and runs the feature pass on them, and asks for the scores of the block
   * rows the read completes (their rows are then still prepared in the strip cache).
   */
  const computeChunk = async (from: number, to: number) => {
    const [sy, sh] = lattice.inputSpan(rows.first + from, rows.first + to);
    const t = performance.now();
    const win = await source.read({ x: sx, y: sy, width: sw, height: sh });
    seconds.read = (seconds.read ?? 0) + (performance.now() - t) / 1000;
    const complete = [];
    for (let r = 0; r < ny; r++) if (!scoring.has(r) && grid.ys[r] + grid.blockSize <= sy + sh) complete.push(r);
    scoreRows(complete);
    // The feature pass runs on column tiles of the chunk: the runtime's intermediate maps (several times the
    // input's size) then stay bounded however wide the scene is; valid convolutions give the same values.
    const tiles = [];
    for (let i0 = 0; i0 < NX; i0 += tileCols) {
      const i1 = Math.min(i0 + tileCols, NX);
      const [tx, tw] = lattice.inputSpan(cols.first + i0, cols.first + i1);
      const tile = tw === sw ? win.data : columns(win.data, source.bandCount, sh, sw, tx - sx, tw);
      // A tile cut out here is the network's to keep (moved, not copied, to its thread).
      tiles.push({ i0, i1, fm: network.features(tile, sh, tw, tile !== win.data) });
    }
    const featureRows: FeatureRow[] = Array.from({ length: to - from }, () => []);
    const maps = [];
    for (const { i0, i1, fm: pendingMap } of tiles) {
      const fm = await pendingMap;
      maps.push(fm);
      if (fm.height < to - from || fm.width < i1 - i0) throw new Error(`feature pass gave ${fm.width} x ${fm.height}, expected at least ${i1 - i0} x ${to - from}`);
      const channelStride = fm.height * fm.width;
      for (let j = 0; j < to - from; j++) featureRows[j].push({ i0, i1, data: fm.data, offset: j * fm.width, channelStride });
    }
    return { from, to, sy, sh, win, featureRows, maps };
  };
  // Chunks ahead: while the network computes the next chunks (on its worker thread), this thread mosaics the
  // current one. Two ahead: 16 MP in 20.4 s against 22.0 s with one, for about 20 % more peak memory.
  const ahead: ReturnType<typeof computeChunk>[] = [];
  let requested = 0;
  const requestAhead = () => {
    while (ahead.length < CHUNKS_AHEAD && requested < rows.count) {
      const chunk = computeChunk(requested, Math.min(requested + chunkRows, rows.count));
      chunk.catch(() => {}); // awaited in turn; a failure must not go unhandled before that
      ahead.push(chunk);
      requested = Math.min(requested + chunkRows, rows.count);
    }
  };
  requestAhead();

  while (yOut < height) {
    if (ahead.length > 0) {
      const { to: end, sy, sh, win, featureRows, maps } = await ahead.shift()!;
      chunkMaps.push({ to: end, maps });
      requestAhead();
      let stop = mosaicStarted();
      for (let y = Math.max(sy, yOut); y < Math.min(sy + sh, height); y++) {
        if (pixelValid.has(y)) continue;
        const at = (y - sy) * sw - sx;
        pixelValid.set(y, win.valid.slice(at, at + width));
        if (guard) {
          const plane = win.data.subarray(guard.channel * sw * sh + at, guard.channel * sw * sh + at + width);
          const dark = new Uint8Array(width);
          for (let x = 0; x < width; x++) dark[x] = plane[x] < guard.below ? 1 : 0;
          pixelDark.set(y, dark);
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
        accumulateMeans(j, row, valid, rows, intervals, C, nx, ny, sums, scratch);
      }
      next = end;
      for (let r = 0; r < ny; r++) {
        if (rowDone[r] || rows.memberTo[r] > next) continue;
        stop();
        await scoreRow(r);
        stop = mosaicStarted();
        scored[r] = 1;
        const acc = sums.get(r) ?? { sum: new Float64Array(nx * C), count: new Int32Array(nx) };
        for (let c = 0; c < nx; c++) {
          const b = r * nx + c;
          channelWeights(b, scores.logit[b], scores.pooled, acc.sum.subarray(c * C, (c + 1) * C), acc.count[c], classifier, options.gate, weights);
        }
        rowDone[r] = 1;
        sums.delete(r);
      }
      stop();
      onProgress({ kind: 'progress', stage: 'activation map', done: Math.min(height, Math.round(lattice.position(rows.first + next))), total: height, unit: 'rows' });
    }
    const stop = mosaicStarted();
    while (finalized < next && coveringRowsDone(rows, finalized, rowDone)) {
      camRows.set(finalized, camRow(features.get(finalized)!, rows.cover[finalized], rows.coverTo[finalized], cols, weights, C, nx));
      features.delete(finalized);
      finalized++;
      // A chunk whose rows are all final: its maps go back to the runtime for the next chunks.
      while (chunkMaps.length > 0 && chunkMaps[0].to <= finalized) void network.recycle(chunkMaps.shift()!.maps);
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
      const dark = guard ? new Uint8Array(out.length * width) : undefined;
      out.forEach((row, i) => {
        cam.set(row, i * width);
        valid.set(pixelValid.get(firstY + i)!, i * width);
        pixelValid.delete(firstY + i);
        if (dark) dark.set(pixelDark.get(firstY + i)!, i * width);
        pixelDark.delete(firstY + i);
      });
      const keepFrom = rowSource(lattice, rows, Math.min(yOut, height - 1)).upper - rows.first;
      for (const j of camRows.keys()) if (j < keepFrom) camRows.delete(j);
      stop();
      yield { y: firstY, height: out.length, cam, valid, dark };
    } else {
      stop();
      if (ahead.length === 0 && next >= rows.count && finalized >= rows.count) throw new Error('activation map mosaic stalled');
    }
  }
  // Block rows that cover no lattice row (none in practice) are still scored, so the scores are complete.
  for (let r = 0; r < ny; r++) if (!scored[r]) await scoreRow(r);
  return scores;
}

function coveringRowsDone(rows: AxisCoverage, j: number, rowDone: Uint8Array): boolean {
  for (let r = rows.cover[j]; r <= rows.coverTo[j]; r++) if (!rowDone[r]) return false;
  return true;
}

/**
 * Cuts an axis at every block's first and last member point: each block's members are a run of whole intervals
 * (two at 50 % overlap), so a row's sums per interval give every block's sum without a pass per block.
 */
interface MemberIntervals {
  /** Interval t is points [edges[t], edges[t + 1]). */
  edges: Int32Array;
  /** Per block: its intervals [from, to) (from = to for a block without member points). */
  from: Int32Array;
  to: Int32Array;
}

function memberIntervals(cols: AxisCoverage): MemberIntervals {
  const edges = Int32Array.from(new Set([...cols.memberFrom, ...cols.memberTo])).sort();
  const index = new Map(Array.from(edges, (e, t) => [e, t]));
  return {
    edges,
    from: Int32Array.from(cols.memberFrom, (p) => index.get(p)!),
    to: Int32Array.from(cols.memberTo, (p) => index.get(p)!),
  };
}

/** Adds one lattice row's valid features to the running sums of the blocks it is a member of. */
function accumulateMeans(
  j: number, row: FeatureRow, valid: Uint8Array, rows: AxisCoverage, intervals: MemberIntervals, C: number, nx: number, ny: number,
  sums: Map<number, { sum: Float64Array; count: Int32Array }>, scratch: { sum: Float64Array; count: Int32Array },
): void {
  const { edges } = intervals;
  const T = edges.length - 1;
  let member = false;
  for (let r = 0; r < ny && !member; r++) member = j >= rows.memberFrom[r] && j < rows.memberTo[r];
  if (!member) return;
  // Per interval and channel: the sum over its valid points (a plain sum when all are valid, the usual case).
  for (let t = 0; t < T; t++) {
    let n = 0;
    for (let i = edges[t]; i < edges[t + 1]; i++) n += valid[i];
    scratch.count[t] = n;
  }
  scratch.sum.fill(0);
  // Four channels at a time, sweeping their runs of the row in order: four independent sums per point instead
  // of one dependent chain, and the channels' memory read as four sequential streams.
  for (const { i0, i1, data, offset, channelStride } of row) {
    let tFirst = 0;
    while (tFirst < T && edges[tFirst + 1] <= i0) tFirst++;
    let tEnd = tFirst;
    while (tEnd < T && edges[tEnd] < i1) tEnd++;
    for (let k = 0; k < C; k += 4) {
      const b0 = offset + k * channelStride - i0;
      // Channels past C (when C is not a multiple of 4) read channel k again and are not stored.
      const b1 = k + 1 < C ? b0 + channelStride : b0;
      const b2 = k + 2 < C ? b0 + 2 * channelStride : b0;
      const b3 = k + 3 < C ? b0 + 3 * channelStride : b0;
      for (let t = tFirst; t < tEnd; t++) {
        const n = scratch.count[t];
        if (n === 0) continue;
        const from = Math.max(edges[t], i0);
        const to = Math.min(edges[t + 1], i1);
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        if (n === edges[t + 1] - edges[t]) {
          for (let i = from; i < to; i++) {
            s0 += data[b0 + i];
            s1 += data[b1 + i];
            s2 += data[b2 + i];
            s3 += data[b3 + i];
          }
        } else {
          for (let i = from; i < to; i++) {
            if (!valid[i]) continue;
            s0 += data[b0 + i];
            s1 += data[b1 + i];
            s2 += data[b2 + i];
            s3 += data[b3 + i];
          }
        }
        const at = t * C + k;
        scratch.sum[at] += s0;
        if (k + 1 < C) scratch.sum[at + 1] += s1;
        if (k + 2 < C) scratch.sum[at + 2] += s2;
        if (k + 3 < C) scratch.sum[at + 3] += s3;
      }
    }
  }
  for (let r = 0; r < ny; r++) {
    if (j < rows.memberFrom[r] || j >= rows.memberTo[r]) continue;
    let acc = sums.get(r);
    if (!acc) {
      acc = { sum: new Float64Array(nx * C), count: new Int32Array(nx) };
      sums.set(r, acc);
    }
    for (let c = 0; c < nx; c++) {
      for (let t = intervals.from[c]; t < intervals.to[c]; t++) {
        if (scratch.count[t] === 0) continue;
        acc.count[c] += scratch.count[t];
        for (let k = 0; k < C; k++) acc.sum[c * C + k] += scratch.sum[t * C + k];
      }
    }
  }
}

/**
 * One lattice row of the mosaic: along the row, runs of points share their covering blocks; each run's weights
 * are averaged over the used blocks once, then applied to every point's features, channel by channel along the
 * row (see accumulateMeans for why this order).
 */
export function camRow(row: FeatureRow, r0: number, r1: number, cols: AxisCoverage, weights: { a: Float32Array; beta: Float32Array; used: Uint8Array }, C: number, nx: number): Float32Array {
  const NX = cols.count;
  const cam = new Float32Array(NX);
  // Runs [start, end) with their averaged channel weights [run][C]; runs no used block covers are NaN.
  const starts: number[] = [];
  const ends: number[] = [];
  const runWeights: number[] = [];
  let i = 0;
  while (i < NX) {
    const c0 = cols.cover[i];
    const c1 = cols.coverTo[i];
    let end = i + 1;
    while (end < NX && cols.cover[end] === c0 && cols.coverTo[end] === c1) end++;
    const a = new Float64Array(C);
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
      cam.fill(beta / used, i, end);
      starts.push(i);
      ends.push(end);
      for (let k = 0; k < C; k++) runWeights.push(a[k] / used);
    }
    i = end;
  }
  // Four channels at a time into a float64 row (fewer loads and stores of the sum per point), then into cam.
  const sum = new Float64Array(NX);
  for (const { i0, i1, data, offset, channelStride } of row) {
    let first = 0;
    while (first < starts.length && ends[first] <= i0) first++;
    for (let k = 0; k < C; k += 4) {
      const b0 = offset + k * channelStride - i0;
      // Channels past C (when C is not a multiple of 4) read channel k again with weight 0.
      const b1 = k + 1 < C ? b0 + channelStride : b0;
      const b2 = k + 2 < C ? b0 + 2 * channelStride : b0;
      const b3 = k + 3 < C ? b0 + 3 * channelStride : b0;
      for (let run = first; run < starts.length && starts[run] < i1; run++) {
        const from = Math.max(starts[run], i0);
        const to = Math.min(ends[run], i1);
        const w = run * C + k;
        const w0 = runWeights[w];
        const w1 = k + 1 < C ? runWeights[w + 1] : 0;
        const w2 = k + 2 < C ? runWeights[w + 2] : 0;
        const w3 = k + 3 < C ? runWeights[w + 3] : 0;
        for (let p = from; p < to; p++) sum[p] += w0 * data[b0 + p] + w1 * data[b1 + p] + w2 * data[b2 + p] + w3 * data[b3 + p];
      }
    }
  }
  for (let p = 0; p < NX; p++) cam[p] += sum[p];
  return cam;
}
