/**
 * `wdcd view`: a local web page showing an image, its activation map (CAM) and its cloud mask.
 *
 * The server listens on 127.0.0.1 only and answers a fixed set of routes (the page's three assets, three JSON
 * endpoints and the tile endpoint); every other path, including any path with `..`, `%2e` or a second slash,
 * is 404. The given files are never served as files: the page only receives 256 x 256 PNG tiles rendered from
 * them (see pyramid.ts for how large scenes are tiled) and single-pixel values.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import sharp from 'sharp';
import { fromFile } from 'geotiff';
import { InputError } from '../errors.js';
import { maskGridDifference } from '../raster/georef.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import { openRaster } from '../raster/open.js';
import { dataBands, type GeoReference, type RasterSource } from '../raster/types.js';
import {
  addConfusion,
  confusion,
  emptyConfusion,
  metrics as computeMetrics,
  CODINGS,
  decodeMask,
  decodeRawMask,
  guessCoding,
  parseCoding,
  readRawMask,
  type CodingName,
  type DecodedMask,
  type RawMask,
  type ValueHistogram,
} from '../evaluate/index.js';
import { fillAndCloudOnly, scoredNodataWarning } from '../evaluate/evaluate-files.js';
import { ERROR_COLOURS, MASK_COLOURS, infernoTable, type Rgba } from './colormap.js';
import { Pyramid, TILE_SIZE, quantiles } from './pyramid.js';
import { loadPage, type PageAssets } from './page-assets.js';
import type { PixelValues, ViewerInfo, ViewerSummary } from './viewer-api.js';

export interface ViewerOptions {
  /** The cloud mask (wdcd's coding 0 clear / 1 cloud / 255 nodata unless `maskCoding` says otherwise). */
  mask: string;
  /** The image: one multi-band file, or several single-band files in band order (e.g. B2 B3 B4). */
  image: string[];
  /** The activation map (CAM), one band, same grid as the mask. */
  cam?: string;
  /** A truth mask: adds accuracy metrics and a false-positive / miss layer. */
  truth?: string;
  /** Coding of the truth mask (a name from src/evaluate/mask-codings.ts, or 'auto', the default). */
  truthCoding?: string;
  /** Coding of the mask ('wdcd' when its values fit, else guessed like a truth mask). */
  maskCoding?: string;
  /** Port on 127.0.0.1; 0 or absent: a free port. */
  port?: number;
  /** Initial display bands (0-based) for red, green, blue. Default: PNG, JPEG and 3 x 8-bit images R,G,B = 0,1,2;
   *  else 2,1,0 (the usual blue, green, red, NIR, ... band order of multispectral stacks). */
  rgb?: [number, number, number];
  /** Overview budget in pixels per band (tests use it to force the large-scene path). */
  overviewPixels?: number;
  onProgress?: ProgressCallback;
}

export interface Viewer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Layer {
  path: string;
  source: RasterSource;
  pyramid: Pyramid;
}

/**
 * The truth, read and decoded as `wdcd eval` reads it (palette PNGs as their indices, its declared nodata excluded
 * where the coding has no class for it), so that the page's metrics are eval's. Held whole, as eval holds it.
 */
interface Truth {
  /** Values as stored, for the readout. */
  raw: RawMask;
  /** 0 clear, 1 cloud, 255 excluded. */
  decoded: DecodedMask;
  /** Tiles of `decoded`. */
  pyramid: Pyramid;
}

const LUT = infernoTable();
const TILE_CACHE_ENTRIES = 384;
/** Rows per strip when scanning masks for the summary. */
const SCAN_FLOATS = 1 << 23;

function bandName(path: string, index: number, multiFile: boolean): string {
  if (!multiFile) return `band ${index + 1}`;
  const stem = basename(path, extname(path));
  const m = /(?:^|[_\-.])(B\d{1,2}A?)(?=[_\-.]|$)/i.exec(stem);
  return m ? m[1]!.toUpperCase() : stem;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

async function openLayer(paths: string[], overviewPixels: number | undefined): Promise<Layer> {
  const source = await openRaster(paths);
  return { path: paths.join(', '), source, pyramid: new Pyramid(source, overviewPixels) };
}

/** A decoded mask held in memory, read like a one-band raster so that it tiles like the other layers. */
function arraySource(path: string, values: Uint8Array, width: number, height: number): RasterSource {
  return {
    paths: [path],
    width,
    height,
    bandCount: 1,
    sampleType: 'uint8',
    georef: null,
    nodata: null,
    alphaBand: null,
    async readWindow(w) {
      const out = new Float32Array(w.width * w.height);
      for (let j = 0; j < w.height; j++) {
        const start = (w.y + j) * width + w.x;
        out.set(values.subarray(start, start + w.width), j * w.width);
      }
      return [out];
    },
    async close() {},
  };
}

/** Whether the file is a PNG or JPEG, which always store red, green, blue in that order (8 or 16 bits). */
async function isPngOrJpeg(path: string): Promise<boolean> {
  const head = Buffer.alloc(4);
  const handle = await open(path, 'r');
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  return head.readUInt32BE(0) === 0x89504e47 || (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff);
}

/** Whether two paths name one file (links and other spellings included); false where one cannot be read (its reader says why). */
async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [sa, sb] = await Promise.all([stat(a), stat(b)]);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Threshold-like and other metadata items of a TIFF (GDAL_METADATA, dataset level and band 1). */
async function tiffMetadata(path: string): Promise<Record<string, string>> {
  if (!/\.tiff?$/i.test(path)) return {};
  try {
    const tiff = await fromFile(path);
    try {
      const image = await tiff.getImage();
      const out: Record<string, string> = {};
      for (const sample of [0, null]) {
        const md = await image.getGDALMetadata(sample);
        for (const [k, v] of Object.entries(md ?? {})) out[k] = String(v);
      }
      return out;
    } finally {
      tiff.close();
    }
  } catch {
    return {};
  }
}

function thresholdFrom(items: Record<string, unknown>): number | null {
  for (const [k, v] of Object.entries(items)) {
    if (!/threshold/i.test(k)) continue;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : Number.NaN;
    if (Number.isFinite(n)) return n;
    if (v && typeof v === 'object' && 'value' in v && Number.isFinite(Number((v as { value: unknown }).value))) {
      return Number((v as { value: unknown }).value);
    }
  }
  return null;
}

async function readSidecar(maskPath: string, warnings: string[]): Promise<ViewerSummary['sidecar'] & { raw?: Record<string, unknown> } | null> {
  const stem = maskPath.slice(0, maskPath.length - extname(maskPath).length);
  for (const path of [`${maskPath}.json`, `${stem}.json`]) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    try {
      const raw = JSON.parse(text) as unknown;
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a JSON object');
      const fields: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') fields[k] = v;
        else if (v && typeof v === 'object' && !Array.isArray(v)) {
          for (const [k2, v2] of Object.entries(v)) {
            if (typeof v2 === 'number' || typeof v2 === 'string' || typeof v2 === 'boolean') fields[`${k}.${k2}`] = v2;
          }
        }
      }
      return { path: basename(path), fields, raw: raw as Record<string, unknown> };
    } catch (e) {
      warnings.push(`${path}: ignored, ${(e as Error).message}`);
    }
  }
  return null;
}

/** Adds `values` to the histogram, leaving out (and counting) the pixels that hold the declared nodata value. */
function addValues(into: ValueHistogram, values: Float32Array, nodata: number | null): number {
  let declared = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === nodata) declared++;
    else if (v >= 0 && v <= 255 && Number.isInteger(v)) into.counts[v]!++;
    else if (Number.isNaN(v)) into.nan++;
    else {
      if (into.other === 0) into.firstOther = v;
      into.other++;
    }
  }
  return declared;
}

/** A mask's values: the histogram of those that are not its declared nodata, and how many pixels hold that. */
interface MaskValues {
  histogram: ValueHistogram;
  /** Pixels holding the file's declared nodata value (0 when none is declared). */
  declared: number;
}

/**
 * Histogram of band 1 at full resolution, gathered while the layer's overview is built (one pass). A mask stored
 * as grey RGB (GF-1's PNGs) has equal colour bands; differing ones are an image given as the mask. An alpha band
 * (gdalwarp -dstalpha) is no class band: its transparent pixels already read as NaN. Pixels holding the declared
 * nodata (`nodata`, as float32) are counted apart, as `wdcd eval` leaves them out when it guesses a coding.
 */
async function histogramWithOverview(layer: Layer, onProgress: ProgressCallback, stage: string, nodata: number | null): Promise<MaskValues> {
  const total: ValueHistogram = { counts: new Float64Array(256), nan: 0, other: 0 };
  let declared = 0;
  const others = dataBands(layer.source).filter((b) => b > 0);
  await layer.pyramid.overview((strip, y, rows, height) => {
    const first = strip[0]!;
    for (const b of others.slice(0, 2)) {
      const band = strip[b]!;
      const i = band.findIndex((v, j) => v !== first[j] && !(Number.isNaN(v) && Number.isNaN(first[j]!)));
      if (i >= 0) {
        throw new InputError(
          `bands 1 and ${b + 1} differ at pixel (${i % layer.source.width}, ${y + Math.floor(i / layer.source.width)}); ` +
            'a mask is one band of class values (is this the image?)',
          layer.path,
        );
      }
    }
    declared += addValues(total, first, nodata);
    onProgress({ kind: 'progress', stage, done: y + rows, total: height, unit: 'rows' });
  });
  return { histogram: total, declared };
}

/**
 * The mask's coding: wdcd's own (0 clear, 1 cloud, 255 nodata, written with GDAL_NODATA 255) whenever the values
 * fit it and are not a 0/255 mask without that nodata tag, which is the usual "255 = cloud" coding of other tools
 * and is guessed like a truth mask (from the name, else an InputError asking for the coding). `h` leaves out the
 * pixels of the declared nodata (a 0/1 mask with its own fill value, 254 or 15, is wdcd's), as `wdcd eval` does
 * when it guesses a coding; a 1 declared as nodata still tells a 0/1 mask.
 */
function chooseMaskCoding(path: string, values: MaskValues, requested: CodingName | 'auto', nodata: number | null): CodingName {
  if (requested !== 'auto') return requested;
  const h = values.histogram;
  if (h.other === 0) {
    const table = CODINGS.wdcd.table;
    let fits = true;
    for (let v = 0; v < 256; v++) if (h.counts[v]! > 0 && table[v]! < 0) fits = false;
    const ones = h.counts[1]! + (nodata === 1 ? values.declared : 0);
    if (fits && (nodata === 255 || ones > 0 || h.counts[255] === 0)) return 'wdcd';
  }
  try {
    return guessCoding(path, h);
  } catch (e) {
    if (e instanceof InputError) throw new InputError(e.message.replace(/--coding\b/g, '--mask-coding'));
    throw e;
  }
}

function checkCodingFits(path: string, h: ValueHistogram, coding: CodingName): void {
  const table = CODINGS[coding].table;
  if (h.other > 0) throw new InputError(`mask value ${h.firstOther} is not a class value of the ${coding} coding`, path);
  for (let v = 0; v < 256; v++) {
    if (h.counts[v]! > 0 && table[v]! < 0) {
      throw new InputError(`mask value ${v} is not part of the ${coding} coding (${CODINGS[coding].description})`, path);
    }
  }
}

/**
 * The values of an integer raster holding at most two (0 and 1, 0 and 255): a mask given as --cam. A CAM is
 * float; an integer probability map (0-100) holds many values.
 */
function maskLikeValues(sampleType: string, values: Float32Array, nodata: number | null): number[] | null {
  if (sampleType.startsWith('float')) return null;
  const seen = new Set<number>();
  for (const v of values) {
    if (Number.isNaN(v) || v === nodata || seen.has(v)) continue;
    if (seen.size === 2) return null;
    seen.add(v);
  }
  return [...seen].sort((a, b) => a - b);
}

/** A small LRU of rendered tiles (and in-flight renders, so concurrent requests for a tile render it once). */
class TileCache {
  private readonly map = new Map<string, Promise<Buffer | null>>();
  constructor(private readonly capacity: number) {}
  get(key: string, make: () => Promise<Buffer | null>): Promise<Buffer | null> {
    let p = this.map.get(key);
    if (p) {
      this.map.delete(key);
      this.map.set(key, p);
      return p;
    }
    p = make();
    this.map.set(key, p);
    p.catch(() => this.map.delete(key));
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    return p;
  }
}

function png(rgba: Uint8Array): Promise<Buffer> {
  return sharp(rgba, { raw: { width: TILE_SIZE, height: TILE_SIZE, channels: 4 } })
    .png({ compressionLevel: 3, adaptiveFiltering: false })
    .toBuffer();
}

function put(out: Uint8Array, i: number, c: Rgba): void {
  out[i * 4] = c[0];
  out[i * 4 + 1] = c[1];
  out[i * 4 + 2] = c[2];
  out[i * 4 + 3] = c[3];
}

/**
 * Decodes a tile of raw mask values to 0/1/255, with 254 for "outside the raster" (past `extent`). NaN inside it is
 * nodata (a float mask's, an alpha band's transparent pixels), drawn as nodata, never as clear; so is `nodata`, the
 * mask's declared nodata value where its coding has no class for it.
 */
function decodeTile(values: Float32Array, coding: CodingName, extent: { cols: number; rows: number }, nodata: number | null): Uint8Array {
  const table = CODINGS[coding].table;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (i % TILE_SIZE >= extent.cols || Math.floor(i / TILE_SIZE) >= extent.rows) out[i] = 254;
    else if (Number.isNaN(v) || v === nodata) out[i] = 255;
    else {
      const d = v >= 0 && v <= 255 && Number.isInteger(v) ? table[v]! : -1;
      out[i] = d < 0 ? 255 : d;
    }
  }
  return out;
}

export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const onProgress = options.onProgress ?? noProgress;
  if (!options.mask) throw new InputError('no mask given', 'MASK');
  if (!options.image || options.image.length === 0) throw new InputError('no image given', '--image');
  if (options.port !== undefined && (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)) {
    throw new InputError(`port must be an integer in 0..65535, got ${options.port}`, '--port');
  }
  // Coding names are checked before any file is read.
  const requestedMaskCoding = parseCoding(options.maskCoding, '--mask-coding');
  const requestedTruthCoding = parseCoding(options.truthCoding, '--coding');
  // Without a truth it would be ignored without a word, when it was most likely meant for the mask.
  if (options.truthCoding !== undefined && !options.truth) {
    throw new InputError("is the coding of --truth, which is not given; the mask's coding is --mask-coding", '--coding');
  }
  const warnings: string[] = [];
  const opened: Layer[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(opened.map((l) => l.source.close().catch(() => {})));
  };

  let mask: Layer;
  let image: Layer;
  let cam: Layer | null = null;
  let truthRaw: RawMask | null = null;
  try {
    onProgress({ kind: 'stage', stage: 'view', message: 'opening rasters' });
    mask = await openLayer([options.mask], options.overviewPixels);
    opened.push(mask);
    image = await openLayer(options.image, options.overviewPixels);
    opened.push(image);
    if (options.cam) {
      cam = await openLayer([options.cam], options.overviewPixels);
      opened.push(cam);
    }
    if (options.truth) {
      // The mask as its own truth scores 100 %, a slip that `wdcd eval` refuses too.
      if (await sameFile(options.mask, options.truth)) {
        throw new InputError('is given as both the mask and its truth (--truth); it would score itself 100 %', options.truth);
      }
      onProgress({ kind: 'stage', stage: 'view', message: 'reading the truth' });
      truthRaw = await readRawMask(options.truth);
    }
    const { width, height } = mask.source;
    const grid = (what: string, path: string, r: { width: number; height: number; georef: GeoReference | null }) =>
      ({ what, path, width: r.width, height: r.height, georef: r.georef });
    const others = [
      grid('--image', image.path, image.source),
      ...(cam ? [grid('--cam', cam.path, cam.source)] : []),
      ...(truthRaw ? [grid('--truth', truthRaw.path, truthRaw)] : []),
    ];
    for (const layer of others) {
      if (layer.width !== width || layer.height !== height) {
        throw new InputError(
          `is ${layer.width} x ${layer.height} pixels but the mask is ${width} x ${height}; ` +
            `${layer.what} must cover the same grid as the mask`,
          layer.path,
        );
      }
      const difference = maskGridDifference(mask.source.georef, layer.georef);
      if (difference) throw new InputError(`${layer.what} must cover the same grid as the mask: ${difference}`, layer.path);
    }
    if (cam && cam.source.bandCount !== 1) warnings.push(`${cam.path}: ${cam.source.bandCount} bands, showing the first as CAM`);
    if (options.rgb && options.rgb.some((b) => !Number.isInteger(b) || b < 0 || b >= image.source.bandCount)) {
      throw new InputError(`display bands must be in 1..${image.source.bandCount}`, '--rgb');
    }
  } catch (e) {
    await close();
    throw e;
  }

  const { width, height } = mask.source;
  const maxZoom = mask.pyramid.maxZoom;

  // Mask coding (and the truth's) must be known before tiles are drawn; a wrong coding is the user's error, so
  // it is found here, before the URL is printed, and thrown as InputError.
  let maskCoding: CodingName;
  let maskValues: MaskValues;
  /**
   * The mask's declared nodata value (as float32, the type values are read in) where its coding has no class for
   * it (254 or 65535 in a 0/1 mask): its pixels are no data in the tiles, the summary and the metrics, as `wdcd
   * eval` excludes them. Null where none is declared or the coding reads it (255 in wdcd's coding: fill already;
   * a class value: scored as the coding says, with eval's warning).
   */
  let maskNodata: number | null = null;
  /** How the summary counts the declared nodata's pixels: as the class the coding reads it as, else as no data. */
  let declaredAs: 0 | 1 | 255 = 255;
  let truth: Truth | null = null;
  try {
    onProgress({ kind: 'stage', stage: 'view', message: 'reading the mask' });
    const declared = mask.source.nodata === null || Number.isNaN(mask.source.nodata) ? null : Math.fround(mask.source.nodata);
    maskValues = await histogramWithOverview(mask, onProgress, 'view: mask', declared);
    maskCoding = chooseMaskCoding(options.mask, maskValues, requestedMaskCoding, declared);
    checkCodingFits(options.mask, maskValues.histogram, maskCoding);
    if (declared !== null) {
      const readAs = declared >= 0 && declared <= 255 && Number.isInteger(declared) ? CODINGS[maskCoding].table[declared]! : -1;
      if (readAs < 0) maskNodata = declared;
      else if ((readAs === 0 || readAs === 1) && maskValues.declared > 0) {
        // The file says no data, the coding says clear or cloud: eval scores them as the coding says, and warns.
        declaredAs = readAs;
        const as = readAs === 1 ? ('cloud' as const) : ('clear' as const);
        const scored: DecodedMask = {
          path: options.mask, width, height, georef: mask.source.georef, coding: maskCoding, mask: new Uint8Array(0),
          scoredNodata: { value: declared, pixels: maskValues.declared, as },
        };
        warnings.push(`${options.mask}: ${scoredNodataWarning(scored, 'mask')!.replace(/--coding\b/g, '--mask-coding')}`);
      }
    }
    if (truthRaw) {
      const decoded = decodeRawMask(truthRaw, requestedTruthCoding);
      // eval's warnings about a truth whose scores would mislead without a word.
      for (const w of [scoredNodataWarning(decoded, 'truth'), fillAndCloudOnly(decoded)]) if (w) warnings.push(`${truthRaw.path}: ${w}`);
      const source = arraySource(truthRaw.path, decoded.mask, width, height);
      truth = { raw: truthRaw, decoded, pyramid: new Pyramid(source, options.overviewPixels) };
    }
  } catch (e) {
    await close();
    throw e;
  }

  // --- static description of the layers -------------------------------------------------------------------
  const imageBands = image.source.bandCount;
  const rgbOrder = (image.source.sampleType === 'uint8' && imageBands <= 4) || (options.image.length === 1 && (await isPngOrJpeg(options.image[0]!)));
  const defaultRgb: [number, number, number] = options.rgb ?? (imageBands >= 3 ? (rgbOrder ? [0, 1, 2] : [2, 1, 0]) : [0, 0, 0]);
  const multiFile = options.image.length > 1;
  const bandNames = Array.from({ length: imageBands }, (_, b) =>
    bandName(options.image[Math.min(b, options.image.length - 1)]!, b, multiFile && options.image.length === imageBands),
  );
  // As float32, the type values are read in: a declared -0.1 or 1e20 compared as a double would match no pixel.
  const imageNodata = image.source.nodata === null ? null : Math.fround(image.source.nodata);
  const camNodata = cam && cam.source.nodata !== null ? Math.fround(cam.source.nodata) : null;

  /** Rows-read progress while an overview is built. */
  const overviewProgress = (stage: string) => (_strip: Float32Array[], y: number, rows: number, total: number) =>
    onProgress({ kind: 'progress', stage, done: y + rows, total, unit: 'rows' });

  /** Stretch (2-98 %) per band and the CAM range, from the overviews (computed once, before the server listens). */
  let statsPromise: Promise<{ stretch: [number, number][]; camRange: [number, number] | null }> | undefined;
  const stats = () =>
    (statsPromise ??= (async () => {
      const ov = await image.pyramid.overview(overviewProgress('view: image'));
      const n = ov.width * ov.height;
      // Fill: NaN or the declared nodata in any band, or 0 in every band (Landsat / Sentinel fill outside the
      // footprint is 0 when no nodata is declared).
      const fill = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        let zeros = 0;
        for (const band of ov.bands) {
          const v = band[i]!;
          if (Number.isNaN(v) || v === imageNodata) {
            fill[i] = 1;
            break;
          }
          if (v === 0) zeros++;
        }
        if (zeros === ov.bands.length) fill[i] = 1;
      }
      const stretch = ov.bands.map((band) => {
        let [lo, hi] = quantiles(band, [0.02, 0.98], (i) => fill[i] === 0);
        if (!Number.isFinite(lo!) || !Number.isFinite(hi!)) [lo, hi] = [0, 1];
        if (hi! <= lo!) hi = lo! + 1;
        return [lo!, hi!] as [number, number];
      });
      let camRange: [number, number] | null = null;
      if (cam) {
        const cov = await cam.pyramid.overview(overviewProgress('view: cam'));
        const values = cov.bands[0]!;
        let [lo, hi] = quantiles(values, [0.02, 0.98], (i) => Number.isFinite(values[i]!) && values[i] !== camNodata);
        if (!Number.isFinite(lo!) || !Number.isFinite(hi!)) [lo, hi] = [0, 1];
        const classes = maskLikeValues(cam.source.sampleType, values, camNodata);
        if (classes) {
          warnings.push(
            `${cam.path}: holds only the values ${classes.join(' and ')}, like a mask, not an activation map ` +
              '(wdcd detect --cam writes float32 scores); the heat map shows classes, not scores',
          );
        }
        if (threshold) {
          lo = Math.min(lo!, threshold.value);
          hi = Math.max(hi!, threshold.value);
        }
        if (hi! <= lo!) hi = lo! + 1;
        camRange = [lo!, hi!];
      }
      return { stretch, camRange };
    })());

  // --- summary: threshold, sidecar, fractions, metrics ----------------------------------------------------
  const sidecar = await readSidecar(options.mask, warnings);
  let threshold: ViewerSummary['threshold'] = null;
  {
    const fromSidecar = sidecar?.raw ? thresholdFrom(sidecar.raw) : null;
    if (fromSidecar !== null) threshold = { value: fromSidecar, source: sidecar!.path };
    else {
      for (const path of [options.cam, options.mask]) {
        if (!path) continue;
        const t = thresholdFrom(await tiffMetadata(path));
        if (t !== null) {
          threshold = { value: t, source: `${basename(path)} metadata` };
          break;
        }
      }
    }
  }
  const table = CODINGS[maskCoding].table;
  let cloud = 0;
  let clear = 0;
  let nodata = maskValues.histogram.nan;
  for (let v = 0; v < 256; v++) {
    const c = maskValues.histogram.counts[v]!;
    if (c === 0) continue;
    if (table[v] === 1) cloud += c;
    else if (table[v] === 0) clear += c;
    else nodata += c;
  }
  // The declared nodata's pixels: no data unless the coding reads the value as a class (warned about above).
  if (declaredAs === 1) cloud += maskValues.declared;
  else if (declaredAs === 0) clear += maskValues.declared;
  else nodata += maskValues.declared;
  const pixels = width * height;
  const summaryPromise: Promise<ViewerSummary> = (async () => {
    let truthSummary: ViewerSummary['truth'] = null;
    if (truth) {
      let m = emptyConfusion();
      const rows = Math.floor(SCAN_FLOATS / width / 512) * 512 || Math.max(1, Math.floor(SCAN_FLOATS / width));
      for (let y = 0; y < height; y += rows) {
        const h = Math.min(rows, height - y);
        const [p] = await mask.source.readWindow({ x: 0, y, width, height: h }, [0]);
        // The declared nodata that the coding has no class for is excluded (as NaN), as `wdcd eval` excludes it.
        const values = maskNodata === null ? p! : p!.map((v) => (v === maskNodata ? Number.NaN : v));
        m = addConfusion(m, confusion(decodeMask(values, maskCoding, options.mask), truth.decoded.mask.subarray(y * width, (y + h) * width)));
      }
      const mm = computeMetrics(m);
      truthSummary = {
        path: basename(truth.raw.path),
        coding: truth.decoded.coding,
        confusion: m,
        metrics: {
          oa: finiteOrNull(mm.oa),
          precision: finiteOrNull(mm.precision),
          recall: finiteOrNull(mm.recall),
          f1: finiteOrNull(mm.f1),
          iou: finiteOrNull(mm.iou),
          kappa: finiteOrNull(mm.kappa),
        },
      };
    }
    return {
      pixels,
      cloud,
      clear,
      nodata,
      cloudFraction: cloud / pixels,
      nodataFraction: nodata / pixels,
      cloudFractionOfValid: cloud + clear > 0 ? cloud / (cloud + clear) : null,
      threshold,
      sidecar: sidecar ? { path: sidecar.path, fields: sidecar.fields } : null,
      warnings,
      truth: truthSummary,
    };
  })();
  summaryPromise.catch(() => {});

  // --- tiles ------------------------------------------------------------------------------------------------
  const cache = new TileCache(TILE_CACHE_ENTRIES);

  async function renderImage(z: number, x: number, y: number, rgb: number[]): Promise<Buffer | null> {
    const { stretch } = await stats();
    const data = await image.pyramid.tile(z, x, y, rgb);
    if (!data) return null;
    const out = new Uint8Array(TILE_SIZE * TILE_SIZE * 4);
    const scale = rgb.map((b) => 255 / (stretch[b]![1] - stretch[b]![0]));
    const offset = rgb.map((b) => stretch[b]![0]);
    for (let i = 0; i < TILE_SIZE * TILE_SIZE; i++) {
      let fill = false;
      let zeros = 0;
      for (let c = 0; c < 3; c++) {
        const v = data[c]![i]!;
        if (Number.isNaN(v) || v === imageNodata) fill = true;
        else if (v === 0) zeros++;
        out[i * 4 + c] = Math.max(0, Math.min(255, Math.round((v - offset[c]!) * scale[c]!)));
      }
      out[i * 4 + 3] = fill || zeros === 3 ? 0 : 255;
    }
    return png(out);
  }

  async function renderCam(z: number, x: number, y: number): Promise<Buffer | null> {
    if (!cam) return null;
    const { camRange } = await stats();
    const data = await cam.pyramid.tile(z, x, y, [0]);
    if (!data || !camRange) return null;
    const values = data[0]!;
    const [lo, hi] = camRange;
    const out = new Uint8Array(TILE_SIZE * TILE_SIZE * 4);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isNaN(v) || v === camNodata) continue;
      const k = Math.max(0, Math.min(255, Math.round(((v - lo) / (hi - lo)) * 255))) * 3;
      out[i * 4] = LUT[k]!;
      out[i * 4 + 1] = LUT[k + 1]!;
      out[i * 4 + 2] = LUT[k + 2]!;
      out[i * 4 + 3] = 255;
    }
    return png(out);
  }

  /** Hatch for nodata: diagonal stripes on the tile grid, so nodata never reads as a flat colour class. */
  function hatch(x: number, y: number, i: number): boolean {
    const px = x * TILE_SIZE + (i % TILE_SIZE);
    const py = y * TILE_SIZE + Math.floor(i / TILE_SIZE);
    return ((px + py) & 7) < 2;
  }

  async function renderMask(z: number, x: number, y: number): Promise<Buffer | null> {
    const data = await mask.pyramid.tile(z, x, y, [0]);
    if (!data) return null;
    const classes = decodeTile(data[0]!, maskCoding, mask.pyramid.tileExtent(z, x, y), maskNodata);
    const out = new Uint8Array(TILE_SIZE * TILE_SIZE * 4);
    const stripe = MASK_COLOURS.nodataStripe;
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i]!;
      if (c === 1) put(out, i, MASK_COLOURS.cloud);
      else if (c === 255) put(out, i, hatch(x, y, i) ? stripe : MASK_COLOURS.nodata);
    }
    return png(out);
  }

  async function renderErrors(z: number, x: number, y: number): Promise<Buffer | null> {
    if (!truth) return null;
    const [p, t] = await Promise.all([mask.pyramid.tile(z, x, y, [0]), truth.pyramid.tile(z, x, y, [0])]);
    if (!p || !t) return null;
    const extent = mask.pyramid.tileExtent(z, x, y);
    const pc = decodeTile(p[0]!, maskCoding, extent, maskNodata);
    const tc = decodeTile(t[0]!, 'wdcd', extent, null); // already decoded to 0/1/255
    const out = new Uint8Array(TILE_SIZE * TILE_SIZE * 4);
    for (let i = 0; i < pc.length; i++) {
      const a = pc[i]!;
      const b = tc[i]!;
      if (a > 1 || b > 1) continue;
      if (a === 1 && b === 0) put(out, i, ERROR_COLOURS.falsePositive);
      else if (a === 0 && b === 1) put(out, i, ERROR_COLOURS.miss);
      else if (a === 1 && b === 1) put(out, i, ERROR_COLOURS.truePositive);
    }
    return png(out);
  }

  // --- pixel values --------------------------------------------------------------------------------------
  async function pixel(col: number, row: number): Promise<PixelValues> {
    const win = { x: col, y: row, width: 1, height: 1 };
    const [img, m, c] = await Promise.all([
      image.source.readWindow(win),
      mask.source.readWindow(win, [0]),
      cam ? cam.source.readWindow(win, [0]) : null,
    ]);
    const classOf = (v: number, coding: CodingName, nodata: number | null): string => {
      if (Number.isNaN(v) || v === nodata) return 'nodata';
      const d = v >= 0 && v <= 255 && Number.isInteger(v) ? CODINGS[coding].table[v]! : -1;
      return d === 1 ? 'cloud' : d === 0 ? 'clear' : 'nodata';
    };
    const mv = m[0]![0]!;
    const ti = row * width + col;
    const gt = mask.source.georef?.geoTransform;
    const num = (v: number): number | null => (Number.isFinite(v) ? v : null);
    return {
      col,
      row,
      map: gt
        ? { x: gt[0] + (col + 0.5) * gt[1] + (row + 0.5) * gt[2], y: gt[3] + (col + 0.5) * gt[4] + (row + 0.5) * gt[5] }
        : null,
      image: img.map((band, b) => ({ name: bandNames[b], value: num(band[0]!) })),
      imageNodata: img.some((band) => Number.isNaN(band[0]!) || band[0] === imageNodata) || img.every((band) => band[0] === 0),
      cam: c && c[0]![0] !== camNodata ? num(c[0]![0]!) : null, // a nodata CAM pixel has no score to compare with T
      mask: { value: num(mv), class: classOf(mv, maskCoding, maskNodata) },
      truth: truth ? { value: num(truth.raw.values[ti]!), class: classOf(truth.decoded.mask[ti]!, 'wdcd', null) } : null,
    };
  }

  async function info(): Promise<ViewerInfo> {
    const { stretch, camRange } = await stats();
    const georef: GeoReference | null = mask.source.georef;
    return {
      title: basename(options.mask),
      width,
      height,
      tileSize: TILE_SIZE,
      maxZoom,
      georef: georef ? { geoTransform: georef.geoTransform, epsg: georef.epsg ?? null } : null,
      image: {
        paths: options.image.map((p) => basename(p)),
        sampleType: image.source.sampleType,
        bands: bandNames.map((name, b) => ({ name, lo: stretch[b]![0], hi: stretch[b]![1] })),
        rgb: defaultRgb,
      },
      cam: cam && camRange ? { path: basename(cam.path), lo: camRange[0], hi: camRange[1], colormap: 'inferno' } : null,
      mask: { path: basename(options.mask), coding: maskCoding, codingDescription: CODINGS[maskCoding].description },
      truth: truth ? { path: basename(truth.raw.path), coding: truth.decoded.coding } : null,
      threshold,
      colours: { mask: MASK_COLOURS, errors: ERROR_COLOURS },
    };
  }

  // --- decode everything once, before the address is given ------------------------------------------------
  // The overviews behind the stretch and the CAM range are one pass over every block of the image and the CAM
  // (the mask's and the truth's passes are done above). A truncated or corrupt file fails here, as an InputError
  // naming it, instead of as a page whose requests all answer 500. The page needs these statistics before it
  // shows anything (/api/info waits for them), so the wait only moves from the open page to the start.
  let assets: PageAssets;
  try {
    onProgress({ kind: 'stage', stage: 'view', message: cam ? 'reading the image and the CAM' : 'reading the image' });
    await stats();
    for (const message of warnings) onProgress({ kind: 'warning', message });
    assets = await loadPage();
  } catch (e) {
    await close();
    throw e;
  }

  // --- HTTP ----------------------------------------------------------------------------------------------
  const TILE_ROUTE = /^\/tiles\/(image|cam|mask|errors)\/(\d{1,2})\/(\d{1,7})\/(\d{1,7})\.png$/;
  const send = (res: ServerResponse, status: number, type: string, body: Buffer | string, head = false): void => {
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'",
      'Referrer-Policy': 'no-referrer',
    });
    res.end(head ? undefined : body);
  };
  const notFound = (res: ServerResponse, head: boolean) => send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
  const json = (res: ServerResponse, body: unknown, head: boolean) =>
    send(res, 200, 'application/json; charset=utf-8', JSON.stringify(body), head);

  let port = 0;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const head = req.method === 'HEAD';
    // Loopback only, and only under our own host name: refuses DNS-rebinding pages that reach 127.0.0.1.
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      send(res, 403, 'text/plain; charset=utf-8', 'forbidden host\n', head);
      return;
    }
    const raw = req.url ?? '';
    const q = raw.indexOf('?');
    // Routes are matched on the raw, undecoded path against a fixed list: nothing is ever joined to a file path.
    const path = q < 0 ? raw : raw.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    if (req.method !== 'GET' && !head) {
      const known = path === '/' || path.startsWith('/api/') || path.startsWith('/tiles/') || path.startsWith('/app.');
      send(res, known ? 405 : 404, 'text/plain; charset=utf-8', known ? 'method not allowed\n' : 'not found\n');
      return;
    }
    switch (path) {
      case '/':
      case '/index.html':
        return send(res, 200, 'text/html; charset=utf-8', assets['index.html'], head);
      case '/app.js':
        return send(res, 200, 'text/javascript; charset=utf-8', assets['app.js'], head);
      case '/app.css':
        return send(res, 200, 'text/css; charset=utf-8', assets['app.css'], head);
      case '/api/info':
        return json(res, await info(), head);
      case '/api/summary':
        return json(res, await summaryPromise, head);
      case '/api/pixel': {
        const col = Number(params.get('x'));
        const row = Number(params.get('y'));
        if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= width || row >= height) {
          return send(res, 400, 'text/plain; charset=utf-8', 'x and y must be pixel indices inside the image\n', head);
        }
        return json(res, await pixel(col, row), head);
      }
    }
    const m = TILE_ROUTE.exec(path);
    if (!m) return notFound(res, head);
    const [, layer, zs, xs, ys] = m;
    const z = Number(zs);
    const x = Number(xs);
    const y = Number(ys);
    let key = `${layer}/${z}/${x}/${y}`;
    let make: () => Promise<Buffer | null>;
    switch (layer) {
      case 'image': {
        const bands = (params.get('bands') ?? defaultRgb.join(',')).split(',').map(Number);
        if (bands.length !== 3 || bands.some((b) => !Number.isInteger(b) || b < 0 || b >= imageBands)) {
          return send(res, 400, 'text/plain; charset=utf-8', `bands must be three band indices in 0..${imageBands - 1}\n`, head);
        }
        key += `?${bands.join(',')}`;
        make = () => renderImage(z, x, y, bands);
        break;
      }
      case 'cam':
        make = () => renderCam(z, x, y);
        break;
      case 'mask':
        make = () => renderMask(z, x, y);
        break;
      default:
        make = () => renderErrors(z, x, y);
    }
    const tile = await cache.get(key, make);
    if (!tile) return notFound(res, head);
    send(res, 200, 'image/png', tile, head);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      onProgress({ kind: 'warning', message: `view: ${req.url}: ${(e as Error).message}` });
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `error: ${(e as Error).message}\n`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 2000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new InputError(`port ${options.port} is already in use`, '--port');
    if (code === 'EACCES') throw new InputError(`not allowed to listen on port ${options.port}`, '--port');
    throw e;
  }
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/`;
  onProgress({ kind: 'stage', stage: 'view', message: `serving ${url}` });
  return {
    url,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await close();
    },
  };
}
