/**
 * 8-bit display RGB renderings of reflectance scenes, for training the `rgb` model on more than the six GF-1
 * display slices. A display product (JPEG/PNG quick look, web map) stores `255 * f(reflectance)` per channel,
 * where f is a fixed or scene-stretched tone curve; the `rgb` model reads such files through the `rgb` preset
 * (red, green, blue, divided by 255). Rendering L8 Biome reflectance the same way and writing real 8-bit PNG
 * files means training, k tuning and evaluation read these scenes exactly like any user's RGB image.
 *
 * Renderings (fixed tone curves: a percentile stretch of a 256 px subset that is all cloud would turn the cloud
 * into mid-grey ground, which no display product of a whole scene does):
 * - `gamma`:  255 * min(1, r / 1.0)^(1/2.2)   sRGB-like, bright cloud well below saturation
 * - `soft`:   255 * min(1, r / 0.8)^(1/1.6)   a brighter curve
 * - `linear`: 255 * min(1, r / 0.5)           a linear stretch that saturates thick cloud (white)
 * Fill pixels (NaN or 0 in every channel) are written as 0 (black); their mask pixels are fill anyway.
 *
 * The files are cached under `$WDCD_CACHE` (default the OS temp folder) in a folder whose name hashes the
 * source file's path, size and time and the rendering, and are written to a temporary name and renamed. The
 * scene is read with the project's raster reader and the PNG written by sharp.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../errors.js';
import { openRaster } from '../raster/open.js';
import { settleTemporary, temporaryPath } from '../raster/temporary-files.js';

export const DISPLAY_RENDERINGS = ['gamma', 'soft', 'linear'] as const;
export type DisplayRendering = (typeof DISPLAY_RENDERINGS)[number];

/** Tone curve of each rendering: reflectance white point and display gamma. */
export const TONE_CURVES: Record<DisplayRendering, { white: number; gamma: number }> = {
  gamma: { white: 1.0, gamma: 2.2 },
  soft: { white: 0.8, gamma: 1.6 },
  linear: { white: 0.5, gamma: 1 },
};

/** 8-bit display value of a reflectance under a rendering (NaN and negative values give 0). */
export function displayValue(reflectance: number, rendering: DisplayRendering): number {
  if (!(reflectance > 0)) return 0;
  const { white, gamma } = TONE_CURVES[rendering];
  const x = Math.min(1, reflectance / white);
  return Math.round(255 * (gamma === 1 ? x : Math.pow(x, 1 / gamma)));
}

/**
 * Renders bands `rgbBands` (0-based: red, green, blue) of a reflectance raster as an 8-bit RGB PNG in the cache
 * and returns its path (rendered once; later calls find the file).
 */
export async function displayRgbFile(source: string, rgbBands: [number, number, number], rendering: DisplayRendering): Promise<string> {
  if (!DISPLAY_RENDERINGS.includes(rendering)) {
    throw new InputError(`unknown display rendering "${rendering}" (${DISPLAY_RENDERINGS.join(', ')})`);
  }
  const st = statSync(source);
  const key = createHash('sha256')
    .update(JSON.stringify([resolve(source), st.size, st.mtimeMs, rgbBands, TONE_CURVES[rendering]]))
    .digest('hex')
    .slice(0, 16);
  const root = process.env['WDCD_CACHE'] ? resolve(process.env['WDCD_CACHE']) : join(tmpdir(), 'wdcd-cache');
  const dir = join(root, 'display-rgb', key);
  const stem = source.split(/[\\/]/).pop()!.replace(/\.tiff?$/i, '');
  const out = join(dir, `${stem}_${rendering}.png`);
  if (existsSync(out)) return out;
  const raster = await openRaster([source]);
  let planes: Float32Array[];
  try {
    for (const b of rgbBands) {
      if (b >= raster.bandCount) throw new InputError(`band ${b + 1} does not exist: the file has ${raster.bandCount} bands (1-${raster.bandCount})`, source);
    }
    planes = await raster.readWindow({ x: 0, y: 0, width: raster.width, height: raster.height }, rgbBands);
  } finally {
    await raster.close();
  }
  const n = raster.width * raster.height;
  const rgb = new Uint8Array(n * 3);
  const [r, g, b] = planes;
  for (let i = 0; i < n; i++) {
    const fill = !(r[i] > 0 || g[i] > 0 || b[i] > 0);
    rgb[3 * i] = fill ? 0 : displayValue(r[i], rendering);
    rgb[3 * i + 1] = fill ? 0 : displayValue(g[i], rendering);
    rgb[3 * i + 2] = fill ? 0 : displayValue(b[i], rendering);
  }
  mkdirSync(dir, { recursive: true });
  const tmp = temporaryPath(out);
  await sharp(rgb, { raw: { width: raster.width, height: raster.height, channels: 3 } }).png().toFile(tmp);
  renameSync(tmp, out);
  settleTemporary(tmp);
  return out;
}
