/**
 * GeoTIFF (and plain TIFF / BigTIFF) reading through geotiff.js. Only the header and the block index are
 * read at open; pixels are decoded per window, so memory follows the window, not the file.
 */
import { fromFile, getDecoder, type BaseDecoder, type GeoTIFF, type GeoTIFFImage, type ImageFileDirectory } from 'geotiff';
import './zlib-deflate.js';
import './sharp-webp.js';
import './zstd-decoder.js';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import { georefFromTags, type RawGeoTags } from './georef.js';
import type { GeoReference, PixelWindow, RasterSource, SampleType } from './types.js';
import { checkWindow, type OpenLimits } from './limits.js';
import { BlockReader } from './block-reader.js';
import { findRpc, RPC_TAG } from './rpc.js';

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
const LERC = 34887;

function sampleTypeOf(path: string, format: number, bits: number): SampleType {
  // Sub-byte and odd widths (1-bit, 12-bit) are widened to the next byte size (unpacked by unpackBits).
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

export async function loadTags(image: GeoTIFFImage): Promise<RawGeoTags> {
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

/**
 * geotiff.js 3.0.5 reads an array tag whose values lie outside the first KiB it fetched of the directory
 * (StripOffsets of a file with many strips, TileByteCounts, ...) lazily, and then always as little-endian:
 * DeferredArray ignores the file's byte order. In a big-endian (Motorola) file those offsets came out
 * byte-swapped. Such tags are read here in the file's order and stored as loaded values, which geotiff.js's
 * own readRasters then uses as well.
 */
async function loadBigEndianArrays(fd: ImageFileDirectory): Promise<void> {
  for (const [tag, deferred] of [...fd.deferredArrays]) {
    const { fieldType: type, length: n } = deferred;
    const [bytes] = await deferred.source.fetch([{ offset: deferred.arrayOffset, length: deferred.itemSize * n }]);
    const view = new DataView(bytes as ArrayBuffer);
    const read = <T extends { [i: number]: number }>(values: T, count: number, size: number, get: (at: number) => number): T => {
      for (let i = 0; i < count; i++) values[i] = get(i * size);
      return values;
    };
    let values: ArrayLike<number> | number[];
    switch (type) {
      case 1: case 2: case 7: values = read(new Uint8Array(n), n, 1, (at) => view.getUint8(at)); break;
      case 6: values = read(new Int8Array(n), n, 1, (at) => view.getInt8(at)); break;
      case 3: values = read(new Uint16Array(n), n, 2, (at) => view.getUint16(at, false)); break;
      case 8: values = read(new Int16Array(n), n, 2, (at) => view.getInt16(at, false)); break;
      case 4: case 13: values = read(new Uint32Array(n), n, 4, (at) => view.getUint32(at, false)); break;
      case 9: values = read(new Int32Array(n), n, 4, (at) => view.getInt32(at, false)); break;
      case 5: values = read(new Uint32Array(2 * n), 2 * n, 4, (at) => view.getUint32(at, false)); break;
      case 10: values = read(new Int32Array(2 * n), 2 * n, 4, (at) => view.getInt32(at, false)); break;
      case 11: values = read(new Float32Array(n), n, 4, (at) => view.getFloat32(at, false)); break;
      case 12: values = read(new Float64Array(n), n, 8, (at) => view.getFloat64(at, false)); break;
      case 16: case 18: values = read(new Array<number>(n), n, 8, (at) => Number(view.getBigUint64(at, false))); break;
      case 17: values = read(new Array<number>(n), n, 8, (at) => Number(view.getBigInt64(at, false))); break;
      default: continue;
    }
    fd.actualizedFields.set(tag, values as never);
    fd.deferredArrays.delete(tag);
  }
}

/**
 * The files GDAL reads georeferencing from beside the TIFF at `path`, in its order: the PAM `.aux.xml`, then the
 * world files (`.tfw`, `.tifw`, `.wld`, either case). A product archive takes them out with the TIFF.
 */
export function georefSidecars(path: string): string[] {
  const ext = extname(path).slice(1);
  const stem = join(dirname(path), basename(path, extname(path)));
  const names = ext ? [`${ext[0]}${ext[ext.length - 1]}w`, `${ext}w`, 'wld'] : ['wld'];
  return [`${path}.aux.xml`, ...names.flatMap((n) => [n.toLowerCase(), n.toUpperCase()]).map((n) => `${stem}.${n}`)];
}

/**
 * Georeferencing that GDAL reads beside a TIFF without its own (a baseline TIFF, PROFILE=BASELINE): the PAM
 * sidecar `.aux.xml` (GeoTransform and SRS), else a world file (`.tfw`, `.tifw`, `.wld`). The CRS goes on as its
 * EPSG code, from which the writer makes geo keys; where the sidecar's CRS has none, it cannot be carried, and
 * the source's warnings say so.
 */
export async function sidecarGeoref(path: string): Promise<{ georef: GeoReference | null; warning?: string }> {
  const text = async (p: string) => readFile(p, 'utf8').catch(() => undefined);
  const [auxFile, ...worldFiles] = georefSidecars(path);
  const aux = await text(auxFile);
  const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  const wkt = aux && /<SRS[^>]*>([^<]*)<\/SRS>/.exec(aux)?.[1];
  let gt = aux && /<GeoTransform>([^<]*)<\/GeoTransform>/.exec(aux)?.[1].split(',').map(Number);
  let from = `${basename(path)}.aux.xml`;
  if (!(gt && gt.length === 6 && gt.every(Number.isFinite))) {
    gt = undefined;
    for (const file of worldFiles) {
      const lines = (await text(file))?.trim().split(/\s+/).map(Number);
      if (lines && lines.length >= 6 && lines.slice(0, 6).every(Number.isFinite)) {
        // A, D, B, E, then the centre of the first pixel.
        const [a, d, b, e, c, f] = lines;
        gt = [c - a / 2 - b / 2, a, b, f - d / 2 - e / 2, d, e];
        from = basename(file);
        break;
      }
    }
  }
  if (!gt) return { georef: null };
  const georef: GeoReference = { geoTransform: gt as GeoReference['geoTransform'] };
  if (!wkt?.trim()) return { georef };
  // The EPSG code of the CRS itself is the authority that closes the WKT (inner ones name datums, units).
  const code = /(?:AUTHORITY\["EPSG",\s*"(\d+)"\]|ID\["EPSG",\s*(\d+)\])\]\s*$/.exec(unescape(wkt).trim());
  if (code) {
    georef.epsg = Number(code[1] ?? code[2]);
    return { georef };
  }
  return { georef, warning: `the coordinate reference system in ${basename(path)}.aux.xml has no EPSG code, so the output has ${from}'s geotransform but no CRS` };
}

/**
 * The nodata value GDAL keeps in the PAM sidecar `.aux.xml` (a TIFF written with PROFILE=GeoTIFF or BASELINE has no
 * GDAL_NODATA tag; `gdal_translate -a_nodata` on it, or JPEG 2000, put it there): the first band's, as the tag holds
 * one for all bands. null where there is none, or it is NaN (always no data).
 */
export async function sidecarNodata(path: string): Promise<number | null> {
  const aux = await readFile(`${path}.aux.xml`, 'utf8').catch(() => undefined);
  const declared = aux && /<NoDataValue[^>]*>([^<]*)</.exec(aux)?.[1].trim();
  return declared && Number.isFinite(Number(declared)) ? Number(declared) : null;
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
    if (!image.littleEndian) await loadBigEndianArrays(image.getFileDirectory());
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
    const transparency = await transparencyOf(path, tiff, image, spp);
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
    const tagged = image.getGDALNoData();
    const nodataValue = tagged === null ? await sidecarNodata(path) : tagged;
    const sampleType = [...types][0];
    const layout = await sampleLayout(path, image, compression, sampleType);
    let georef = georefFromTags(await loadTags(image));
    const warnings: string[] = [];
    if (!georef) {
      const sidecar = await sidecarGeoref(path);
      georef = sidecar.georef;
      if (sidecar.warning) warnings.push(sidecar.warning);
    }
    const rpc = await findRpc(path, toNumbers(await fd.loadValue(RPC_TAG)));
    if (rpc.warning) warnings.push(rpc.warning);
    return new GeoTiffSource(
      path, tiff, image, width, height, spp, sampleType,
      georef,
      nodataValue === null || Number.isNaN(nodataValue) ? null : nodataValue,
      layout ? { ...layout, compression, reader: await BlockReader.open(path, blocks.offsets, blocks.counts) } : null,
      ycbcr,
      transparency,
      warnings,
      rpc.coefficients,
    );
  } catch (err) {
    await tiff.close();
    if (err instanceof InputError) throw err;
    throw new InputError(`not a readable TIFF (corrupt header): ${(err as Error).message}`, path);
  }
}

/**
 * How the direct read turns a decoded block into samples, or null where geotiff.js's readRasters reads it (JPEG,
 * LERC, WebP, float16). readRasters is trusted only where it was checked against GDAL: little-endian files (and
 * 8-bit big-endian ones) of whole-byte samples. Otherwise it gave wrong values without a word: big-endian samples
 * after a predictor or from LERC, and packed samples (12-bit, or 1-bit in more than one band). What neither read
 * handles is refused here, with the conversion that makes it readable.
 */
async function sampleLayout(path: string, image: GeoTIFFImage, compression: number, sampleType: SampleType): Promise<Omit<DirectBlocks, 'compression' | 'reader'> | null> {
  const fd = image.getFileDirectory();
  const spp = image.getSamplesPerPixel();
  const bits = image.getBitsPerSample(0);
  const format = image.getSampleFormat(0) ?? 1;
  const sameBits = Array.from({ length: spp }, (_, s) => image.getBitsPerSample(s)).every((b) => b === bits);
  const predictor = Number(await fd.loadValue('Predictor') ?? 1) || 1;
  const whole = bits === TYPED_BITS[sampleType];
  // Unsigned integers of a width typed arrays lack (GDAL's NBITS=1 to 31): a bit stream, first bit highest,
  // each row starting on a byte, in either byte order.
  const packed = !whole && format === 1 && bits < 32;
  const wide = bits <= 8 ? 'Byte' : bits <= 16 ? 'UInt16' : 'UInt32';
  const unpack = `convert it with gdal_translate -ot ${wide} -co NBITS=${bits <= 8 ? 8 : bits <= 16 ? 16 : 32} in.tif out.tif`;
  if (!sameBits) throw new InputError(`bands of different bit depths (${Array.from({ length: spp }, (_, s) => image.getBitsPerSample(s)).join(', ')}) in one file are not supported; ${unpack}`, path);
  if (packed && PLAIN_PARAMETERS.has(compression)) {
    // libtiff writes no predictor for such widths; FillOrder 2 (bits lowest first) GDAL never writes.
    if (predictor !== 1 || Number(await fd.loadValue('FillOrder') ?? 1) === 2) {
      throw new InputError(`stores ${bits}-bit samples ${predictor !== 1 ? `with predictor ${predictor}` : 'in reversed bit order (FillOrder 2)'}, which this tool cannot read; ${unpack}`, path);
    }
    // libtiff swaps 24-bit samples as byte triples where the file's order is not the host's: GDAL (on a
    // little-endian host) reads a big-endian file's 24-bit samples lowest byte first.
    return { swapBytes: !image.littleEndian && bits === 24 ? 3 : 0, accumulate: false, packedBits: bits };
  }
  const bytes = TYPED_BITS[sampleType] / 8;
  if (whole && PLAIN_PARAMETERS.has(compression)) {
    // Predictor 3 (floating point) gives bytes in native order whatever the file's (as libtiff's does); predictor 2
    // adds in the file's order, so the bytes are swapped first and the differences added here.
    const swap = !image.littleEndian && bytes > 1 && predictor !== 3;
    return { swapBytes: swap ? bytes : 0, accumulate: swap && predictor === 2, packedBits: 0 };
  }
  // geotiff.js's LERC decoder and its predictors give native order, which readRasters then reads in the file's.
  if (!image.littleEndian && bits > 8 && (compression === LERC || predictor !== 1)) {
    const what = compression === LERC ? 'LERC compression' : `predictor ${predictor} on ${bits}-bit samples`;
    throw new InputError(`uses big-endian (Motorola) byte order with ${what}, which this tool cannot read; convert it with gdal_translate -co ENDIANNESS=LITTLE in.tif out.tif`, path);
  }
  if (!whole && !(format === 3 && bits === 16)) {
    throw new InputError(`stores ${bits}-bit samples with ${DECODABLE.get(compression)} compression, which this tool cannot read; ${unpack}${format === 1 ? ' -co COMPRESS=DEFLATE' : ''}`, path);
  }
  return null;
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
 * beside JPEG-compressed data, which cannot hold a nodata value), or in GDAL's external mask file `.msk`. They read
 * as NaN, which every stage treats as no data, as GDAL's mask does.
 */
interface Transparency {
  /** 0-based sample index of the alpha band, or null. */
  alpha: number | null;
  mask: GeoTIFFImage | null;
  /** The external mask's file (`.msk` beside the TIFF), to close with the source. */
  maskFile?: GeoTIFF;
}

const ALPHA_KINDS = new Set([1, 2]);
const MASK_SUBFILE = 4;

async function transparencyOf(path: string, tiff: GeoTIFF, image: GeoTIFFImage, spp: number): Promise<Transparency> {
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
    if (!candidate.littleEndian) await loadBigEndianArrays(candidate.getFileDirectory());
    const kind = Number((await candidate.getFileDirectory().loadValue('NewSubfileType')) ?? 0);
    if (kind === MASK_SUBFILE && candidate.getWidth() === image.getWidth() && candidate.getHeight() === image.getHeight()) mask = candidate;
  }
  if (mask) return { alpha, mask };
  // GDAL's external mask (GDAL_TIFF_INTERNAL_MASK=NO): a TIFF of the same size beside it, named PATH.msk, whose
  // first image is the mask (of band 1, where it holds one per band).
  const external = `${path}.msk`;
  if (!existsSync(external)) return { alpha, mask: null };
  const maskFile = await fromFile(external).catch((e: Error) => {
    throw new InputError(`cannot read its mask file ${basename(external)}: ${e.message}`, path);
  });
  const first = await maskFile.getImage(0);
  if (first.getWidth() !== image.getWidth() || first.getHeight() !== image.getHeight()) {
    await maskFile.close();
    throw new InputError(`its mask file ${basename(external)} is ${first.getWidth()} x ${first.getHeight()}, not ${image.getWidth()} x ${image.getHeight()}`, path);
  }
  return { alpha, mask: first, maskFile };
}

/**
 * Compressions whose decoders take geotiff.js's default parameters (JPEG and LERC read more tags: those go
 * through readRasters). geotiff.js does not export its parameter function, so this mirrors it.
 */
const PLAIN_PARAMETERS = new Set([1, 5, 8, 32946, 32773, 50000]);

async function plainDecoder(image: GeoTIFFImage, direct: DirectBlocks): Promise<{ decoder: BaseDecoder; predictor: number }> {
  const fd = image.getFileDirectory();
  const compression = direct.compression;
  // Where the differences are added here (big-endian, predictor 2) the decoder adds none.
  const predictor = direct.accumulate ? 1 : Number(await fd.loadValue('Predictor') ?? 1) || 1;
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
  /** Big-endian samples of this many bytes, swapped to native order after decoding (0: none; 3: packed 24-bit). */
  swapBytes: number;
  /** Horizontal differencing (predictor 2) undone here, after the swap, as libtiff does. */
  accumulate: boolean;
  /** Width of packed unsigned samples (not 8, 16, 32) unpacked here, or 0. */
  packedBits: number;
}

/** Unpacks rows of `bits`-bit samples (a bit stream, highest bit first, each row starting on a byte). */
function unpackBits(bytes: Uint8Array, bits: number, rowSamples: number, out: { [i: number]: number; length: number }): void {
  const rowBytes = Math.ceil((rowSamples * bits) / 8);
  const rows = Math.floor(out.length / rowSamples);
  for (let r = 0; r < rows; r++) {
    let bit = r * rowBytes * 8;
    for (let i = 0; i < rowSamples; i++) {
      let value = 0;
      for (let need = bits; need > 0;) {
        const free = 8 - (bit & 7);
        const take = Math.min(free, need);
        value = value * 2 ** take + ((bytes[bit >> 3] >> (free - take)) & ((1 << take) - 1));
        need -= take;
        bit += take;
      }
      out[r * rowSamples + i] = value;
    }
  }
}

/** Adds predictor 2's horizontal differences back, in native order, on unsigned integers of the sample's width. */
function accumulate(data: ArrayBuffer, byteOffset: number, byteLength: number, bytes: number, rowSamples: number, stride: number): void {
  const rows = Math.floor(byteLength / (rowSamples * bytes));
  if (bytes === 8) {
    const v = new BigUint64Array(data, byteOffset, rows * rowSamples);
    for (let r = 0; r < rows; r++) for (let i = r * rowSamples + stride; i < (r + 1) * rowSamples; i++) v[i] += v[i - stride];
    return;
  }
  const v = bytes === 2 ? new Uint16Array(data, byteOffset, rows * rowSamples) : new Uint32Array(data, byteOffset, rows * rowSamples);
  for (let r = 0; r < rows; r++) for (let i = r * rowSamples + stride; i < (r + 1) * rowSamples; i++) v[i] += v[i - stride];
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
    /** Present where the blocks' samples are decoded here (whole numbers of the declared type, or packed unsigned integers). */
    private readonly direct: DirectBlocks | null,
    /** JPEG-compressed YCbCr: converted to red, green, blue on reading. */
    private readonly ycbcr: boolean,
    private readonly transparency: Transparency,
    readonly warnings: string[],
    readonly rpc: number[] | null,
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
    const { decoder, predictor } = await (this.decoding ??= plainDecoder(image, direct));
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

    const rowSamples = tileWidth * (planar ? 1 : spp);
    /** The samples of a decoded block, in native order (swapped in place: the bytes are the block's own or lent). */
    const samplesOf = (data: ArrayBuffer, byteOffset: number, byteLength: number) => {
      if (direct.packedBits) {
        if (direct.swapBytes === 3) {
          const b = new Uint8Array(data, byteOffset, byteLength - (byteLength % 3));
          for (let i = 0; i < b.length; i += 3) [b[i], b[i + 2]] = [b[i + 2], b[i]];
        }
        const rows = Math.min(tileHeight, Math.floor(byteLength / Math.ceil((rowSamples * direct.packedBits) / 8)));
        const out = new View(rows * rowSamples);
        unpackBits(new Uint8Array(data, byteOffset, byteLength), direct.packedBits, rowSamples, out);
        return out;
      }
      const length = Math.floor(byteLength / bytes);
      if (direct.swapBytes) {
        const b = Buffer.from(data, byteOffset, length * bytes);
        if (bytes === 2) b.swap16();
        else if (bytes === 4) b.swap32();
        else b.swap64();
        if (direct.accumulate) accumulate(data, byteOffset, length * bytes, bytes, rowSamples, planar ? 1 : spp);
      }
      return new View(data, byteOffset, length);
    };
    const copy = (data: ArrayBuffer, byteOffset: number, byteLength: number, tx: number, ty: number, targets: { band: number; index: number }[], native = false) => {
      const view = native ? new View(data, byteOffset, Math.floor(byteLength / bytes)) : samplesOf(data, byteOffset, byteLength);
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
          copy(data, 0, data.byteLength, tx, ty, targets, true);
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
    await Promise.all([this.tiff.close(), this.direct?.reader.close(), this.transparency.maskFile?.close()]);
  }
}
