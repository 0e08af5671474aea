/**
 * The network's view of a scene: chosen bands, scaled to the model's units, normalised, with a validity mask.
 * Windows may reach outside the scene: those pixels are mirrored from inside (so unpadded convolutions near
 * the edge see plausible neighbours) and marked invalid. Nodata pixels get the value 0 after normalisation
 * (the training mean), so they pull no feature in either direction, and are marked invalid.
 */
import type { PixelWindow, RasterSource } from '../raster/types.js';
import type { Normalization } from './normalization.js';

export interface PreparedWindow {
  /** [bands, height, width], normalised. */
  data: Float32Array;
  /** 1 where the pixel is inside the scene and holds data in every band. */
  valid: Uint8Array;
}

export interface PreparedSource {
  readonly width: number;
  readonly height: number;
  readonly bandCount: number;
  read(window: PixelWindow): Promise<PreparedWindow>;
}

/** How stored values become model input: 0-based bands, reflectance = value * scale + offset, nodata. */
export interface InputMapping {
  bands: number[];
  scale: number[];
  offset: number[];
  /** Stored value meaning "no data" (besides NaN). */
  nodata: number | null;
}

/** Mirror index into [0, n): -1 -> 0, -2 -> 1, n -> n - 1 (works for any distance by folding). */
export function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - 1 - m;
  return m;
}

/** Reads the inside part of a window, then fills outside pixels by mirroring inside ones. */
export async function readMirrored(
  width: number,
  height: number,
  bandCount: number,
  window: PixelWindow,
  readInside: (w: PixelWindow) => Promise<PreparedWindow>,
): Promise<PreparedWindow> {
  const x0 = Math.max(window.x, 0);
  const y0 = Math.max(window.y, 0);
  const x1 = Math.min(window.x + window.width, width);
  const y1 = Math.min(window.y + window.height, height);
  const insideAll = x0 === window.x && y0 === window.y && x1 === window.x + window.width && y1 === window.y + window.height;
  if (insideAll) return readInside(window);
  // The mirrored window can need any row/column of the scene when the scene is smaller than the halo.
  const cols = Array.from({ length: window.width }, (_, i) => mirror(window.x + i, width));
  const rows = Array.from({ length: window.height }, (_, i) => mirror(window.y + i, height));
  const sx0 = Math.min(...cols);
  const sx1 = Math.max(...cols) + 1;
  const sy0 = Math.min(...rows);
  const sy1 = Math.max(...rows) + 1;
  const inner = await readInside({ x: sx0, y: sy0, width: sx1 - sx0, height: sy1 - sy0 });
  const iw = sx1 - sx0;
  const ih = sy1 - sy0;
  const n = window.width * window.height;
  const data = new Float32Array(bandCount * n);
  const valid = new Uint8Array(n);
  for (let y = 0; y < window.height; y++) {
    const sy = rows[y] - sy0;
    const insideRow = window.y + y >= 0 && window.y + y < height;
    for (let x = 0; x < window.width; x++) {
      const sx = cols[x] - sx0;
      const inside = insideRow && window.x + x >= 0 && window.x + x < width;
      valid[y * window.width + x] = inside ? inner.valid[sy * iw + sx] : 0;
      for (let b = 0; b < bandCount; b++) data[b * n + y * window.width + x] = inner.data[b * iw * ih + sy * iw + sx];
    }
  }
  return { data, valid };
}

/** A scene on disk, through the input mapping and the model's normalisation. */
export function preparedRaster(source: RasterSource, mapping: InputMapping, norm: Normalization): PreparedSource {
  const bandCount = mapping.bands.length;
  const nodata = mapping.nodata ?? source.nodata;
  const readInside = async (w: PixelWindow): Promise<PreparedWindow> => {
    const planes = await source.readWindow(w, mapping.bands);
    const n = w.width * w.height;
    const valid = new Uint8Array(n).fill(1);
    for (const plane of planes) {
      for (let i = 0; i < n; i++) {
        const v = plane[i];
        if (v !== v || v === nodata || !Number.isFinite(v)) valid[i] = 0;
      }
    }
    const data = new Float32Array(bandCount * n);
    for (let b = 0; b < bandCount; b++) {
      const plane = planes[b];
      const scale = mapping.scale[b] / norm.std[b];
      const shift = (mapping.offset[b] - norm.mean[b]) / norm.std[b];
      const base = b * n;
      for (let i = 0; i < n; i++) data[base + i] = valid[i] ? plane[i] * scale + shift : 0;
    }
    return { data, valid };
  };
  return {
    width: source.width,
    height: source.height,
    bandCount,
    read: (w) => readMirrored(source.width, source.height, bandCount, w, readInside),
  };
}

/** An in-memory block or image (values already in model units, band-sequential), e.g. a training block. */
export function preparedArray(values: Float32Array, bandCount: number, width: number, height: number, norm: Normalization): PreparedSource {
  const n = width * height;
  const readInside = async (w: PixelWindow): Promise<PreparedWindow> => {
    const data = new Float32Array(bandCount * w.width * w.height);
    const valid = new Uint8Array(w.width * w.height);
    for (let y = 0; y < w.height; y++) {
      for (let x = 0; x < w.width; x++) {
        const src = (w.y + y) * width + w.x + x;
        let ok = 1;
        for (let b = 0; b < bandCount; b++) {
          const v = values[b * n + src];
          if (!Number.isFinite(v)) ok = 0;
          data[b * w.width * w.height + y * w.width + x] = (v - norm.mean[b]) / norm.std[b];
        }
        valid[y * w.width + x] = ok;
        if (!ok) for (let b = 0; b < bandCount; b++) data[b * w.width * w.height + y * w.width + x] = 0;
      }
    }
    return { data, valid };
  };
  return { width, height, bandCount, read: (w) => readMirrored(width, height, bandCount, w, readInside) };
}
