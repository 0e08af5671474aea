/**
 * Where the pool-pruned network's outputs sit on the scene. With all pools pruned the lattice is the pixel grid;
 * with some pools kept, outputs are `stride` pixels apart and may sit between pixels, and the activation map is
 * interpolated bilinearly onto pixels. Every window the feature pass runs on starts on the same lattice phase,
 * so kept pools see the same partition of the scene and any two windows give identical features where they
 * overlap: this is what lets the whole-scene pass reproduce the per-block reference exactly.
 */
import type { LayerSpec } from '../model/architecture.js';

export class FeatureLattice {
  /** Scene position of lattice point 0 (in (-stride, 0]); point i sits at phase + stride * i. */
  readonly phase: number;

  constructor(
    private readonly layers: LayerSpec[],
    private readonly prunedPools: ReadonlySet<number>,
    readonly stride: number,
    /** Input pixel under output 0 of a window starting at pixel 0. */
    readonly offset: number,
  ) {
    const rest = offset % stride;
    this.phase = rest === 0 ? 0 : rest - stride;
  }

  position(i: number): number {
    return this.phase + this.stride * i;
  }

  /** First lattice point at or after scene position p. */
  firstAtOrAfter(p: number): number {
    return Math.ceil((p - this.phase) / this.stride);
  }

  /** Lattice points needed to interpolate pixels [p0, p1): from the one at or before p0 to the one at or after p1 - 1. */
  pointsForPixels(p0: number, p1: number): [number, number] {
    return [Math.floor((p0 - this.phase) / this.stride), Math.ceil((p1 - 1 - this.phase) / this.stride) + 1];
  }

  /** The input window (start, length along one axis) whose feature pass yields lattice points [i0, i1). */
  inputSpan(i0: number, i1: number): [number, number] {
    const start = this.position(i0) - this.offset;
    let size = i1 - i0;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l];
      if (layer.kind === 'conv') size += 2;
      else if (!this.prunedPools.has(l)) size *= 2;
    }
    return [Math.round(start), size];
  }
}
