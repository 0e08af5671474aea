/**
 * The mosaic's per-pixel loops as WebAssembly SIMD kernels (assembly/mosaic-kernels.ts says why), and the module
 * memory that holds what they read: feature maps, copied in once as they arrive from the network (their
 * JavaScript buffers go straight back to the runtime). One instance per mosaic, so its memory is freed with the
 * mosaic.
 */
import { MOSAIC_KERNELS_WASM } from './mosaic-kernels.wasm.js';

interface Exports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  weightedChannelSum(features: number, stride: number, C: number, runs: number, R: number, weights: number, betas: number, out: number): void;
  tileIntervalSums(features: number, rowStride: number, channelStride: number, H: number, C: number, intervals: number, T: number, first: number, rows: number, x0: number): void;
}

let compiled: WebAssembly.Module | undefined;

/**
 * One lattice row of features over points [i0, i1), held in a MosaicKernels memory: point i of channel k is the
 * float32 at byte at + 4 * (k * channelStride + i - i0).
 */
export interface FeatureSegment {
  i0: number;
  i1: number;
  at: number;
  channelStride: number;
}
export type FeatureRow = FeatureSegment[];

/**
 * Runs of a row's points that share their channel weights: run r covers points [starts[r], ends[r]) with weights
 * [C] at weights[r * C] and offset betas[r].
 */
export interface WeightRuns {
  count: number;
  starts: Int32Array;
  ends: Int32Array;
  weights: Float64Array;
  betas: Float64Array;
}

/** Ranges of a row laid out in module memory for each segment of the row: R ranges whose bounds are at `bounds`. */
interface SegmentRanges {
  first: number;
  count: number;
  bounds: number;
}

/** Weight runs laid out for the kernels, per segment of a row (segments are the same in every row of a mosaic). */
export interface LaidRuns {
  parts: (SegmentRanges & { weights: number; betas: number })[];
  blocks: { at: number; bytes: number }[];
}

/** An axis's member intervals laid out for the kernels, per segment of a row. */
export interface LaidIntervals {
  segments: { i0: number; i1: number }[];
  parts: SegmentRanges[];
  blocks: { at: number; bytes: number }[];
}

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** The ranges [from[r], to[r]) that meet [i0, i1), clipped and relative to i0. */
function clippedRanges(from: ArrayLike<number>, to: ArrayLike<number>, count: number, i0: number, i1: number): { first: number; bounds: Int32Array } {
  let first = 0;
  while (first < count && to[first] <= i0) first++;
  let last = first;
  while (last < count && from[last] < i1) last++;
  const bounds = new Int32Array(2 * (last - first));
  for (let r = first; r < last; r++) {
    bounds[2 * (r - first)] = Math.max(from[r], i0) - i0;
    bounds[2 * (r - first) + 1] = Math.min(to[r], i1) - i0;
  }
  return { first, bounds };
}

export class MosaicKernels {
  private readonly k: Exports;
  private end: number;
  /**
   * Free blocks, by address, neighbours merged. Best fit: feature tiles come in any width (the feature pass skips
   * gated columns), and reuse by exact size let memory grow with every new width (61 vs 34 MB on a 2048 x 1200
   * mostly clear stripe).
   */
  private readonly free: { at: number; size: number }[] = [];

  constructor() {
    compiled ??= new WebAssembly.Module(Uint8Array.from(atob(MOSAIC_KERNELS_WASM), (c) => c.charCodeAt(0)));
    this.k = new WebAssembly.Instance(compiled).exports as unknown as Exports;
    this.end = this.k.heapBase();
  }

  allocate(bytes: number): number {
    const size = align(Math.max(1, bytes));
    let best = -1;
    for (let i = 0; i < this.free.length; i++) if (this.free[i].size >= size && (best < 0 || this.free[i].size < this.free[best].size)) best = i;
    if (best >= 0) {
      const block = this.free[best];
      const at = block.at;
      if (block.size === size) this.free.splice(best, 1);
      else {
        block.at += size;
        block.size -= size;
      }
      return at;
    }
    // A free block at the end grows into new memory instead of being left behind.
    let at = this.end;
    const last = this.free.at(-1);
    if (last && last.at + last.size === this.end) {
      this.free.pop();
      at = last.at;
    }
    this.end = at + size;
    const missing = this.end - this.k.memory.buffer.byteLength;
    if (missing > 0) this.k.memory.grow(Math.ceil(missing / 65536));
    return at;
  }

  /** Bytes of module memory reserved so far (it never shrinks). */
  get reservedBytes(): number {
    return this.k.memory.buffer.byteLength;
  }

  /** Frees a block from `allocate` (with the bytes asked for). */
  release(at: number, bytes: number): void {
    const size = align(Math.max(1, bytes));
    let i = 0;
    while (i < this.free.length && this.free[i].at < at) i++;
    this.free.splice(i, 0, { at, size });
    const next = this.free[i + 1];
    if (next && at + size === next.at) {
      this.free[i].size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.at + prev.size === at) {
      prev.size += this.free[i].size;
      this.free.splice(i, 1);
    }
  }

  float64(at: number, length: number): Float64Array {
    return new Float64Array(this.k.memory.buffer, at, length);
  }

  float32(at: number, length: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, at, length);
  }

  bytes(at: number, length: number): Uint8Array {
    return new Uint8Array(this.k.memory.buffer, at, length);
  }

  /** Copies `data` in; returns its byte offset, valid until released. */
  store(data: Float32Array): number {
    const at = this.allocate(data.byteLength);
    this.float32(at, data.length).set(data);
    return at;
  }

  /** Lays out the ranges of each segment's part of an axis. */
  private layRanges(from: ArrayLike<number>, to: ArrayLike<number>, count: number, segments: { i0: number; i1: number }[], blocks: { at: number; bytes: number }[]): SegmentRanges[] {
    return segments.map(({ i0, i1 }) => {
      const { first, bounds } = clippedRanges(from, to, count, i0, i1);
      const at = this.allocate(Math.max(4, bounds.byteLength));
      blocks.push({ at, bytes: Math.max(4, bounds.byteLength) });
      new Int32Array(this.k.memory.buffer, at, bounds.length).set(bounds);
      return { first, count: bounds.length / 2, bounds: at };
    });
  }

  layRuns(runs: WeightRuns, segments: FeatureRow, C: number): LaidRuns {
    const blocks: { at: number; bytes: number }[] = [];
    const ranges = this.layRanges(runs.starts, runs.ends, runs.count, segments, blocks);
    const weights = this.allocate(8 * Math.max(1, runs.count * C));
    const betas = this.allocate(8 * Math.max(1, runs.count));
    blocks.push({ at: weights, bytes: 8 * Math.max(1, runs.count * C) }, { at: betas, bytes: 8 * Math.max(1, runs.count) });
    this.float64(weights, runs.count * C).set(runs.weights.subarray(0, runs.count * C));
    this.float64(betas, runs.count).set(runs.betas.subarray(0, runs.count));
    return { blocks, parts: ranges.map((r) => ({ ...r, weights: weights + 8 * r.first * C, betas: betas + 8 * r.first })) };
  }

  layIntervals(edges: Int32Array, segments: { i0: number; i1: number }[]): LaidIntervals {
    const blocks: { at: number; bytes: number }[] = [];
    const T = edges.length - 1;
    return { segments, blocks, parts: this.layRanges(edges.subarray(0, T), edges.subarray(1), T, segments, blocks) };
  }

  releaseAll(laid: { blocks: { at: number; bytes: number }[] }): void {
    for (const b of laid.blocks) this.release(b.at, b.bytes);
  }

  /**
   * One row of the map: beta + sum_k w_k F_k(p) over the runs' points, NaN elsewhere (no used block covers
   * them), for points [0, count).
   */
  weightedRow(row: FeatureRow, laid: LaidRuns, C: number, count: number): Float32Array {
    const out = this.allocate(4 * count);
    this.float32(out, count).fill(NaN);
    row.forEach((segment, s) => {
      const part = laid.parts[s];
      if (part.count > 0) this.k.weightedChannelSum(segment.at, segment.channelStride, C, part.bounds, part.count, part.weights, part.betas, out + 4 * segment.i0);
    });
    const cam = this.float32(out, count).slice();
    this.release(out, 4 * count);
    return cam;
  }

  /**
   * Adds the interval sums of the first H rows of one tile (segment `segment` of its rows) to
   * the rows' accumulators: `rows` is an int32 table in this memory, (sums, valid) per row, as
   * assembly/mosaic-kernels.ts's tileIntervalSums reads it (valid for the whole row).
   */
  tileIntervalSums(at: number, rowStride: number, channelStride: number, H: number, C: number, laid: LaidIntervals, segment: number, rows: number): void {
    const part = laid.parts[segment];
    if (part.count > 0) this.k.tileIntervalSums(at, rowStride, channelStride, H, C, part.bounds, part.count, part.first, rows, laid.segments[segment].i0);
  }

  int32(at: number, length: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, at, length);
  }
}
