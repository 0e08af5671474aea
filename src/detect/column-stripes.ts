/**
 * Column stripes: a scene wider than one stripe is mosaicked one column stripe after another, so that what the
 * row-streaming mosaic holds (feature chunks, prepared rows; cam-mosaic.ts) is bounded by the stripe's width,
 * not the scene's, and peak memory stays flat as scenes grow in both directions.
 *
 * Each stripe runs the ordinary mosaic on a view of the scene: the grid's blocks that reach within one lattice
 * step of the stripe's output columns, laid out from a lattice-aligned start. Every output pixel is then
 * interpolated from lattice points whose covering blocks are all in the view, the feature pass reads the real
 * neighbours past the view's sides, and the nodata fill still looks along whole rows (prepared-source.ts), so
 * the stripes give the whole-scene map. Blocks in the overlap are computed by both stripes (about one block
 * width per stripe edge).
 */
import type { Network } from '../model/network.js';
import { columnView, type PreparedSource } from '../prepare/prepared-source.js';
import { noProgress } from '../progress.js';
import type { BlockGrid } from './block-grid.js';
import { latticeOf, mosaicCam, type CamOptions } from './cam-mosaic.js';
import { axisCoverage } from './coverage.js';
import { MosaicKernels } from './mosaic-kernels.js';

/**
 * Default stripe width in pixels: a multiple of 512, so stripes cut no tile of the written GeoTIFFs. Against 4096
 * (npm run bench): peak memory 571 / 609 MB at 16 / 100 MP instead of 684 / 731, at the same speed within noise.
 */
export const STRIPE_WIDTH = 2048;

/** Part of the scene's map: columns [x, x + width), rows [y, y + height), row-major. */
export interface CamWindow {
  x: number;
  y: number;
  width: number;
  height: number;
  cam: Float32Array;
  valid: Uint8Array;
  /** 1 where a spectral guard rules cloud out (only with guards). */
  ruledOut?: Uint8Array;
  /** The refinement's guide (only with a guide; guided-refinement.ts). */
  guide?: Float32Array;
}

export interface ColumnStripe {
  /** Output columns [x0, x1). */
  x0: number;
  x1: number;
  /** The view: scene columns [viewX, viewX + viewWidth). */
  viewX: number;
  viewWidth: number;
  /** The grid's block columns [c0, c1) in the view. */
  c0: number;
  c1: number;
}

export function columnStripes(grid: BlockGrid, width: number, stripeWidth: number, latticeStride: number): ColumnStripe[] {
  if (width <= stripeWidth) return [{ x0: 0, x1: width, viewX: 0, viewWidth: width, c0: 0, c1: grid.xs.length }];
  const { xs, blockSize } = grid;
  const stripes: ColumnStripe[] = [];
  for (let x0 = 0; x0 < width; x0 += stripeWidth) {
    const x1 = Math.min(width, x0 + stripeWidth);
    // Pixels at the sides are interpolated from lattice points up to one step outside.
    const from = x0 - latticeStride;
    const to = x1 + latticeStride;
    let c0 = 0;
    while (xs[c0] + blockSize <= from) c0++;
    let c1 = xs.length;
    while (c1 > c0 + 1 && xs[c1 - 1] >= to) c1--;
    // The view starts on the scene's lattice, so its feature points are the scene's.
    const viewX = Math.floor(xs[c0] / latticeStride) * latticeStride;
    stripes.push({ x0, x1, viewX, viewWidth: Math.min(width, xs[c1 - 1] + blockSize) - viewX, c0, c1 });
  }
  return stripes;
}

/**
 * The scene's map, stripe by stripe, each top to bottom. `prepare(columns)` gives the scene prepared over
 * those columns only. Returns every block's logit (row-major over the grid).
 */
export async function* stripedCam(
  network: Network, prepare: (columns: [number, number]) => PreparedSource, [width, height]: [number, number], grid: BlockGrid,
  options: Omit<CamOptions, 'scores'> & {
    stripeWidth?: number;
    /** Told the columns each stripe will read, in order, before the first is read (RasterSource.sweep). */
    sweep?: (columns: [number, number][]) => void;
  },
): AsyncGenerator<CamWindow, Float32Array> {
  const stripes = columnStripes(grid, width, options.stripeWidth ?? STRIPE_WIDTH, latticeOf(network).stride);
  if (stripes.length > 1) options.sweep?.(stripes.map((s) => stripeColumns(network, width, grid, s)));
  const logits = new Float32Array(grid.xs.length * grid.ys.length);
  const onProgress = options.onProgress ?? noProgress;
  const kernels = options.kernels ?? new MosaicKernels();
  let pixelsDone = 0;
  for (const s of stripes) {
    const stripeWidth = s.x1 - s.x0;
    const progress = stripes.length === 1 ? onProgress : (e: Parameters<typeof onProgress>[0]) => {
      // One bar over all stripes, in megapixels.
      if (e.kind !== 'progress') return onProgress(e);
      const done = pixelsDone + stripeWidth * e.done;
      onProgress({ ...e, done: Math.round(done / 1e5) / 10, total: Math.round((width * e.total) / 1e5) / 10, unit: 'Mpx' });
    };
    const part = yield* stripeCam(network, prepare, width, grid, s, stripes.length === 1, { ...options, kernels, onProgress: progress });
    placeLogits(logits, grid, s, part);
    pixelsDone += stripeWidth * height;
  }
  return logits;
}

/** Copies a stripe's block logits (its view's block columns, row-major) into the scene's. */
export function placeLogits(logits: Float32Array, grid: BlockGrid, s: ColumnStripe, part: Float32Array): void {
  const n = s.c1 - s.c0;
  for (let r = 0; r < grid.ys.length; r++) logits.set(part.subarray(r * n, (r + 1) * n), r * grid.xs.length + s.c0);
}

/** The scene columns [from, to) a stripe reads: its view's lattice points and their halo, mirrored at the scene's sides. */
export function stripeColumns(network: Network, width: number, grid: BlockGrid, s: ColumnStripe): [number, number] {
  const lattice = latticeOf(network);
  const xs = grid.xs.slice(s.c0, s.c1).map((x) => x - s.viewX);
  const cols = axisCoverage(lattice, xs, grid.blockSize, s.viewWidth);
  const [sx, sw] = lattice.inputSpan(cols.first, cols.first + cols.count);
  return [Math.max(0, s.viewX + sx), Math.min(width, s.viewX + sx + sw)];
}

/** One stripe's map, top to bottom, as windows of its output columns; returns its view's block logits. */
export async function* stripeCam(
  network: Network, prepare: (columns: [number, number]) => PreparedSource, width: number, grid: BlockGrid, s: ColumnStripe,
  whole: boolean, options: Omit<CamOptions, 'scores'>,
): AsyncGenerator<CamWindow, Float32Array> {
  const xs = grid.xs.slice(s.c0, s.c1).map((x) => x - s.viewX);
  const sub = { blockSize: grid.blockSize, xs, ys: grid.ys };
  const source = prepare(stripeColumns(network, width, grid, s));
  const view = whole ? source : columnView(source, s.viewX, s.viewWidth);
  const stream = mosaicCam(network, view, sub, whole ? options : { ...options, columns: [s.x0 - s.viewX, s.x1 - s.viewX] });
  let step;
  while (!(step = await stream.next()).done) yield { x: s.x0, width: s.x1 - s.x0, ...step.value };
  source.release?.();
  return step.value.logit;
}
