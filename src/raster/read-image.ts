/**
 * PNG and JPEG reading through sharp. These formats cannot be read by window, so the whole image is decoded
 * once, when it is opened, and windows are sliced from it; they carry no georeferencing.
 */
import sharp, { type Metadata } from 'sharp';
import { InputError, oneLine } from '../errors.js';
import { checkWindow, type OpenLimits } from './limits.js';
import type { PixelWindow, RasterSource, SampleType } from './types.js';

export async function openImage(path: string, format: 'png' | 'jpeg', limits: OpenLimits): Promise<RasterSource> {
  let meta: Metadata;
  try {
    meta = await sharp(path).metadata();
  } catch (err) {
    throw new InputError(`not a readable ${format.toUpperCase()} image: ${oneLine((err as Error).message)}`, path);
  }
  const { width = 0, height = 0, channels = 0 } = meta;
  if (!(width > 0 && height > 0 && channels > 0)) throw new InputError(`the header says the image is ${width} x ${height} pixels`, path);
  checkColourSpace(path, meta);
  if (width * height > limits.maxPixels) {
    throw new InputError(`the header claims ${width} x ${height} pixels, more than the limit of ${limits.maxPixels.toExponential(0)} pixels`, path);
  }
  // A whole decoded image is held in memory, so it is bounded like one block of a TIFF.
  const bytes = meta.depth === 'ushort' ? 2 : 1;
  if (width * height * channels * bytes > limits.maxBlockBytes) {
    throw new InputError(
      `a ${width} x ${height} ${format.toUpperCase()} must be decoded whole and is too large; convert it to a tiled GeoTIFF (gdal_translate -co TILED=YES)`,
      path,
    );
  }
  // Damage the decoder reads past (a corrupt JPEG data segment, a bad PNG checksum) is only a libjpeg or libpng
  // warning: decoded strictly first, so that it is said rather than passed over, then as far as it goes.
  const warnings: string[] = [];
  let pixels: StoredPixels;
  try {
    pixels = await decodeStoredPixels(path, meta, 'warning');
  } catch (strict) {
    try {
      pixels = await decodeStoredPixels(path, meta, 'truncated');
    } catch (err) {
      throw new InputError(`cannot decode the image (corrupt or truncated): ${oneLine((err as Error).message)}`, path);
    }
    warnings.push(`${path}: damaged image data, decoded past it (${oneLine((strict as Error).message)}); the mask may be wrong where it is damaged`);
  }
  return new DecodedImageSource(path, width, height, channels, bytes === 2 ? 'uint16' : 'uint8', meta.hasAlpha ? channels - 1 : null, pixels.data, warnings);
}

/**
 * Refuses print colours: a CMYK (or YCCK) JPEG holds ink amounts, not the red, green and blue a display product
 * holds, and any conversion to RGB depends on a colour profile, so it is the user's to make, not ours to guess.
 */
export function checkColourSpace(path: string, meta: Metadata): void {
  if (meta.space === 'cmyk') {
    throw new InputError('holds CMYK (print) colours, not red, green and blue; convert it to RGB first, e.g. gdal_translate -of GTiff (GDAL converts CMYK JPEGs to RGB)', path);
  }
}

/** A whole image as stored: samples pixel-interleaved, alpha (if any) last. */
export interface StoredPixels {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: number;
  hasAlpha: boolean;
}

/**
 * Decodes a whole image through sharp to the samples the file stores: 16-bit samples stay 16-bit and grey (+ alpha)
 * stays one channel (+ alpha). sharp's plain raw() output is 8-bit sRGB: a 16-bit 1 reads 0 and 1000 reads 3, and
 * grey comes out as three equal channels. Throws a plain Error when sharp cannot decode the file or decodes
 * another shape than the header says; callers name the file.
 */
export async function decodeStoredPixels(path: string, meta: Metadata, failOn: 'truncated' | 'warning' = 'truncated'): Promise<StoredPixels> {
  const { width = 0, height = 0, channels = 0 } = meta;
  const wide = meta.depth === 'ushort';
  const alpha = meta.hasAlpha === true;
  const grey = channels - (alpha ? 1 : 0) === 1;
  let pipeline = sharp(path, { failOn, limitInputPixels: false });
  // grey16 keeps alpha and values; b-w output would drop alpha, so 8-bit grey + alpha is decoded as RGBA (the grey
  // copied into R, G and B, unchanged) and compacted below.
  if (grey && wide) pipeline = pipeline.toColourspace('grey16');
  else if (grey && !alpha) pipeline = pipeline.toColourspace('b-w');
  else if (wide) pipeline = pipeline.toColourspace('rgb16');
  const { data, info } = await pipeline.raw({ depth: wide ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  const expanded = grey && alpha && !wide;
  if (info.width !== width || info.height !== height || info.channels !== (expanded ? 4 : channels)) {
    throw new Error(`decoded ${info.width} x ${info.height} x ${info.channels}, header said ${width} x ${height} x ${channels}`);
  }
  if (wide) return { data: new Uint16Array(data.buffer, data.byteOffset, data.length / 2), width, height, channels, hasAlpha: alpha };
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (!expanded) return { data: bytes, width, height, channels, hasAlpha: alpha };
  const n = width * height;
  const out = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[2 * i] = bytes[4 * i];
    out[2 * i + 1] = bytes[4 * i + 3];
  }
  return { data: out, width, height, channels, hasAlpha: alpha };
}

class DecodedImageSource implements RasterSource {
  readonly paths: string[];
  readonly georef = null;
  readonly nodata = null;
  readonly alphaBand: number | null;

  constructor(
    path: string, readonly width: number, readonly height: number, readonly bandCount: number, readonly sampleType: SampleType,
    /** The alpha channel (last): fully transparent pixels read as NaN in every band, i.e. no data. */
    private readonly alpha: number | null,
    /** The whole image, pixel-interleaved; released by close(). */
    private pixels: Uint8Array | Uint16Array | null,
    readonly warnings: readonly string[],
  ) {
    this.paths = [path];
    this.alphaBand = alpha;
  }

  async readWindow(window: PixelWindow, bands?: number[]): Promise<Float32Array[]> {
    const list = checkWindow(this, window, bands);
    const pixels = this.pixels;
    if (!pixels) throw new Error(`${this.paths[0]} was read after it was closed`);
    const n = this.bandCount;
    return list.map((b) => {
      const out = new Float32Array(window.width * window.height);
      for (let row = 0; row < window.height; row++) {
        let src = ((window.y + row) * this.width + window.x) * n + b;
        const dst = row * window.width;
        if (this.alpha === null) for (let col = 0; col < window.width; col++, src += n) out[dst + col] = pixels[src];
        else {
          const toAlpha = this.alpha - b;
          for (let col = 0; col < window.width; col++, src += n) out[dst + col] = pixels[src + toAlpha] === 0 ? NaN : pixels[src];
        }
      }
      return out;
    });
  }

  async close(): Promise<void> {
    this.pixels = null;
  }
}
