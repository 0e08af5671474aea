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
 * held (copied into the mosaic kernels' memory, whose blocks are reused once final): about one block height
 * plus the chunks in flight.
 *
 * With the block gate on, a block classified clear is flat at its logit and needs no features. Each chunk's block
 * rows are scored a chunk ahead, so the feature pass runs only over columns that some open block spans: the
 * network's work shrinks with the clear area, and the map is the same.
 */
import { sharedFloats } from '../engine/shared-floats.js';
import type { Network } from '../model/network.js';
import type { PreparedSource } from '../prepare/prepared-source.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import type { BlockGrid } from './block-grid.js';
import { emptyScores, scoreBlockRows, type BlockScores } from './block-scores.js';
import { channelWeights, emptyWeights } from './channel-weights.js';
import { blockSpans, gridCoverage, latticeRowToPixels, rowSource, type AxisCoverage } from './coverage.js';
import { FeatureLattice } from './feature-lattice.js';
import { ruleOutRow, type LinearGuard } from './spectral-guards.js';
import { linearRow, type LinearForm } from './guided-refinement.js';
import { BlockFeatureSums } from './block-sums.js';
import { MosaicKernels, type FeatureRow, type LaidRuns, type WeightRuns } from './mosaic-kernels.js';

export interface CamRows {
  /** First pixel row and number of rows; the output columns' width (`CamOptions.columns`, default the scene's). */
  y: number;
  height: number;
  cam: Float32Array;
  valid: Uint8Array;
  /** 1 where a spectral guard rules cloud out (only with options.guards). */
  ruledOut?: Uint8Array;
  /** The refinement's guide at each pixel (only with options.guide). */
  guide?: Float32Array;
}

export interface CamOptions {
  gate: boolean;
  /**
   * The blocks' pooled scores, if already computed. Otherwise each block row is scored during the pass, from
   * the same prepared rows the feature pass reads, so the scene is read and prepared once.
   */
  scores?: BlockScores;
  /** Spectral tests a cloud pixel must pass (spectral-guards.ts); none: no pixel is ruled out. */
  guards?: LinearGuard[];
  /** A per-pixel form of the input to output beside the map (the refinement's guide; guided-refinement.ts). */
  guide?: LinearForm;
  /** Seconds this thread spends reading ('read') and mosaicking ('mosaic'), added to as the pass runs. */
  seconds?: Record<string, number>;
  /** Lattice rows per feature pass; larger is faster per pixel and holds more memory. */
  chunkRows?: number;
  /** Pixels across one feature pass (default TILE_WIDTH); the chunk's rows are cut into tiles this wide. */
  tileWidth?: number;
  /**
   * With the gate on, the feature pass skips points that lie only in blocks the gate flattens (their map is the
   * blocks' logits, which need no features). Default true; false computes every point (tests compare the two).
   */
  skipGated?: boolean;
  /** Lattice points whose features the pass computed, and all the mosaic's points: added to as the pass runs. */
  points?: { features: number; total: number };
  /**
   * Where the features are held and mosaicked: mosaics run one after another (column stripes) share one, so
   * its memory, which never shrinks, is reused instead of held twice until collected. Default: a new one.
   */
  kernels?: MosaicKernels;
  /**
   * Pixel columns [from, to) of the map to output (default all): a column stripe keeps only its own, so the
   * rows are not made whole-width and cut again.
   */
  columns?: [number, number];
  onProgress?: ProgressCallback;
}

/** A [C][count] row array as a feature row (one segment), stored in `kernels`. */
export function wholeRow(kernels: MosaicKernels, row: Float32Array, count: number): FeatureRow {
  return [{ i0: 0, i1: count, at: kernels.store(row), channelStride: count }];
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
/** Pixels of skippable columns below which a tile is not split (each tile's halo costs 12 px more input). */
const MIN_GAP = 32;

/**
 * Part of a chunk's rows: points [i0, i1), computed by the feature pass over lattice rows [j0, j1) (open), or
 * lying only in gated blocks (there, or in every row when closed).
 */
interface ChunkSegment {
  i0: number;
  i1: number;
  open: boolean;
  j0: number;
  j1: number;
}

/** Rows [y, y + h) and columns [x, x + w) of a [bands, height, width] window, in shared memory (give it back). */
function cutOut(data: Float32Array, bands: number, height: number, width: number, x: number, w: number, y: number, h: number): Float32Array {
  const out = sharedFloats.take(bands * h * w);
  for (let b = 0; b < bands; b++) {
    for (let r = 0; r < h; r++) {
      const from = (b * height + y + r) * width + x;
      out.set(data.subarray(from, from + w), (b * h + r) * w);
    }
  }
  return out;
}

/** Lattice rows per feature chunk: the option, or about 64 pixel rows. */
export function chunkRowsOf(lattice: FeatureLattice, option?: number): number {
  return Math.max(1, option ?? Math.ceil(64 / lattice.stride));
}

export function latticeOf(network: Network): FeatureLattice {
  return new FeatureLattice(network.model.description.architecture.layers, network.prunedPools, network.geometry.stride, network.geometry.offset);
}

/** Streams the mosaic top to bottom; returns the block scores (computed or given). */
export async function* mosaicCam(network: Network, source: PreparedSource, grid: BlockGrid, options: CamOptions): AsyncGenerator<CamRows, BlockScores> {
  const onProgress = options.onProgress ?? noProgress;
  const lattice = latticeOf(network);
  const { width, height } = source;
  const [ox0, ox1] = options.columns ?? [0, width];
  if (!(Number.isInteger(ox0) && Number.isInteger(ox1) && ox0 >= 0 && ox0 < ox1 && ox1 <= width)) throw new RangeError(`output columns ${ox0}..${ox1} are not inside the ${width}-column map`);
  const outWidth = ox1 - ox0;
  const C = network.channels;
  const nx = grid.xs.length;
  const ny = grid.ys.length;
  const { cols, rows } = gridCoverage(lattice, grid, width, height);
  const NX = cols.count;
  const chunkRows = chunkRowsOf(lattice, options.chunkRows);
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
  const kernels = options.kernels ?? new MosaicKernels();
  const blockSums = new BlockFeatureSums(kernels, cols, rows, C);
  let runs: { r0: number; r1: number; segments: ChunkSegment[]; laid: LaidRuns } | undefined; // the weight runs of the rows being finalized
  const features = new Map<number, { row: FeatureRow; segments: ChunkSegment[] }>(); // relative lattice row -> its features
  const chunkMaps: { to: number; maps: { at: number; bytes: number }[] }[] = []; // in kernels' memory, until their rows are final
  // Columns the feature pass skips read zeros (channel stride 0: one row for every channel); only flattened blocks,
  // whose channel weights are 0, lie over them.
  const zeros = kernels.allocate(4 * NX);
  kernels.float32(zeros, NX).fill(0);
  const pixelValid = new Map<number, Uint8Array>(); // pixel row -> [width]
  const pixelRuledOut = new Map<number, Uint8Array>(); // pixel row -> [width], with guards
  const guards = options.guards?.length ? options.guards : undefined;
  const pixelGuide = new Map<number, Float32Array>(); // pixel row -> [width], with options.guide
  const guide = options.guide;
  const camRows = new Map<number, Float32Array>(); // relative lattice row -> [NX]
  const rowDone = new Uint8Array(ny);
  let next = 0; // next lattice row (relative) to compute
  let finalized = 0; // next lattice row to turn into map values
  let yOut = 0; // next pixel row to emit

  const [sx, sw] = lattice.inputSpan(cols.first, cols.first + NX);
  // With all pools pruned, lattice point i is pixel i: rows of validity are then plain copies.
  const pixelsInOrder = cols.pixel.every((p, i) => p === i);
  const spanRows = blockSpans(rows, ny);
  const spanCols = blockSpans(cols, nx);
  const skipGated = options.gate && options.skipGated !== false;
  const minGap = Math.ceil(MIN_GAP / lattice.stride);
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
  /** Block rows whose span meets lattice rows [from, to). */
  const blockRowsOf = (from: number, to: number): number[] => {
    const rs = [];
    for (let r = 0; r < ny; r++) if (spanRows.from[r] < to && spanRows.to[r] > from) rs.push(r);
    return rs;
  };
  /**
   * Lattice rows [from, to) cut into segments: open where a block the gate lets through spans the point (or
   * everywhere without skipping), in tiles of at most `tileCols` points.
   */
  const segmentsOf = (from: number, to: number): ChunkSegment[] => {
    const open = new Uint8Array(NX).fill(skipGated ? 0 : 1);
    const openBlocks: [number, number][] = [];
    if (skipGated) {
      for (const r of blockRowsOf(from, to)) {
        for (let c = 0; c < nx; c++) {
          if (scores.logit[r * nx + c] < 0 || spanCols.from[c] >= spanCols.to[c]) continue;
          openBlocks.push([r, c]);
          open.fill(1, spanCols.from[c], spanCols.to[c]);
        }
      }
      // Gaps too narrow to pay for another tile's halo are computed.
      for (let i = 0; i < NX; ) {
        let end = i;
        while (end < NX && !open[end]) end++;
        if (end > i && i > 0 && end < NX && end - i < minGap) open.fill(1, i, end);
        i = Math.max(end, i + 1);
      }
    }
    const segments: ChunkSegment[] = [];
    for (let i = 0; i < NX; ) {
      let end = i + 1;
      while (end < NX && open[end] === open[i] && (!open[i] || end - i < tileCols)) end++;
      segments.push({ i0: i, i1: end, open: open[i] === 1, j0: from, j1: to });
      i = end;
    }
    if (!skipGated) return segments;
    // An open tile runs over the rows its open blocks span (fewer rows cost no extra halo, unlike a column split).
    for (const segment of segments) {
      if (!segment.open) continue;
      let [j0, j1] = [to, from];
      for (const [r, c] of openBlocks) {
        if (spanCols.from[c] >= segment.i1 || spanCols.to[c] <= segment.i0) continue;
        j0 = Math.min(j0, Math.max(from, spanRows.from[r]));
        j1 = Math.max(j1, Math.min(to, spanRows.to[r]));
      }
      if (j0 >= j1) segment.open = false; // a narrow gap filled in, cut off by the tile width
      else [segment.j0, segment.j1] = [j0, j1];
    }
    return segments;
  };

  /**
   * Reads the lattice rows [from, to) and runs the feature pass on their open segments. The scores of the block
   * rows these rows need were asked for with the chunk before; this asks for the next chunk's, so the gate's
   * verdict is in before the next feature pass is queued behind this one.
   */
  const computeChunk = async (from: number, to: number) => {
    const rowsScored = blockRowsOf(from, to);
    scoreRows(rowsScored);
    if (to < rows.count) scoreRows(blockRowsOf(to, Math.min(to + chunkRows, rows.count)));
    const [sy, sh] = lattice.inputSpan(rows.first + from, rows.first + to);
    const t = performance.now();
    const win = await source.read({ x: sx, y: sy, width: sw, height: sh });
    seconds.read = (seconds.read ?? 0) + (performance.now() - t) / 1000;
    if (skipGated) for (const r of rowsScored) await scoring.get(r);
    const segments = segmentsOf(from, to);
    // The feature pass runs on column tiles of the chunk: the runtime's intermediate maps (several times the
    // input's size) then stay bounded however wide the scene is; valid convolutions give the same values.
    const tiles = [];
    for (const { i0, i1, open, j0, j1 } of segments) {
      if (!open) continue;
      const [tx, tw] = lattice.inputSpan(cols.first + i0, cols.first + i1);
      const [ty, th] = lattice.inputSpan(rows.first + j0, rows.first + j1);
      const tile = tw === sw && th === sh ? win.data : cutOut(win.data, source.bandCount, sh, sw, tx - sx, tw, ty - sy, th);
      tiles.push({ i0, i1, tile, fm: network.features(tile, th, tw) });
      if (options.points) options.points.features += (i1 - i0) * (j1 - j0);
    }
    if (options.points) options.points.total += NX * (to - from);
    // Each lattice row's validity: its block sums count valid points only.
    const valid = Array.from({ length: to - from }, (_, n) => {
      const v = new Uint8Array(NX);
      const py = rows.pixel[from + n];
      if (py >= 0) {
        const at = (py - sy) * sw - sx;
        if (pixelsInOrder) v.set(win.valid.subarray(at, at + NX));
        else {
          for (let i = 0; i < NX; i++) {
            const px = cols.pixel[i];
            v[i] = px >= 0 ? win.valid[at + px] : 0;
          }
        }
      }
      return v;
    });
    const sumRows = blockSums.beginRows(from, valid, tiles);
    const featureRows: FeatureRow[] = Array.from({ length: to - from }, () => []);
    const maps = [];
    let s = 0;
    for (const { i0, i1, open, j0, j1 } of segments) {
      const gap = { i0, i1, at: zeros, channelStride: 0 };
      if (!open) {
        for (const row of featureRows) row.push(gap);
        continue;
      }
      const fm = await tiles[s].fm;
      if (tiles[s].tile !== win.data) sharedFloats.give(tiles[s].tile);
      if (fm.height < j1 - j0 || fm.width < i1 - i0) throw new Error(`feature pass gave ${fm.width} x ${fm.height}, expected at least ${i1 - i0} x ${j1 - j0}`);
      const stop = mosaicStarted();
      const channelStride = fm.height * fm.width;
      const at = kernels.store(fm.data.subarray(0, C * channelStride));
      // Copied: the runtime's buffer goes back to it for the next chunks.
      void network.recycle([fm]);
      maps.push({ at, bytes: 4 * C * channelStride });
      for (let j = from; j < to; j++) featureRows[j - from].push(j >= j0 && j < j1 ? { i0, i1, at: at + 4 * (j - j0) * fm.width, channelStride } : gap);
      blockSums.addTile(sumRows, s, at, fm.width, fm.height, j0 - from, j1 - j0);
      s++;
      stop();
    }
    blockSums.endRows(sumRows);
    return { from, to, sy, sh, win, featureRows, segments, maps };
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
      const { to: end, sy, sh, win, featureRows, segments, maps } = await ahead.shift()!;
      chunkMaps.push({ to: end, maps });
      requestAhead();
      let stop = mosaicStarted();
      for (let y = Math.max(sy, yOut); y < Math.min(sy + sh, height); y++) {
        if (pixelValid.has(y)) continue;
        const at = (y - sy) * sw - sx;
        pixelValid.set(y, win.valid.slice(at, at + width));
        if (guards) {
          const ruledOut = new Uint8Array(width);
          ruleOutRow(guards, win.data, sw * sh, at, width, ruledOut);
          pixelRuledOut.set(y, ruledOut);
        }
        if (guide) {
          const g = new Float32Array(width);
          linearRow(guide, win.data, sw * sh, at, width, g);
          pixelGuide.set(y, g);
        }
      }
      sharedFloats.give(win.data); // its tiles are done (computeChunk awaited them)
      for (let j = next; j < end; j++) features.set(j, { row: featureRows[j - next], segments });
      next = end;
      for (let r = 0; r < ny; r++) {
        if (rowDone[r] || rows.memberTo[r] > next) continue;
        stop();
        await scoreRow(r);
        stop = mosaicStarted();
        scored[r] = 1;
        const acc = blockSums.take(r, nx);
        for (let c = 0; c < nx; c++) {
          const b = r * nx + c;
          channelWeights(b, scores.logit[b], scores.pooled, acc.sum.subarray(c * C, (c + 1) * C), acc.count[c], classifier, options.gate, weights);
        }
        rowDone[r] = 1;
      }
      stop();
      onProgress({ kind: 'progress', stage: 'activation map', done: Math.min(height, Math.round(lattice.position(rows.first + next))), total: height, unit: 'rows' });
    }
    const stop = mosaicStarted();
    while (finalized < next && coveringRowsDone(rows, finalized, rowDone)) {
      const [r0, r1] = [rows.cover[finalized], rows.coverTo[finalized]];
      const { row, segments } = features.get(finalized)!;
      if (!runs || runs.r0 !== r0 || runs.r1 !== r1 || runs.segments !== segments) {
        // Rows between the same block rows (and in one chunk) share their runs' weights.
        if (runs) kernels.releaseAll(runs.laid);
        runs = { r0, r1, segments, laid: kernels.layRuns(weightRuns(r0, r1, cols, weights, C, nx), row, C) };
      }
      camRows.set(finalized, kernels.weightedRow(row, runs.laid, C, NX));
      features.delete(finalized);
      finalized++;
      // A chunk whose rows are all final: its maps' memory is reused.
      while (chunkMaps.length > 0 && chunkMaps[0].to <= finalized) for (const m of chunkMaps.shift()!.maps) kernels.release(m.at, m.bytes);
    }
    // Pixel rows whose two lattice rows are final.
    const firstY = yOut;
    const final = (y: number) => {
      const { upper, lower } = rowSource(lattice, rows, y);
      return camRows.has(upper - rows.first) && camRows.has(lower - rows.first);
    };
    while (yOut < height && final(yOut)) yOut++;
    const count = yOut - firstY;
    if (count > 0) {
      const cam = new Float32Array(count * outWidth);
      const valid = new Uint8Array(count * outWidth);
      const ruledOut = guards ? new Uint8Array(count * outWidth) : undefined;
      const guideOut = guide ? new Float32Array(count * outWidth) : undefined;
      for (let i = 0; i < count; i++) {
        const y = firstY + i;
        const { upper, lower, fy } = rowSource(lattice, rows, y);
        latticeRowToPixels(lattice, cols, camRows.get(upper - rows.first)!, camRows.get(lower - rows.first)!, fy, width, cam, i * outWidth, [ox0, ox1]);
        valid.set(pixelValid.get(y)!.subarray(ox0, ox1), i * outWidth);
        pixelValid.delete(y);
        if (ruledOut) ruledOut.set(pixelRuledOut.get(y)!.subarray(ox0, ox1), i * outWidth);
        pixelRuledOut.delete(y);
        if (guideOut) guideOut.set(pixelGuide.get(y)!.subarray(ox0, ox1), i * outWidth);
        pixelGuide.delete(y);
      }
      const keepFrom = rowSource(lattice, rows, Math.min(yOut, height - 1)).upper - rows.first;
      for (const j of camRows.keys()) if (j < keepFrom) camRows.delete(j);
      stop();
      yield { y: firstY, height: count, cam, valid, ruledOut, guide: guideOut };
    } else {
      stop();
      if (ahead.length === 0 && next >= rows.count && finalized >= rows.count) throw new Error('activation map mosaic stalled');
    }
  }
  // Block rows that cover no lattice row (none in practice) are still scored, so the scores are complete.
  for (let r = 0; r < ny; r++) if (!scored[r]) await scoreRow(r);
  if (runs) kernels.releaseAll(runs.laid);
  kernels.release(zeros, 4 * NX);
  blockSums.release();
  return scores;
}

function coveringRowsDone(rows: AxisCoverage, j: number, rowDone: Uint8Array): boolean {
  for (let r = rows.cover[j]; r <= rows.coverTo[j]; r++) if (!rowDone[r]) return false;
  return true;
}

/**
 * Along a lattice row, runs of points share their covering blocks; each run's channel weights and offset are the
 * means over the used blocks among them (block rows r0 to r1). Runs no used block covers are left out.
 */
export function weightRuns(r0: number, r1: number, cols: AxisCoverage, weights: { a: Float32Array; beta: Float32Array; used: Uint8Array }, C: number, nx: number): WeightRuns {
  const NX = cols.count;
  let count = 0;
  for (let i = 1; i <= NX; i++) if (i === NX || cols.cover[i] !== cols.cover[i - 1] || cols.coverTo[i] !== cols.coverTo[i - 1]) count++;
  const runs: WeightRuns = { count: 0, starts: new Int32Array(count), ends: new Int32Array(count), weights: new Float64Array(count * C), betas: new Float64Array(count) };
  let i = 0;
  while (i < NX) {
    const c0 = cols.cover[i];
    const c1 = cols.coverTo[i];
    let end = i + 1;
    while (end < NX && cols.cover[end] === c0 && cols.coverTo[end] === c1) end++;
    const a = runs.weights.subarray(runs.count * C, (runs.count + 1) * C);
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
    if (used > 0) {
      for (let k = 0; k < C; k++) a[k] /= used;
      runs.betas[runs.count] = Math.fround(beta / used);
      runs.starts[runs.count] = i;
      runs.ends[runs.count] = end;
      runs.count++;
    }
    i = end;
  }
  return runs;
}
