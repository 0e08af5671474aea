/**
 * Every block's sums of its member points' pruned features (and how many are valid), streamed row by row: the
 * block means that rescale each block's channels (channel-weights.ts).
 *
 * Both axes are cut at every block's first and last member point, so each block's members are a rectangle of
 * whole cells (2 x 2 at 50 % overlap). Each row adds its features to its cell row's per-cell sums (a kernel,
 * mosaic-kernels.ts, run on each feature tile as it arrives, while it is in cache); a block row's sums are then a
 * few cell sums, not a pass over its points, and each point is added once however many blocks hold it.
 */
import type { AxisCoverage } from './coverage.js';
import type { LaidIntervals, MosaicKernels } from './mosaic-kernels.js';

/** An axis cut into intervals: cell t is points [edges[t], edges[t + 1]); block b's cells are [from[b], to[b]). */
interface MemberIntervals {
  edges: Int32Array;
  from: Int32Array;
  to: Int32Array;
}

function memberIntervals(axis: AxisCoverage): MemberIntervals {
  const edges = Int32Array.from(new Set([...axis.memberFrom, ...axis.memberTo])).sort();
  const index = new Map(Array.from(edges, (e, t) => [e, t]));
  return {
    edges,
    from: Int32Array.from(axis.memberFrom, (p) => index.get(p)!),
    to: Int32Array.from(axis.memberTo, (p) => index.get(p)!),
  };
}

/**
 * Rows of one chunk registered for their tiles' sums: an int32 table (sums, valid) per row in kernel memory, and
 * the axis's intervals laid out for the chunk's tiles (the feature pass skips columns only gated blocks hold, so
 * each chunk has its own tiles).
 */
export interface ChunkRows {
  table: number;
  count: number;
  laid: LaidIntervals;
  blocks: { at: number; bytes: number }[];
}

export class BlockFeatureSums {
  private readonly xs: MemberIntervals;
  private readonly ys: MemberIntervals;
  /** Per row interval: float64 sums [x interval][channel] in the kernels' memory, and valid counts per x interval. */
  private readonly cells = new Map<number, { at: number; count: Int32Array }>();
  /** Per row interval: the last block row that needs it. */
  private readonly lastUser: Int32Array;

  constructor(
    private readonly kernels: MosaicKernels,
    cols: AxisCoverage,
    rows: AxisCoverage,
    private readonly C: number,
  ) {
    this.xs = memberIntervals(cols);
    this.ys = memberIntervals(rows);
    this.lastUser = new Int32Array(Math.max(0, this.ys.edges.length - 1)).fill(-1);
    this.ys.from.forEach((from, r) => {
      for (let u = from; u < this.ys.to[r]; u++) this.lastUser[u] = Math.max(this.lastUser[u], r);
    });
  }

  /**
   * Registers lattice rows j0, j0 + 1, ... (relative indices) with a validity byte per point each: counts their
   * valid points and says where the sums of their feature tiles (points [i0, i1) each) go (addTile).
   */
  beginRows(j0: number, valid: Uint8Array[], tiles: { i0: number; i1: number }[]): ChunkRows {
    const { kernels, C } = this;
    const T = this.xs.edges.length - 1;
    const xe = this.xs.edges;
    const ye = this.ys.edges;
    const blocks = [{ at: kernels.allocate(8 * valid.length), bytes: 8 * valid.length }];
    const table = kernels.int32(blocks[0].at, 2 * valid.length);
    valid.forEach((v, n) => {
      const j = j0 + n;
      let u = 0;
      while (u < ye.length - 1 && ye[u + 1] <= j) u++;
      table[2 * n] = 0;
      table[2 * n + 1] = 0;
      if (u >= ye.length - 1 || j < ye[u]) return; // in no block
      let cell = this.cells.get(u);
      if (!cell) {
        cell = { at: kernels.allocate(8 * T * C), count: new Int32Array(T) };
        kernels.float64(cell.at, T * C).fill(0);
        this.cells.set(u, cell);
      }
      let allValid = true;
      for (let t = 0; t < T; t++) {
        let count = 0;
        for (let i = xe[t]; i < xe[t + 1]; i++) count += v[i];
        cell.count[t] += count;
        allValid &&= count === xe[t + 1] - xe[t];
      }
      let validAt = 0;
      if (!allValid) {
        validAt = kernels.allocate(v.length);
        blocks.push({ at: validAt, bytes: v.length });
        kernels.bytes(validAt, v.length).set(v);
      }
      // Re-read: an allocation may have grown (and so replaced) the memory under the table's view.
      kernels.int32(blocks[0].at, 2 * valid.length).set([cell.at, validAt], 2 * n);
    });
    return { table: blocks[0].at, count: valid.length, laid: kernels.layIntervals(this.xs.edges, tiles), blocks };
  }

  /**
   * Adds the sums of the rows' tile `tile` (as given to beginRows): a [C][height][width] map at `at` whose first row
   * is the chunk's row `first`, over `count` rows (default all).
   */
  addTile(rows: ChunkRows, tile: number, at: number, width: number, height: number, first = 0, count = rows.count - first): void {
    this.kernels.tileIntervalSums(at, width, width * height, count, this.C, rows.laid, tile, rows.table + 8 * first);
  }

  endRows(rows: ChunkRows): void {
    this.kernels.releaseAll(rows);
    this.kernels.releaseAll(rows.laid);
  }

  /** Gives back the kernels' memory still held (none once every block row is taken). */
  release(): void {
    const T = this.xs.edges.length - 1;
    for (const cell of this.cells.values()) this.kernels.release(cell.at, 8 * T * this.C);
    this.cells.clear();
  }

  /**
   * Block row r's sums [nx][C] and valid counts [nx], once all its member rows are added; frees the cells no
   * later block row needs.
   */
  take(r: number, nx: number): { sum: Float64Array; count: Int32Array } {
    const { C } = this;
    const T = this.xs.edges.length - 1;
    const sum = new Float64Array(nx * C);
    const count = new Int32Array(nx);
    for (let u = this.ys.from[r]; u < this.ys.to[r]; u++) {
      const cell = this.cells.get(u);
      if (!cell) continue;
      const cellSums = this.kernels.float64(cell.at, T * C);
      for (let c = 0; c < nx; c++) {
        for (let t = this.xs.from[c]; t < this.xs.to[c]; t++) {
          if (cell.count[t] === 0) continue;
          count[c] += cell.count[t];
          for (let k = 0; k < C; k++) sum[c * C + k] += cellSums[t * C + k];
        }
      }
      if (this.lastUser[u] <= r) {
        this.kernels.release(cell.at, 8 * T * C);
        this.cells.delete(u);
      }
    }
    return { sum, count };
  }
}
