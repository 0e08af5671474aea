/**
 * Quicklook PNGs for people: an RGB overlay with clouds tinted, and a CAM heat map with a legend.
 *
 * Both take windows in any order (full-width rows, or column stripes) and reduce them on the fly to at most
 * `maxSize` px on the long side (default 4096) by averaging f x f blocks, f = ceil(long side / maxSize). Only
 * the reduced image is kept: about 9-21 bytes per output pixel (at most ~350 MB at 4096 x 4096; pass a smaller
 * maxSize to use less). Files are written to a temporary name and renamed when complete.
 */
import { stat, unlink } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { InputError } from '../errors.js';
import { VIRIDIS, viridisCss } from './colormap.js';
import { placeTemporary, settleTemporary, temporaryPath, type OutputGroup } from './temporary-files.js';
import type { PixelWindow } from './types.js';

export const DEFAULT_QUICKLOOK_SIZE = 4096;

export interface QuicklookOptions {
  /** Full-resolution size of the rows that will be given. */
  width: number;
  height: number;
  /** Longest side of the PNG in pixels (default 4096). */
  maxSize?: number;
  overwrite?: boolean;
  /** The group whose outputs stand or fall together (raster/temporary-files.ts). */
  group?: OutputGroup;
}

export interface OverlayOptions extends QuicklookOptions {
  /** Cloud tint, RGB 0..255 plus opacity 0..1. Default magenta at 0.55, which stands out on land, water and snow. */
  tint?: [number, number, number, number];
  /** Lower and upper stretch percentiles (default 2 and 98). */
  stretch?: [number, number];
}

export interface HeatmapOptions extends QuicklookOptions {
  /** Value range mapped to the colour map; default the data's own min..max. */
  range?: [number, number];
  /** Marked on the legend when given. */
  threshold?: number;
  /** Legend title, default "CAM". */
  label?: string;
}

export interface OverlayQuicklook {
  /** One window, row-major. rgb: red, green, blue (any units; NaN = nodata); mask: 0 clear, 1 cloud, 255 nodata. */
  write(window: PixelWindow, rgb: [Float32Array, Float32Array, Float32Array], mask: Uint8Array): void;
  finish(): Promise<void>;
}

export interface HeatmapQuicklook {
  /** One window, row-major; NaN = nodata. */
  write(window: PixelWindow, values: Float32Array): void;
  finish(): Promise<void>;
}

/** Block-averages windows of several channels into a small image; pixels that are not valid are skipped. */
class BlockReducer {
  readonly factor: number;
  readonly outWidth: number;
  readonly outHeight: number;
  /** Per channel, the sum over valid pixels of each block while windows arrive; the mean (NaN where none) after `finish`. */
  readonly means: Float32Array[];
  /** Valid fraction of each block, 0..255 (after `finish`). */
  readonly coverage: Uint8Array;
  private readonly counts: Uint32Array;
  private pixelsGiven = 0;

  constructor(readonly width: number, readonly height: number, maxSize: number, channels: number) {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw new RangeError(`invalid size ${width} x ${height}`);
    if (!(maxSize >= 1)) throw new RangeError(`invalid maxSize ${maxSize}`);
    this.factor = Math.max(1, Math.ceil(Math.max(width, height) / maxSize));
    this.outWidth = Math.ceil(width / this.factor);
    this.outHeight = Math.ceil(height / this.factor);
    const n = this.outWidth * this.outHeight;
    this.means = Array.from({ length: channels }, () => new Float32Array(n));
    this.coverage = new Uint8Array(n);
    this.counts = new Uint32Array(n);
  }

  add(window: PixelWindow, channels: ArrayLike<number>[], valid: (i: number) => boolean): void {
    const { x: x0, y: y0, width: w, height: rows } = window;
    if (!(x0 >= 0 && y0 >= 0 && w > 0 && rows > 0 && x0 + w <= this.width && y0 + rows <= this.height)) {
      throw new RangeError(`window ${w} x ${rows} at (${x0}, ${y0}) is outside the ${this.width} x ${this.height} image`);
    }
    for (const c of channels) if (c.length !== rows * w) throw new RangeError(`expected ${rows * w} values, got ${c.length}`);
    const f = this.factor;
    for (let r = 0; r < rows; r++) {
      const out = Math.floor((y0 + r) / f) * this.outWidth;
      for (let x = 0; x < w; x++) {
        const i = r * w + x;
        if (!valid(i)) continue;
        const o = out + Math.floor((x0 + x) / f);
        this.counts[o]++;
        for (let c = 0; c < channels.length; c++) this.means[c][o] += channels[c][i];
      }
    }
    this.pixelsGiven += w * rows;
  }

  /** Turns the sums into means; throws unless every pixel was given once. */
  finish(): void {
    if (this.pixelsGiven !== this.width * this.height) throw new Error(`${this.pixelsGiven} pixels were given for a ${this.width} x ${this.height} image`);
    const f = this.factor;
    for (let oy = 0; oy < this.outHeight; oy++) {
      const rows = Math.min(f, this.height - oy * f);
      for (let ox = 0; ox < this.outWidth; ox++) {
        const o = oy * this.outWidth + ox;
        const n = this.counts[o];
        this.coverage[o] = Math.round((255 * n) / (rows * Math.min(f, this.width - ox * f)));
        for (const means of this.means) means[o] = n > 0 ? means[o] / n : NaN;
      }
    }
  }
}

/** The p-th percentiles (0..100) of the finite values, from a sample of at most a million. */
export function percentiles(values: Float32Array, ps: number[]): number[] {
  const step = Math.max(1, Math.floor(values.length / 1e6));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i += step) if (Number.isFinite(values[i])) sample.push(values[i]);
  if (sample.length === 0) return ps.map(() => NaN);
  const sorted = Float64Array.from(sample).sort();
  return ps.map((p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))]);
}

async function checkTarget(path: string, overwrite: boolean | undefined): Promise<void> {
  const exists = await stat(path).then(() => true, () => false);
  if (exists && !overwrite) throw new InputError('the output file already exists (use the overwrite option to replace it)', path);
}

/** Writes a PNG via a temporary file in the same folder. */
async function writePng(path: string, image: Sharp, { overwrite, group }: QuicklookOptions): Promise<void> {
  await checkTarget(path, overwrite);
  const tmp = temporaryPath(path);
  try {
    await image.png({ compressionLevel: 6 }).toFile(tmp);
    await placeTemporary(tmp, path, group);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    settleTemporary(tmp);
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot write the quicklook (${code ?? (err as Error).message})`, path);
  }
}

/** RGB overlay: 2-98 % stretched colour, clouds tinted, nodata transparent (RGBA PNG). */
export async function createOverlayQuicklook(path: string, options: OverlayOptions): Promise<OverlayQuicklook> {
  await checkTarget(path, options.overwrite);
  const [tr, tg, tb, ta] = options.tint ?? [255, 0, 255, 0.55];
  const [lowP, highP] = options.stretch ?? [2, 98];
  const reducer = new BlockReducer(options.width, options.height, options.maxSize ?? DEFAULT_QUICKLOOK_SIZE, 4);
  let cloud = new Float32Array(0);
  return {
    write(window, rgb, mask) {
      const [r, g, b] = rgb;
      if (cloud.length < mask.length) cloud = new Float32Array(mask.length);
      for (let i = 0; i < mask.length; i++) cloud[i] = mask[i] === 1 ? 1 : 0;
      reducer.add(window, [r, g, b, cloud.subarray(0, mask.length)],
        (i) => mask[i] !== 255 && Number.isFinite(r[i]) && Number.isFinite(g[i]) && Number.isFinite(b[i]));
    },
    async finish() {
      reducer.finish();
      const { outWidth: w, outHeight: h, means, coverage } = reducer;
      const stretch = means.slice(0, 3).map((band) => {
        const [lo, hi] = percentiles(band, [lowP, highP]);
        return { lo, span: hi > lo ? hi - lo : 1 };
      });
      const out = new Uint8Array(w * h * 4);
      for (let i = 0; i < w * h; i++) {
        if (coverage[i] === 0) continue;
        const fraction = means[3][i] * ta;
        for (let c = 0; c < 3; c++) {
          const v = Math.min(1, Math.max(0, (means[c][i] - stretch[c].lo) / stretch[c].span)) * 255;
          out[i * 4 + c] = Math.round(v * (1 - fraction) + [tr, tg, tb][c] * fraction);
        }
        out[i * 4 + 3] = coverage[i];
      }
      await writePng(path, sharp(out, { raw: { width: w, height: h, channels: 4 } }), options);
    },
  };
}

const LEGEND_HEIGHT = 60;
const LEGEND_MIN_WIDTH = 320;

function formatValue(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The legend strip: title, colour bar, range labels and the threshold mark, as SVG. */
function legendSvg(width: number, lo: number, hi: number, label: string, threshold: number | undefined): string {
  const pad = 14;
  const barW = width - 2 * pad;
  const stops = Array.from({ length: 17 }, (_, k) => `<stop offset="${k / 16}" stop-color="${viridisCss(k * 16)}"/>`).join('');
  let mark = '';
  if (threshold !== undefined && Number.isFinite(threshold)) {
    const x = pad + Math.min(1, Math.max(0, (threshold - lo) / (hi - lo || 1))) * barW;
    // Keep the label clear of the range labels at both ends.
    const labelX = Math.min(width - pad - 90, Math.max(pad + 90, x));
    mark = `<line x1="${x}" y1="18" x2="${x}" y2="38" stroke="#fff" stroke-width="2"/>` +
      `<path d="M${x - 5},16 L${x + 5},16 L${x},22 Z" fill="#fff"/>` +
      `<text x="${labelX}" y="54" text-anchor="middle" fill="#fff" font-weight="bold">threshold ${escapeXml(formatValue(threshold))}</text>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${LEGEND_HEIGHT}">` +
    `<defs><linearGradient id="g" x1="0" x2="1" y1="0" y2="0">${stops}</linearGradient></defs>` +
    `<rect width="${width}" height="${LEGEND_HEIGHT}" fill="#202020"/>` +
    `<rect x="${pad}" y="20" width="${barW}" height="16" fill="url(#g)"/>` +
    `<g font-family="DejaVu Sans, Liberation Sans, sans-serif" font-size="12" fill="#e8e8e8">` +
    `<text x="${pad}" y="14">${escapeXml(label)}</text>` +
    `<text x="${pad}" y="54">${escapeXml(formatValue(lo))}</text>` +
    `<text x="${width - pad}" y="54" text-anchor="end">${escapeXml(formatValue(hi))}</text>` +
    `${mark}</g></svg>`;
}

/** CAM heat map in viridis with a legend strip below (value range, threshold mark); nodata transparent. */
export async function createHeatmapQuicklook(path: string, options: HeatmapOptions): Promise<HeatmapQuicklook> {
  await checkTarget(path, options.overwrite);
  const reducer = new BlockReducer(options.width, options.height, options.maxSize ?? DEFAULT_QUICKLOOK_SIZE, 1);
  return {
    write(window, values) {
      reducer.add(window, [values], (i) => Number.isFinite(values[i]));
    },
    async finish() {
      reducer.finish();
      const { outWidth: w, outHeight: h, coverage } = reducer;
      const values = reducer.means[0];
      let [lo, hi] = options.range ?? [Infinity, -Infinity];
      if (!options.range) {
        for (const v of values) {
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        if (!(lo <= hi)) [lo, hi] = [0, 1];
      }
      const span = hi > lo ? hi - lo : 1;
      const canvasW = Math.max(w, LEGEND_MIN_WIDTH);
      const canvasH = h + LEGEND_HEIGHT;
      const out = new Uint8Array(canvasW * canvasH * 4);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = y * w + x;
          if (coverage[i] === 0) continue;
          const k = Math.round(Math.min(1, Math.max(0, (values[i] - lo) / span)) * 255) * 3;
          const o = (y * canvasW + x) * 4;
          out[o] = VIRIDIS[k];
          out[o + 1] = VIRIDIS[k + 1];
          out[o + 2] = VIRIDIS[k + 2];
          out[o + 3] = coverage[i];
        }
      }
      const legend = Buffer.from(legendSvg(canvasW, lo, hi, options.label ?? 'CAM', options.threshold));
      const image = sharp(out, { raw: { width: canvasW, height: canvasH, channels: 4 } })
        .composite([{ input: legend, top: h, left: 0 }]);
      await writePng(path, image, options);
    },
  };
}
