/**
 * GeoTIFF (and plain TIFF / BigTIFF) reading through geotiff.js. Only the header and the block index are
 * read at open; pixels are decoded per window, so memory follows the window, not the file.
 */
import { fromFile, getDecoder, type BaseDecoder, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import './zlib-deflate.js';
import './sharp-webp.js';
import { InputError } from '../errors.js';
import { georefFromTags, type RawGeoTags } from './georef.js';
import type { GeoReference, PixelWindow, RasterSource, SampleType } from './types.js';
import { checkWindow, type OpenLimits } from './limits.js';
import { BlockReader } from './block-reader.js';

/** Compressions decoded in Node: geotiff.js's decoders, and WebP through sharp (LZMA, JPEG-XL, CCITT have no decoder). */
const DECODABLE = new Map<number, string>([
  [1, 'none'], [5, 'LZW'], [7, 'JPEG'], [8, 'Deflate'], [32946, 'Deflate'], [32773, 'PackBits'],
  [34887, 'LERC'], [50000, 'ZSTD'], [50001, 'WebP'],
]);
const UNSUPPORTED_NAMES = new Map<number, string>([
  [2, 'CCITT RLE'], [3, 'CCITT Group 3'], [4, 'CCITT Group 4'], [6, 'old-style JPEG'], [34712, 'JPEG 2000'],
  [34925, 'LZMA'], [50002, 'JPEG-XL'], [52546, 'JPEG-XL'],
]);
const PHOTOMETRIC_YCBCR = 6;
const JPEG = 7;

function sampleTypeOf(path: string, format: number, bits: number): SampleType {
  // Sub-byte and odd widths (1-bit, 12-bit) are widened by geotiff.js to the next byte size.
  const bytes = bits <= 8 ? 1 : bits <= 16 ? 2 : bits <= 32 ? 4 : 8;
  if (format === 3) {
    // float16 is delivered as float32 by geotiff.js.
    if (bytes <= 4) return 'float32';
    return 'float64';
  }
  if (format === 1 || format === 4) {
    if (bytes <= 4) return (['uint8', 'uint16', 'uint32', 'uint32'] as const)[bytes - 1];
  }
  if (format === 2) {
    if (bytes <= 4) return (['int8', 'int16', 'int32', 'int32'] as const)[bytes - 1];
  }
  throw new InputError(`unsupported sample format ${format} with ${bits} bits per sample`, path);
}

function toNumbers(value: unknown): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return [value];
  return Array.from(value as ArrayLike<number | bigint>, Number);
}

async function loadTags(image: GeoTIFFImage): Promise<RawGeoTags> {
  const fd = image.getFileDirectory();
  const ascii = await fd.loadValue('GeoAsciiParams');
  return {
    modelPixelScale: toNumbers(await fd.loadValue('ModelPixelScale')),
    modelTiepoint: toNumbers(await fd.loadValue('ModelTiepoint')),
    modelTransformation: toNumbers(await fd.loadValue('ModelTransformation')),
    geoKeyDirectory: toNumbers(await fd.loadValue('GeoKeyDirectory')),
    geoDoubleParams: toNumbers(await fd.loadValue('GeoDoubleParams')),
    geoAsciiParams: typeof ascii === 'string' ? ascii : undefined,
  };
}

/** Where each compressed block lies in the file, in the TIFF's block order. */
interface BlockIndex {
  offsets: number[];
  counts: number[];
}

/** Checks that the block index is complete and every block lies inside the file (catches truncation). */
async function checkBlocks(path: string, image: GeoTIFFImage, fileSize: number, limits: OpenLimits): Promise<BlockIndex> {
  const fd = image.getFileDirectory();
  const tiled = image.isTiled;
  const blockW = image.getTileWidth();
  const blockH = image.getTileHeight();
  const spp = image.getSamplesPerPixel();
  const planar = image.planarConfiguration;
  const blockBytes = blockW * blockH * (planar === 2 ? image.getBytesPerPixel() / spp : image.getBytesPerPixel());
  if (!(blockW > 0 && blockH > 0)) throw new InputError('invalid tile or strip size in the TIFF header', path);
  if (blockBytes > limits.maxBlockBytes) {
    throw new InputError(
      `one ${tiled ? 'tile' : 'strip'} holds ${(blockBytes / 2 ** 20).toFixed(0)} MiB, more than the ` +
        `${(limits.maxBlockBytes / 2 ** 20).toFixed(0)} MiB this tool decodes at once; ` +
        `re-tile it (gdal_translate -co TILED=YES in.tif out.tif)`,
      path,
    );
  }
  const expected = Math.ceil(image.getWidth() / blockW) * Math.ceil(image.getHeight() / blockH) * (planar === 2 ? spp : 1);
  const offsets = toNumbers(await fd.loadValue(tiled ? 'TileOffsets' : 'StripOffsets')) ?? [];
  const counts = toNumbers(await fd.loadValue(tiled ? 'TileByteCounts' : 'StripByteCounts')) ?? [];
  if (offsets.length < expected || counts.length < expected) {
    throw new InputError(`the TIFF header lists ${Math.min(offsets.length, counts.length)} data blocks, ${expected} expected (corrupt file)`, path);
  }
  for (let i = 0; i < expected; i++) {
    if (counts[i] > 0 && offsets[i] + counts[i] > fileSize) {
      throw new InputError(
        `truncated: data block ${i} ends at byte ${offsets[i] + counts[i]} but the file has only ${fileSize} bytes`,
        path,
      );
    }
  }
  return { offsets, counts };
}

export async function openGeoTiff(path: string, fileSize: number, limits: OpenLimits): Promise<RasterSource> {
  let tiff: GeoTIFF;
  let image: GeoTIFFImage;
  try {
    tiff = await fromFile(path);
  } catch (err) {
    throw new InputError(`not a readable TIFF (corrupt or truncated header): ${(err as Error).message}`, path);
  }
  try {
    image = await tiff.getImage(0);
    const width = image.getWidth();
    const height = image.getHeight();
    if (!(width > 0 && height > 0)) throw new InputError(`the TIFF header says the image is ${width} x ${height} pixels`, path);
    if (width * height > limits.maxPixels) {
      throw new InputError(
        `the TIFF header claims ${width} x ${height} pixels, more than the limit of ${limits.maxPixels.toExponential(0)} ` +
          `pixels (a corrupt header, or an image to split first)`,
        path,
      );
    }
    const fd = image.getFileDirectory();
    const compression = Number(fd.getValue('Compression') ?? 1);
    if (!DECODABLE.has(compression)) {
      const name = UNSUPPORTED_NAMES.get(compression) ?? 'an unknown';
      throw new InputError(
        `uses ${name} compression (TIFF code ${compression}), which this tool cannot decode; ` +
          `convert it with gdal_translate -co COMPRESS=DEFLATE`,
        path,
      );
    }
    const spp = image.getSamplesPerPixel();
    const transparency = await transparencyOf(tiff, image, spp);
    // JPEG-compressed YCbCr (GDAL's usual RGB orthophoto: COMPRESS=JPEG PHOTOMETRIC=YCBCR) is read as RGB, as GDAL
    // reports it. Other YCbCr layouts (uncompressed, chroma subsampled in the TIFF itself) geotiff.js cannot convert.
    const ycbcr = Number(fd.getValue('PhotometricInterpretation')) === PHOTOMETRIC_YCBCR;
    if (ycbcr && !(compression === JPEG && spp === 3 && image.getBitsPerSample(0) === 8)) {
      throw new InputError('stores YCbCr pixels without JPEG compression, which this tool cannot convert; convert it with gdal_translate -co COMPRESS=DEFLATE', path);
    }
    const types = new Set<SampleType>();
    for (let s = 0; s < spp; s++) types.add(sampleTypeOf(path, image.getSampleFormat(s) ?? 1, image.getBitsPerSample(s)));
    if (types.size !== 1) throw new InputError('bands of different sample types in one file are not supported', path);
    const blocks = await checkBlocks(path, image, fileSize, limits);
    const nodataValue = image.getGDALNoData();
    const bits = image.getBitsPerSample(0);
    const sampleType = [...types][0];
    // Byte widths the typed arrays read directly (float16 and 12-bit samples go through geotiff.js).
    const direct = PLAIN_PARAMETERS.has(compression) && (image.littleEndian || bits === 8) && bits === TYPED_BITS[sampleType] &&
      Array.from({ length: spp }, (_, s) => image.getBitsPerSample(s)).every((b) => b === bits);
    return new GeoTiffSource(
      path, tiff, image, width, height, spp, sampleType,
      georefFromTags(await loadTags(image)),
      nodataValue === null || Number.isNaN(nodataValue) ? null : nodataValue,
      direct ? { compression, reader: await BlockReader.open(path, blocks.offsets, blocks.counts) } : null,
      ycbcr,
      transparency,
    );
  } catch (err) {
    await tiff.close();
    if (err instanceof InputError) throw err;
    throw new InputError(`not a readable TIFF (corrupt header): ${(err as Error).message}`, path);
  }
}

const TYPED_BITS: Record<SampleType, number> = { uint8: 8, int8: 8, uint16: 16, int16: 16, uint32: 32, int32: 32, float32: 32, float64: 64 };
const TYPED_ARRAYS = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
} as const;

/**
 * Pixels the file itself marks as holding no data, besides GDAL_NODATA: an alpha sample at 0 (TIFF ExtraSamples 1
 * or 2, or GDAL's colour interpretation "Alpha"; ExtraSamples 0 is an ordinary extra band, such as NIR after RGB),
 * or GDAL's internal mask at 0 (an IFD of the same size with NewSubfileType 4, as `GDAL_TIFF_INTERNAL_MASK` writes
 * beside JPEG-compressed data, which cannot hold a nodata value). They read as NaN, which every stage treats as no
 * data, as GDAL's mask does.
 */
interface Transparency {
  /** 0-based sample index of the alpha band, or null. */
  alpha: number | null;
  mask: GeoTIFFImage | null;
}

const ALPHA_KINDS = new Set([1, 2]);
const MASK_SUBFILE = 4;

async function transparencyOf(tiff: GeoTIFF, image: GeoTIFFImage, spp: number): Promise<Transparency> {
  const extra = toNumbers(await image.getFileDirectory().loadValue('ExtraSamples')) ?? [];
  // GDAL keeps each band's colour interpretation in its GDAL_METADATA tag where the TIFF's own tags cannot say it,
  // and reads it back over them: a band GDAL copied as "Undefined" is no alpha to GDAL, whatever ExtraSamples says.
  const interpretation = async (s: number) => ((await image.getGDALMetadata(s)) ?? {}).COLORINTERP as string | undefined;
  let alpha: number | null = null;
  for (let s = 0; s < spp && alpha === null; s++) {
    const named = await interpretation(s);
    const extraKind = s >= spp - extra.length ? extra[s - (spp - extra.length)] : 0;
    if (named === undefined ? ALPHA_KINDS.has(extraKind) : named.toLowerCase() === 'alpha') alpha = s;
  }
  let mask: GeoTIFFImage | null = null;
  const count = await tiff.getImageCount();
  for (let i = 1; i < count && !mask; i++) {
    const candidate = await tiff.getImage(i);
    const kind = Number((await candidate.getFileDirectory().loadValue('NewSubfileType')) ?? 0);
    if (kind === MASK_SUBFILE && candidate.getWidth() === image.getWidth() && candidate.getHeight() === image.getHeight()) mask = candidate;
  }
  return { alpha, mask };
}

/**
 * Compressions whose decoders take geotiff.js's default parameters (JPEG and LERC read more tags: those go
 * through readRasters). geotiff.js does not export its parameter function, so this mirrors it.
 */
const PLAIN_PARAMETERS = new Set([1, 5, 8, 32946, 32773, 50000]);

async function plainDecoder(image: GeoTIFFImage, compression: number): Promise<{ decoder: BaseDecoder; predictor: number }> {
  const fd = image.getFileDirectory();
  const predictor = Number(await fd.loadValue('Predictor') ?? 1) || 1;
  const decoder = await getDecoder(compression, {
    tileWidth: image.getTileWidth(),
    tileHeight: image.getTileHeight(),
    planarConfiguration: Number(await fd.loadValue('PlanarConfiguration') ?? 1),
    bitsPerSample: await fd.loadValue('BitsPerSample'),
    predictor,
  } as never);
  return { decoder, predictor };
}

/** Compressions whose blocks the direct read decodes without a copy into a block-sized ArrayBuffer. */
const NONE = 1;
const DEFLATE = new Set([8, 32946]);

/** How the direct read gets a file's blocks: its own reader, and the compression to decode. */
interface DirectBlocks {
  compression: number;
  reader: BlockReader;
}

class GeoTiffSource implements RasterSource {
  readonly paths: string[];
  readonly blockRows: number;
  readonly alphaBand: number | null;
  private decoding?: Promise<{ decoder: BaseDecoder; predictor: number }>;
  private sparseBlock?: ArrayBuffer;
  constructor(
    path: string,
    private readonly tiff: GeoTIFF,
    private readonly image: GeoTIFFImage,
    readonly width: number,
    readonly height: number,
    readonly bandCount: number,
    readonly sampleType: SampleType,
    readonly georef: GeoReference | null,
    readonly nodata: number | null,
    /** Present where samples are whole little-endian numbers of the declared type: blocks are copied with typed arrays. */
    private readonly direct: DirectBlocks | null,
    /** JPEG-compressed YCbCr: converted to red, green, blue on reading. */
    private readonly ycbcr: boolean,
    private readonly transparency: Transparency,
  ) {
    this.paths = [path];
    this.blockRows = image.getTileHeight();
    this.alphaBand = transparency.alpha;
  }

  async readWindow(window: PixelWindow, bands?: number[], into?: Float32Array[]): Promise<Float32Array[]> {
    const samples = checkWindow(this, window, bands);
    const { alpha, mask } = this.transparency;
    if (alpha === null && mask === null) return this.readSamples(window, samples, into);
    // The alpha sample is read with the others (pixel-interleaved, it lies in the same blocks).
    const read = alpha !== null && !samples.includes(alpha) ? [...samples, alpha] : samples;
    const planes = await this.readSamples(window, read, into);
    const opaque = alpha === null ? null : planes[read.indexOf(alpha)];
    const unmasked = mask === null ? null : await this.readMask(mask, window);
    const n = window.width * window.height;
    for (let i = 0; i < n; i++) {
      if ((opaque && opaque[i] === 0) || (unmasked && unmasked[i] === 0)) for (let b = 0; b < samples.length; b++) planes[b][i] = NaN;
    }
    return planes.slice(0, samples.length);
  }

  private async readMask(mask: GeoTIFFImage, window: PixelWindow): Promise<ArrayLike<number>> {
    try {
      const [values] = (await mask.readRasters({ window: [window.x, window.y, window.x + window.width, window.y + window.height], samples: [0] })) as ArrayLike<number>[];
      return values;
    } catch (err) {
      throw new InputError(`cannot decode the mask in window ${JSON.stringify(window)} (corrupt data): ${(err as Error).message}`, this.paths[0]);
    }
  }

  private async readSamples(window: PixelWindow, samples: number[], into?: Float32Array[]): Promise<Float32Array[]> {
    if (this.direct) {
      try {
        return await this.readBlocks(this.direct, window, samples, into);
      } catch (err) {
        throw new InputError(`cannot decode pixels in window ${JSON.stringify(window)} (corrupt data): ${(err as Error).message}`, this.paths[0]);
      }
    }
    let rasters;
    try {
      const box = [window.x, window.y, window.x + window.width, window.y + window.height];
      if (this.ycbcr) {
        // geotiff.js's readRasters gives the stored Y, Cb, Cr; readRGB converts them (JFIF coefficients). On a GF-1
        // scene its values were 0.3 DN from GDAL's (libjpeg's) on average and 9 at most, where chroma changes.
        const rgb = (await this.image.readRGB({ window: box, interleave: false })) as unknown as ArrayLike<number>[];
        rasters = samples.map((s) => rgb[s]);
      } else rasters = await this.image.readRasters({ window: box, samples });
    } catch (err) {
      throw new InputError(`cannot decode pixels in window ${JSON.stringify(window)} (corrupt data): ${(err as Error).message}`, this.paths[0]);
    }
    return (rasters as ArrayLike<number>[]).map((r) => (r instanceof Float32Array ? r : Float32Array.from(r)));
  }

  /**
   * Reads and decodes the blocks (tiles or strips) under the window and copies their rows with typed arrays.
   * geotiff.js's own readRasters moves every sample through a DataView call, which took an eighth of a whole
   * detection run, and reads each block into a fresh array. Decoding is geotiff.js's decoders and predictors
   * (deflate: Node's zlib on libuv's thread pool, so a window's blocks inflate in parallel).
   */
  private async readBlocks(direct: DirectBlocks, window: PixelWindow, samples: number[], into?: Float32Array[]): Promise<Float32Array[]> {
    const image = this.image;
    const { decoder, predictor } = await (this.decoding ??= plainDecoder(image, direct.compression));
    const tileWidth = image.getTileWidth();
    const tileHeight = image.getTileHeight();
    const tilesAcross = Math.ceil(this.width / tileWidth);
    const tilesDown = Math.ceil(this.height / tileHeight);
    const planar = image.planarConfiguration === 2;
    const spp = this.bandCount;
    const View = TYPED_ARRAYS[this.sampleType];
    const bytes = View.BYTES_PER_ELEMENT;
    const n = window.width * window.height;
    // Cleared, as a new array would be: a short block leaves its part unwritten.
    const out = samples.map((_, i) => (into?.[i] && into[i].length >= n ? into[i].subarray(0, n).fill(0) : new Float32Array(n)));
    const x1 = window.x + window.width;
    const y1 = window.y + window.height;

    const copy = (data: ArrayBuffer, byteOffset: number, byteLength: number, tx: number, ty: number, targets: { band: number; index: number }[]) => {
      const view = new View(data, byteOffset, Math.floor(byteLength / bytes));
      const rows = Math.min(tileHeight, this.height - ty * tileHeight);
      const cx0 = Math.max(window.x, tx * tileWidth);
      const cx1 = Math.min(x1, (tx + 1) * tileWidth, this.width);
      const cy0 = Math.max(window.y, ty * tileHeight);
      const cy1 = Math.min(y1, ty * tileHeight + rows);
      const n = cx1 - cx0;
      for (let y = cy0; y < cy1; y++) {
        const src = (y - ty * tileHeight) * tileWidth + (cx0 - tx * tileWidth);
        if (src + n > view.length / (planar ? 1 : spp)) break; // a short block: the rest stays 0
        const dst = (y - window.y) * window.width + (cx0 - window.x);
        for (const { band, index } of targets) {
          const target = out[index];
          if (planar || spp === 1) target.set(view.subarray(src, src + n), dst);
          else for (let i = 0; i < n; i++) target[dst + i] = view[(src + i) * spp + band];
        }
      }
    };
    const decodeInto = (block: number, tx: number, ty: number, targets: { band: number; index: number }[]) =>
      direct.reader.withBlock(block, async (compressed) => {
        if (compressed === null) {
          // A sparse block: GDAL reads it as nodata (or 0).
          const data = (this.sparseBlock ??= new View(tileWidth * tileHeight * (planar ? 1 : spp)).fill(this.nodata ?? 0).buffer as ArrayBuffer);
          copy(data, 0, data.byteLength, tx, ty, targets);
        } else if (direct.compression === NONE && predictor === 1) {
          copy(compressed.buffer as ArrayBuffer, compressed.byteOffset, compressed.byteLength, tx, ty, targets);
        } else {
          // The deflate decoder (zlib-deflate.ts) takes the lent bytes as they are; geotiff.js's others want an ArrayBuffer of their own.
          const input = DEFLATE.has(direct.compression) ? compressed : compressed.slice().buffer;
          const data = (await decoder.decode(input as never)) as ArrayBuffer;
          copy(data, 0, data.byteLength, tx, ty, targets);
        }
      });

    const jobs: Promise<void>[] = [];
    for (let ty = Math.floor(window.y / tileHeight); ty * tileHeight < y1; ty++) {
      for (let tx = Math.floor(window.x / tileWidth); tx * tileWidth < x1; tx++) {
        const block = ty * tilesAcross + tx;
        if (planar) samples.forEach((band, index) => jobs.push(decodeInto(band * tilesAcross * tilesDown + block, tx, ty, [{ band, index }])));
        else jobs.push(decodeInto(block, tx, ty, samples.map((band, index) => ({ band, index }))));
      }
    }
    await Promise.all(jobs);
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([this.tiff.close(), this.direct?.reader.close()]);
  }
}
