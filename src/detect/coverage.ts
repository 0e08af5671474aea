/**
 * Which lattice points belong to which block, shared by the whole-scene mosaic and the per-block reference so
 * that both define the same map:
 * - a block's mean of the pruned features runs over the lattice points inside it ([origin, origin + B)) that
 *   fall on valid pixels;
 * - a block's map is laid on the lattice points whose position, clamped into the scene, lies inside it, so that
 *   points just past the edge (needed to interpolate edge pixels) get the edge blocks' values.
 */
import { coveringBlocks, type BlockGrid } from './block-grid.js';
import type { FeatureLattice } from './feature-lattice.js';

export interface AxisCoverage {
  /** First lattice index of the axis (points [first, first + count) span the scene's pixels). */
  first: number;
  count: number;
  /** Per point (relative index): the range of covering blocks [from, to]. */
  cover: Int32Array;
  coverTo: Int32Array;
  /** Per block: its member points [from, to) as relative indices, clipped to the axis. */
  memberFrom: Int32Array;
  memberTo: Int32Array;
  /** Per point: its nearest pixel, or -1 outside the scene. */
  pixel: Int32Array;
}

export function axisCoverage(lattice: FeatureLattice, origins: number[], blockSize: number, length: number): AxisCoverage {
  const [first, end] = lattice.pointsForPixels(0, length);
  const count = end - first;
  const cover = new Int32Array(count);
  const coverTo = new Int32Array(count);
  const pixel = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const position = lattice.position(first + i);
    const [from, to] = coveringBlocks(origins, blockSize, Math.min(Math.max(position, 0), length - 1));
    cover[i] = from;
    coverTo[i] = to;
    const p = Math.round(position);
    pixel[i] = p >= 0 && p < length ? p : -1;
  }
  // An axis shorter than the lattice spacing (a 1 px wide scene with one pool kept) can have no point whose
  // nearest pixel is inside; its block would have no valid member and no map. The point at or after 0 nearest
  // the middle stands for the scene's pixels then.
  if (!pixel.some((p) => p >= 0)) {
    const middle = (length - 1) / 2;
    let best = -1;
    for (let i = 0; i < count; i++) {
      const position = lattice.position(first + i);
      if (position >= 0 && (best < 0 || Math.abs(position - middle) < Math.abs(lattice.position(first + best) - middle))) best = i;
    }
    if (best >= 0) pixel[best] = Math.min(Math.round(lattice.position(first + best)), length - 1);
  }
  const clip = (i: number) => Math.min(Math.max(i - first, 0), count);
  const memberFrom = Int32Array.from(origins, (o) => clip(lattice.firstAtOrAfter(o)));
  const memberTo = Int32Array.from(origins, (o) => clip(lattice.firstAtOrAfter(o + blockSize)));
  return { first, count, cover, coverTo, memberFrom, memberTo, pixel };
}

/**
 * Per block: the relative points [from, to) it holds or covers (its members and the points its map is laid on).
 * A point outside every open block's span needs no features: the gate has flattened all of its blocks.
 */
export function blockSpans(axis: AxisCoverage, blocks: number): { from: Int32Array; to: Int32Array } {
  const from = Int32Array.from(axis.memberFrom);
  const to = Int32Array.from(axis.memberTo);
  for (let b = 0; b < blocks; b++) if (from[b] >= to[b]) [from[b], to[b]] = [axis.count, 0];
  for (let i = 0; i < axis.count; i++) {
    for (let b = axis.cover[i]; b <= axis.coverTo[i]; b++) {
      from[b] = Math.min(from[b], i);
      to[b] = Math.max(to[b], i + 1);
    }
  }
  return { from, to };
}

export function gridCoverage(lattice: FeatureLattice, grid: BlockGrid, width: number, height: number) {
  return {
    cols: axisCoverage(lattice, grid.xs, grid.blockSize, width),
    rows: axisCoverage(lattice, grid.ys, grid.blockSize, height),
  };
}

/**
 * Lattice values of one row -> pixel values of one row (linear along the row), given two lattice rows and the
 * weight of the second. With all pools pruned the lattice is the pixel grid and this is a copy.
 */
export function latticeRowToPixels(
  lattice: FeatureLattice, cols: AxisCoverage, upper: Float32Array, lower: Float32Array, fy: number, width: number, out: Float32Array, outOffset: number,
  /** Pixel columns [x0, x1) written, from `outOffset` on (default all). */
  [x0, x1]: [number, number] = [0, width],
): void {
  if (lattice.stride === 1 && lattice.phase === 0 && fy === 0) {
    out.set(upper.subarray(x0 - cols.first, x1 - cols.first), outOffset);
    return;
  }
  outOffset -= x0;
  for (let x = x0; x < x1; x++) {
    const t = (x - lattice.phase) / lattice.stride;
    const i = Math.floor(t) - cols.first;
    const fx = t - Math.floor(t);
    const i1 = Math.min(i + 1, cols.count - 1);
    const top = fx === 0 ? upper[i] : mix(upper[i], upper[i1], fx);
    const bottom = fy === 0 ? top : fx === 0 ? lower[i] : mix(lower[i], lower[i1], fx);
    out[outOffset + x] = fy === 0 ? top : mix(top, bottom, fy);
  }
}

/** Linear mix that ignores a NaN side (a lattice point no block covers). */
function mix(a: number, b: number, f: number): number {
  if (a !== a) return b;
  if (b !== b) return a;
  return a + (b - a) * f;
}

/** Which lattice rows and weight interpolate pixel row y. */
export function rowSource(lattice: FeatureLattice, rows: AxisCoverage, y: number): { upper: number; lower: number; fy: number } {
  const t = (y - lattice.phase) / lattice.stride;
  const upper = Math.floor(t);
  return { upper, lower: Math.min(upper + 1, rows.first + rows.count - 1), fy: t - upper };
}
