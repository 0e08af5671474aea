/**
 * Tiles of a raster for the page, at any zoom level, without ever holding the full raster in memory.
 *
 * Why server-side tiles (and not OpenLayers reading COGs by HTTP range requests): inputs may be non-tiled
 * GeoTIFFs without overviews, stacks of single-band files, or JPEG/PNG, none of which a browser can read
 * piecewise; and the page would then have to reimplement nodata, mask codings and stretches. Instead the server
 * reads through `RasterSource.readWindow` (the one reader the whole toolkit uses) and sends 256 x 256 tiles:
 *
 * - Zoom level z has resolution r = 2^(maxZoom - z) source pixels per tile pixel; maxZoom is full resolution
 *   (the page magnifies it further with nearest-neighbour, so single pixels stay crisp).
 * - One in-memory overview per raster, decimated by a power-of-two factor F chosen so that it holds at most
 *   `overviewPixels` pixels per band (2 MP: 8 MB per band). It is built lazily by one pass over the file in row
 *   strips (all bands at once, so band-interleaved and pixel-interleaved files are each decoded once). Tiles with
 *   r >= F are cut from it; tiles with r < F read their own window, at most 256 F / 2 pixels on a side (1024 x 1024
 *   for a 100 MP scene), and subsample it. Small rasters (F = 1) are simply held whole.
 * - Decimation is nearest-neighbour (the pixel at the centre of each block), which keeps class values exact for
 *   masks and never invents reflectances.
 */
import type { RasterSource } from '../raster/types.js';

export const TILE_SIZE = 256;
export const DEFAULT_OVERVIEW_PIXELS = 1 << 21;
/** Floats read per strip while building an overview: 64 MB, or 128 MB when that aligns strips to 512 rows. */
const STRIP_FLOATS = 1 << 24;
const ALIGNED_STRIP_FLOATS = 1 << 25;
/** Strips are whole multiples of this many rows when they fit, so tiled files (256/512 px tiles) decode each tile once. */
const ALIGN_ROWS = 512;

/** Called with each full-resolution strip read while an overview is built (one pass serves statistics too). */
export type StripCallback = (strip: Float32Array[], y: number, rows: number, height: number) => void;

export interface Overview {
  factor: number;
  width: number;
  height: number;
  /** One array per band, `width * height`, raw values as read. */
  bands: Float32Array[];
}

/** Number of zoom levels above full resolution so that the whole raster fits in one tile. */
export function maxZoomFor(width: number, height: number, tileSize = TILE_SIZE): number {
  return Math.max(0, Math.ceil(Math.log2(Math.max(width, height) / tileSize)));
}

export function overviewFactor(width: number, height: number, overviewPixels = DEFAULT_OVERVIEW_PIXELS): number {
  let f = 1;
  while (Math.ceil(width / f) * Math.ceil(height / f) > overviewPixels) f *= 2;
  return f;
}

export class Pyramid {
  readonly width: number;
  readonly height: number;
  readonly maxZoom: number;
  readonly factor: number;
  private overviewPromise: Promise<Overview> | undefined;

  constructor(
    readonly source: RasterSource,
    overviewPixels = DEFAULT_OVERVIEW_PIXELS,
  ) {
    this.width = source.width;
    this.height = source.height;
    this.maxZoom = maxZoomFor(this.width, this.height);
    this.factor = overviewFactor(this.width, this.height, overviewPixels);
  }

  /**
   * The decimated copy of every band, built on first use by one pass over the raster; `onStrip` (honoured on the
   * first call only) sees every full-resolution strip of that pass.
   */
  overview(onStrip?: StripCallback): Promise<Overview> {
    this.overviewPromise ??= this.buildOverview(onStrip);
    return this.overviewPromise;
  }

  private async buildOverview(onStrip?: StripCallback): Promise<Overview> {
    const { width, height, factor: f, source } = this;
    const ow = Math.ceil(width / f);
    const oh = Math.ceil(height / f);
    const nb = source.bandCount;
    const bands = Array.from({ length: nb }, () => new Float32Array(ow * oh));
    const half = Math.floor(f / 2);
    // Strips are whole multiples of f rows, so every overview row's source row lies in exactly one strip.
    const align = Math.max(f, ALIGN_ROWS);
    const aligned = Math.floor(ALIGNED_STRIP_FLOATS / (width * nb) / align) * align;
    const rowsPerStrip = aligned > 0 ? aligned : Math.max(f, Math.floor(STRIP_FLOATS / (width * nb) / f) * f);
    for (let y0 = 0; y0 < height; y0 += rowsPerStrip) {
      const h = Math.min(rowsPerStrip, height - y0);
      const strip = await source.readWindow({ x: 0, y: y0, width, height: h });
      onStrip?.(strip, y0, h, height);
      for (let oy = y0 / f; oy * f < y0 + h; oy++) {
        const sy = Math.min(oy * f + half, height - 1) - y0;
        if (sy >= h) continue;
        for (let b = 0; b < nb; b++) {
          const src = strip[b]!;
          const dst = bands[b]!;
          const srow = sy * width;
          const drow = oy * ow;
          for (let ox = 0; ox < ow; ox++) dst[drow + ox] = src[srow + Math.min(ox * f + half, width - 1)]!;
        }
      }
    }
    return { factor: f, width: ow, height: oh, bands };
  }

  /** How many of tile (x, y)'s columns and rows of level z lie inside the raster; `tile` holds NaN past them. */
  tileExtent(z: number, x: number, y: number): { cols: number; rows: number } {
    const r = 2 ** (this.maxZoom - z);
    const half = Math.floor(r / 2);
    const count = (start: number, size: number) => Math.max(0, Math.min(TILE_SIZE, Math.ceil((size - start - half) / r)));
    return { cols: count(x * TILE_SIZE * r, this.width), rows: count(y * TILE_SIZE * r, this.height) };
  }

  /**
   * Values of the given bands on the tile grid: tile (x, y) of level z, `TILE_SIZE` squared, NaN outside the
   * raster. Returns null for a tile wholly outside.
   */
  async tile(z: number, x: number, y: number, bands: number[]): Promise<Float32Array[] | null> {
    if (!Number.isInteger(z) || z < 0 || z > this.maxZoom) return null;
    const r = 2 ** (this.maxZoom - z);
    const span = TILE_SIZE * r;
    const x0 = x * span;
    const y0 = y * span;
    if (x < 0 || y < 0 || x0 >= this.width || y0 >= this.height) return null;
    const n = TILE_SIZE;
    const half = Math.floor(r / 2);
    const out = bands.map(() => new Float32Array(n * n).fill(Number.NaN));
    // Source column / row of each tile pixel (or -1 outside the raster).
    const cols = new Int32Array(n);
    const rows = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const sx = x0 + i * r + half;
      const sy = y0 + i * r + half;
      cols[i] = sx < this.width ? sx : -1;
      rows[i] = sy < this.height ? sy : -1;
    }
    if (r >= this.factor) {
      const ov = await this.overview();
      const f = ov.factor;
      bands.forEach((b, k) => {
        const src = ov.bands[b]!;
        const dst = out[k]!;
        for (let j = 0; j < n; j++) {
          if (rows[j]! < 0) break;
          const srow = Math.floor(rows[j]! / f) * ov.width;
          for (let i = 0; i < n; i++) {
            if (cols[i]! < 0) break;
            dst[j * n + i] = src[srow + Math.floor(cols[i]! / f)]!;
          }
        }
      });
      return out;
    }
    const ww = Math.min(span, this.width - x0);
    const wh = Math.min(span, this.height - y0);
    const data = await this.source.readWindow({ x: x0, y: y0, width: ww, height: wh }, bands);
    bands.forEach((_, k) => {
      const src = data[k]!;
      const dst = out[k]!;
      for (let j = 0; j < n; j++) {
        if (rows[j]! < 0) break;
        const srow = (rows[j]! - y0) * ww;
        for (let i = 0; i < n; i++) {
          if (cols[i]! < 0) break;
          dst[j * n + i] = src[srow + cols[i]! - x0]!;
        }
      }
    });
    return out;
  }
}

/** Value at quantile q (0..1) of the values accepted by `keep`, from at most ~1 M evenly spaced samples. */
export function quantiles(values: Float32Array, qs: number[], keep: (i: number) => boolean): number[] {
  const stride = Math.max(1, Math.floor(values.length / 1_000_000));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i += stride) if (keep(i)) sample.push(values[i]!);
  if (sample.length === 0) return qs.map(() => Number.NaN);
  const sorted = Float64Array.from(sample).sort();
  return qs.map((q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!);
}
