/**
 * GeoTIFF (and plain TIFF / BigTIFF) reading through geotiff.js. Only the header and the block index are
 * read at open; pixels are decoded per window, so memory follows the window, not the file.
 */
import { fromFile, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import './zlib-deflate.js';
import { InputError } from '../errors.js';
import { georefFromTags, type RawGeoTags } from './georef.js';
import type { GeoReference, PixelWindow, RasterSource, SampleType } from './types.js';
import { checkWindow, type OpenLimits } from './limits.js';

/** Compressions geotiff.js decodes in Node (WebP needs a browser canvas; LZMA, JPEG-XL, CCITT have no decoder). */
const DECODABLE = new Map<number, string>([
  [1, 'none'], [5, 'LZW'], [7, 'JPEG'], [8, 'Deflate'], [32946, 'Deflate'], [32773, 'PackBits'],
  [34887, 'LERC'], [50000, 'ZSTD'],
]);
const UNSUPPORTED_NAMES = new Map<number, string>([
  [2, 'CCITT RLE'], [3, 'CCITT Group 3'], [4, 'CCITT Group 4'], [6, 'old-style JPEG'], [34712, 'JPEG 2000'],
  [34925, 'LZMA'], [50001, 'WebP'], [50002, 'JPEG-XL'], [52546, 'JPEG-XL'],
]);
const PHOTOMETRIC_YCBCR = 6;

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

/** Checks that the block index is complete and every block lies inside the file (catches truncation). */
async function checkBlocks(path: string, image: GeoTIFFImage, fileSize: number, limits: OpenLimits): Promise<void> {
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
    if (Number(fd.getValue('PhotometricInterpretation')) === PHOTOMETRIC_YCBCR) {
      // geotiff.js returns raw Y/Cb/Cr samples for these, not the RGB values GDAL reports.
      throw new InputError('stores YCbCr (JPEG PHOTOMETRIC=YCBCR) pixels, which this tool cannot convert; convert it with gdal_translate -co COMPRESS=DEFLATE', path);
    }
    const spp = image.getSamplesPerPixel();
    const types = new Set<SampleType>();
    for (let s = 0; s < spp; s++) types.add(sampleTypeOf(path, image.getSampleFormat(s) ?? 1, image.getBitsPerSample(s)));
    if (types.size !== 1) throw new InputError('bands of different sample types in one file are not supported', path);
    await checkBlocks(path, image, fileSize, limits);
    const nodataValue = image.getGDALNoData();
    return new GeoTiffSource(
      path, tiff, image, width, height, spp, [...types][0],
      georefFromTags(await loadTags(image)),
      nodataValue === null || Number.isNaN(nodataValue) ? null : nodataValue,
    );
  } catch (err) {
    await tiff.close();
    if (err instanceof InputError) throw err;
    throw new InputError(`not a readable TIFF (corrupt header): ${(err as Error).message}`, path);
  }
}

class GeoTiffSource implements RasterSource {
  readonly paths: string[];
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
  ) {
    this.paths = [path];
  }

  async readWindow(window: PixelWindow, bands?: number[]): Promise<Float32Array[]> {
    const samples = checkWindow(this, window, bands);
    let rasters;
    try {
      rasters = await this.image.readRasters({
        window: [window.x, window.y, window.x + window.width, window.y + window.height],
        samples,
      });
    } catch (err) {
      throw new InputError(`cannot decode pixels in window ${JSON.stringify(window)} (corrupt data): ${(err as Error).message}`, this.paths[0]);
    }
    return (rasters as ArrayLike<number>[]).map((r) => (r instanceof Float32Array ? r : Float32Array.from(r)));
  }

  async close(): Promise<void> {
    await this.tiff.close();
  }
}
