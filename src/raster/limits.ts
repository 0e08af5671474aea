/** Sanity limits applied when opening a raster, and the window check every source shares. */
import type { PixelWindow, RasterSource } from './types.js';

export interface OpenLimits {
  /**
   * Largest width x height accepted from a header. A header claiming more is treated as corrupt before anything
   * is allocated. 2e10 px is a 141 000 px square, far beyond any single satellite scene.
   */
  maxPixels: number;
  /** Largest single strip or tile (bytes) we are willing to decode at once: reading any window decodes whole blocks. */
  maxBlockBytes: number;
}

export const DEFAULT_LIMITS: OpenLimits = { maxPixels: 2e10, maxBlockBytes: 2 ** 30 };

/** Validates a window and band list against a source; returns the 0-based bands to read. Misuse is a bug, not input. */
export function checkWindow(source: RasterSource, window: PixelWindow, bands?: number[]): number[] {
  const { x, y, width, height } = window;
  if (![x, y, width, height].every(Number.isInteger) || width <= 0 || height <= 0 || x < 0 || y < 0 ||
      x + width > source.width || y + height > source.height) {
    throw new RangeError(`window ${JSON.stringify(window)} is outside the ${source.width} x ${source.height} image ${source.paths.join(', ')}`);
  }
  const list = bands ?? Array.from({ length: source.bandCount }, (_, i) => i);
  for (const b of list) {
    if (!Number.isInteger(b) || b < 0 || b >= source.bandCount) {
      throw new RangeError(`band ${b} does not exist in ${source.paths.join(', ')} (${source.bandCount} bands)`);
    }
  }
  return list;
}
