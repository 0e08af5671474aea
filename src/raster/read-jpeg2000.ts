/**
 * JPEG 2000 reading (Sentinel-2 band files, GDAL's JP2OpenJPEG output), by tile.
 *
 * No npm decoder reads a window of a JPEG 2000 image: OpenJPEG's wasm build (@cornerstonejs/codec-openjpeg)
 * decodes a whole codestream, and decoding a 10980 x 10980 Sentinel-2 band whole held 1.1 GB. But a tiled
 * codestream's tiles are coded independently, so each tile is cut out here into a codestream of its own: the
 * main header with the image area (SIZ) narrowed to that tile, in the same absolute coordinates so that the
 * wavelet, precinct and code-block grids are unchanged, then that tile's tile-parts. OpenJPEG decodes it to the
 * same samples GDAL reads (tested sample for sample, reversible and irreversible). Only the tiles a window
 * touches are decoded, so memory follows the window, not the image; they decode on worker threads
 * (jpeg2000-decoders.ts), all of a window's at once.
 *
 * Georeferencing: the GeoJP2 box (a degenerate GeoTIFF, whose tags are carried as read), else the GMLJP2 box's
 * rectified grid and EPSG code, else GDAL's sidecars (`.aux.xml`, world file).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { fromArrayBuffer } from 'geotiff';
import { InputError, oneLine } from '../errors.js';
import { georefFromTags } from './georef.js';
import { decodeTile } from './jpeg2000-decoders.js';
import { checkWindow, type OpenLimits } from './limits.js';
import { loadTags, sidecarGeoref, sidecarNodata } from './read-geotiff.js';
import type { GeoReference, PixelWindow, RasterSource, SampleType } from './types.js';

/** GeoJP2's UUID box: a GeoTIFF of one pixel that holds the image's geo tags. */
const GEOJP2_UUID = 'b14bf8bd083d4b43a5ae8cd7d5a6ce03';
const SOT = 0xff90;
const MAX_TILE_BYTES = 2 ** 28;
const SIZ = 0xff51;
/** Main-header markers that index or carry the whole codestream's tile-parts: dropped from a one-tile codestream. */
const WHOLE_STREAM_MARKERS = new Set([0xff55 /* TLM */, 0xff57 /* PLM */]);

interface Box {
  type: string;
  start: number;
  end: number;
}

interface TilePart {
  offset: number;
  length: number;
}

/** The SIZ fields a tile's codestream changes, and what the reader needs of the rest. */
interface Geometry {
  width: number;
  height: number;
  x0: number;
  y0: number;
  tileWidth: number;
  tileHeight: number;
  tileX0: number;
  tileY0: number;
  components: number;
  sampleType: SampleType;
}

async function readAt(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const bytes = Buffer.alloc(length);
  const { bytesRead } = await handle.read(bytes, 0, length, offset);
  return bytes.subarray(0, bytesRead);
}

/** The boxes between start and end (ISO base media layout: 32-bit length, type, 64-bit length when 1). */
async function boxesIn(handle: FileHandle, start: number, end: number, path: string): Promise<Box[]> {
  const boxes: Box[] = [];
  for (let at = start; at < end;) {
    const head = await readAt(handle, at, 16);
    if (head.length < 8) throw new InputError(`the JPEG 2000 file is cut short (a box header at byte ${at})`, path);
    let length = head.readUInt32BE(0);
    let header = 8;
    if (length === 1) {
      if (head.length < 16) throw new InputError(`the JPEG 2000 file is cut short (a box header at byte ${at})`, path);
      length = Number(head.readBigUInt64BE(8));
      header = 16;
    } else if (length === 0) length = end - at;
    if (length < header || at + length > end) throw new InputError(`a JPEG 2000 box at byte ${at} runs past the end of the file (truncated or corrupt)`, path);
    boxes.push({ type: head.toString('latin1', 4, 8), start: at + header, end: at + length });
    at += length;
  }
  return boxes;
}

const SAMPLE_TYPES: Record<string, SampleType> = { u8: 'uint8', s8: 'int8', u16: 'uint16', s16: 'int16' };

function parseSiz(siz: Buffer, path: string): Geometry {
  const u32 = (at: number) => siz.readUInt32BE(at);
  const components = siz.readUInt16BE(38);
  const depths = new Set<string>();
  for (let c = 0; c < components; c++) {
    const ssiz = siz[40 + 3 * c];
    const bits = (ssiz & 0x7f) + 1;
    if (siz[41 + 3 * c] !== 1 || siz[42 + 3 * c] !== 1) throw new InputError('has subsampled components, which wdcd does not read; convert it to GeoTIFF first: gdal_translate -of COG', path);
    depths.add(`${ssiz & 0x80 ? 's' : 'u'}${bits <= 8 ? 8 : bits <= 16 ? 16 : bits}`);
  }
  const type = depths.size === 1 ? SAMPLE_TYPES[[...depths][0]] : undefined;
  if (!type) throw new InputError(`holds samples of ${[...depths].join(', ')} bits; wdcd reads JPEG 2000 of up to 16 bits, the same in every band (convert it to GeoTIFF first: gdal_translate -of COG)`, path);
  return {
    width: u32(6) - u32(14), height: u32(10) - u32(18), x0: u32(14), y0: u32(18),
    tileWidth: u32(22), tileHeight: u32(26), tileX0: u32(30), tileY0: u32(34), components, sampleType: type,
  };
}

/** The main header's marker segments (SOC excluded) and where the first tile-part starts. */
function mainHeader(bytes: Buffer, path: string): { segments: Buffer[]; end: number } | null {
  const segments: Buffer[] = [];
  for (let at = 2; at + 4 <= bytes.length;) {
    const marker = bytes.readUInt16BE(at);
    if (marker === SOT) return { segments, end: at };
    if (marker >> 8 !== 0xff) throw new InputError(`the JPEG 2000 codestream's main header is corrupt (no marker at byte ${at})`, path);
    if (marker === 0xff60) throw new InputError('packs its packet headers in the main header (PPM), which wdcd does not read; convert it to GeoTIFF first: gdal_translate -of COG', path);
    const length = bytes.readUInt16BE(at + 2);
    if (at + 2 + length > bytes.length) return null;
    if (!WHOLE_STREAM_MARKERS.has(marker)) segments.push(bytes.subarray(at, at + 2 + length));
    at += 2 + length;
  }
  return null;
}

/** The GMLJP2 grid: origin at the centre of the first pixel, two offset vectors, an EPSG code. */
function gmlGeoref(xml: string): GeoReference | null {
  const grid = /<(?:\w+:)?RectifiedGrid\b[\s\S]*?<\/(?:\w+:)?RectifiedGrid>/.exec(xml)?.[0];
  if (!grid) return null;
  const numbers = (s: string | undefined) => (s ?? '').trim().split(/\s+/).map(Number);
  const origin = numbers(/<(?:\w+:)?pos\b[^>]*>([^<]*)</.exec(grid)?.[1] ?? /<(?:\w+:)?coordinates\b[^>]*>([^<]*)</.exec(grid)?.[1]?.replace(/,/g, ' '));
  const vectors = [...grid.matchAll(/<(?:\w+:)?offsetVector\b[^>]*>([^<]*)</g)].map((m) => numbers(m[1]));
  const srs = /srsName="[^"]*?(?:EPSG::?|EPSG\/0\/|epsg\.xml#)(\d+)"/i.exec(xml)?.[1];
  if (origin.length < 2 || vectors.length < 2 || ![...origin.slice(0, 2), ...vectors[0].slice(0, 2), ...vectors[1].slice(0, 2)].every(Number.isFinite)) return null;
  let [ox, oy] = origin;
  let [[ax, ay], [bx, by]] = vectors;
  const epsg = srs === undefined ? undefined : Number(srs);
  // EPSG's geographic CRSs order latitude first; GMLJP2 follows the CRS's axis order unless axisName says east first.
  const axes = [...grid.matchAll(/<(?:\w+:)?axisName>([^<]*)</g)].map((m) => m[1].trim().toUpperCase());
  const eastFirst = axes.length >= 2 && /^(EAST|LONG)/.test(axes[0]) && /^(NORTH|LAT)/.test(axes[1]);
  if (epsg !== undefined && epsg >= 4000 && epsg < 5000 && !eastFirst) {
    [ox, oy] = [oy, ox];
    [ax, ay, bx, by] = [ay, ax, by, bx];
  }
  // [x, y] = origin + column * a + row * b, at pixel centres; GDAL's geotransform names the first pixel's corner.
  const georef: GeoReference = { geoTransform: [ox - 0.5 * ax - 0.5 * bx, ax, bx, oy - 0.5 * ay - 0.5 * by, ay, by] };
  if (epsg !== undefined) georef.epsg = epsg;
  return georef;
}

export async function openJpeg2000(path: string, fileSize: number, limits: OpenLimits): Promise<RasterSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new InputError(`cannot read the file (${(err as NodeJS.ErrnoException).code})`, path);
  }
  try {
    const first = await readAt(handle, 0, 4);
    let stream = { start: 0, end: fileSize };
    let georef: GeoReference | null = null;
    if (first.readUInt32BE(0) !== 0xff4fff51) {
      // A JP2 file: signature, file type, header, then metadata boxes and the codestream box.
      const boxes = await boxesIn(handle, 0, fileSize, path);
      const codestream = boxes.find((b) => b.type === 'jp2c');
      if (!codestream) throw new InputError('is a JPEG 2000 file without a codestream (truncated or corrupt)', path);
      stream = codestream;
      const uuidOf = async (b: Box) => (await readAt(handle, b.start, 16)).toString('hex');
      for (const box of boxes.filter((b) => b.type === 'uuid' && b.end - b.start > 16)) {
        if ((await uuidOf(box)) !== GEOJP2_UUID) continue;
        const tiff = await readAt(handle, box.start + 16, box.end - box.start - 16);
        try {
          const image = await (await fromArrayBuffer(tiff.buffer.slice(tiff.byteOffset, tiff.byteOffset + tiff.length) as ArrayBuffer)).getImage(0);
          georef = georefFromTags(await loadTags(image));
        } catch {
          georef = null; // an unreadable GeoJP2 box: the GML box or a sidecar may still place it
        }
      }
      if (!georef) {
        for (const asoc of boxes.filter((b) => b.type === 'asoc' || b.type === 'xml ')) {
          const xml = (await readAt(handle, asoc.start, Math.min(asoc.end - asoc.start, 2 ** 20))).toString('utf8');
          georef = gmlGeoref(xml);
          if (georef) break;
        }
      }
    }
    // The main header: read in growing pieces until the first tile-part.
    let header: { segments: Buffer[]; end: number } | null = null;
    for (let size = 2 ** 14; !header; size *= 4) {
      const bytes = await readAt(handle, stream.start, Math.min(size, stream.end - stream.start));
      if (bytes.readUInt16BE(0) !== 0xff4f) throw new InputError('is not a JPEG 2000 codestream (no SOC marker)', path);
      header = mainHeader(bytes, path);
      if (!header && bytes.length === stream.end - stream.start) throw new InputError('the JPEG 2000 codestream ends inside its main header (truncated)', path);
    }
    const siz = header.segments.find((s) => s.readUInt16BE(0) === SIZ);
    if (!siz) throw new InputError('the JPEG 2000 codestream has no SIZ marker (corrupt)', path);
    const geometry = parseSiz(siz, path);
    const { width, height, components } = geometry;
    if (!(width > 0 && height > 0)) throw new InputError(`the JPEG 2000 header says the image is ${width} x ${height} pixels`, path);
    if (width * height > limits.maxPixels) throw new InputError(`the JPEG 2000 header claims ${width} x ${height} pixels, more than the limit of ${limits.maxPixels.toExponential(0)} pixels`, path);
    // The wasm decoder's build stops at any other count ("unsupported J2K component count"; tried on GDAL's
    // four-band files, reversible and irreversible).
    if (components !== 1 && components !== 3) {
      throw new InputError(`holds ${components} bands in one codestream; wdcd reads JPEG 2000 of one band (Sentinel-2) or three (RGB): convert it to GeoTIFF first: gdal_translate -of COG ${path} ${path.replace(/\.(jp2|j2k|jpx)$/i, '')}.tif`, path);
    }
    // OpenJPEG holds a tile as 32-bit integers per band while decoding it, and its wasm memory never shrinks: an
    // untiled 10980 px band would hold 1.1 GB, so tiles are bounded at 8192 x 8192 samples.
    const tileWidth = Math.min(geometry.tileWidth, width);
    const tileHeight = Math.min(geometry.tileHeight, height);
    if (tileWidth * tileHeight * components * 4 > Math.min(limits.maxBlockBytes, MAX_TILE_BYTES)) {
      throw new InputError(`is one JPEG 2000 tile of ${tileWidth} x ${tileHeight} pixels, too large to decode at once; convert it to a tiled GeoTIFF first: gdal_translate -of COG ${path} ${path.replace(/\.(jp2|j2k|jpx)$/i, '')}.tif`, path);
    }
    // The tile-parts, from their SOT headers (each names its tile and length).
    const tiles = new Map<number, TilePart[]>();
    const tileCount = Math.ceil((geometry.x0 + width - geometry.tileX0) / geometry.tileWidth) * Math.ceil((geometry.y0 + height - geometry.tileY0) / geometry.tileHeight);
    for (let at = stream.start + header.end; at + 2 <= stream.end;) {
      const sot = await readAt(handle, at, 12);
      const marker = sot.length >= 2 ? sot.readUInt16BE(0) : 0;
      if (marker === 0xffd9) break; // EOC
      if (marker !== SOT || sot.length < 12) throw new InputError(`the JPEG 2000 codestream is corrupt or truncated (no tile-part at byte ${at})`, path);
      const tile = sot.readUInt16BE(4);
      let length = sot.readUInt32BE(6);
      if (length === 0) length = stream.end - at; // the last tile-part may run to the end
      if (tile >= tileCount || length < 14 || at + length > stream.end) throw new InputError(`the JPEG 2000 codestream is corrupt or truncated (tile-part of tile ${tile} at byte ${at})`, path);
      tiles.set(tile, [...(tiles.get(tile) ?? []), { offset: at, length }]);
      at += length;
    }
    if (tiles.size !== tileCount) throw new InputError(`the JPEG 2000 codestream holds ${tiles.size} of its ${tileCount} tiles (truncated)`, path);
    const warnings: string[] = [];
    const nodata = await sidecarNodata(path);
    if (!georef) {
      const sidecar = await sidecarGeoref(path);
      georef = sidecar.georef;
      if (sidecar.warning) warnings.push(sidecar.warning);
    }
    return new Jpeg2000Source(path, handle, geometry, header.segments, tiles, georef, nodata, warnings);
  } catch (err) {
    await handle.close();
    if (err instanceof InputError) throw err;
    throw new InputError(`not a readable JPEG 2000 file: ${oneLine((err as Error).message)}`, path);
  }
}

type Samples = Uint8Array | Int8Array | Uint16Array | Int16Array;
const VIEWS = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array } as const;

/** Decoded samples of image columns [x0, x1) and rows [y0, y1), bands interleaved: a tile, or the part kept of one. */
interface TileSamples {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  samples: Samples;
}

class Jpeg2000Source implements RasterSource {
  readonly paths: string[];
  readonly width: number;
  readonly height: number;
  readonly bandCount: number;
  readonly sampleType: SampleType;
  readonly alphaBand = null;
  readonly blockRows: number;
  private readonly tilesAcross: number;
  /**
   * Decoded tiles (bands interleaved, as OpenJPEG gives them), least recently used first, with the decodes under
   * way: detection reads strips of 256 rows, some at once, so a 1024-row tile serves several reads. Twice the
   * tiles of the widest window are kept, and at least 12: then the tiles the input check samples first (9 small
   * windows spread over the scene) serve the first strips too (a 16 MP scene of 1024 px tiles, decoded on one
   * thread: 19.6 s instead of 31 s, 573 MB).
   */
  private readonly cache = new Map<number, Promise<TileSamples>>();
  private cacheLimit = 12;
  /**
   * The parts of tiles that a later column range of a sweep reads (`sweep`), kept out of the cache's reach until
   * that range has read past them. Detection's stripes overlap by a few dozen columns and end on multiples of
   * 2048 px, which are tile edges: the tiles on both sides of each stripe edge were decoded twice (a 10980 px
   * four-band scene of 1024 px tiles: 960 tile decodes for its 484 tiles).
   */
  private readonly carried = new Map<number, { part: TileSamples; until: number; bytes: number }>();
  private carriedBytes = 0;
  /** At most one and a half tile columns of the image's height. */
  private readonly carryLimit: number;
  private plan: [number, number][] = [];
  /** The plan's range being read, or -1, and the row its reads have reached. */
  private range = -1;
  private reached = 0;
  constructor(
    path: string,
    private readonly handle: FileHandle,
    private readonly geometry: Geometry,
    private readonly mainSegments: Buffer[],
    private readonly tileParts: Map<number, TilePart[]>,
    readonly georef: GeoReference | null,
    readonly nodata: number | null,
    readonly warnings: string[],
  ) {
    this.paths = [path];
    this.width = geometry.width;
    this.height = geometry.height;
    this.bandCount = geometry.components;
    this.sampleType = geometry.sampleType;
    this.tilesAcross = Math.ceil((geometry.x0 + geometry.width - geometry.tileX0) / geometry.tileWidth);
    // Not the tile height: strips as tall as 1024-row tiles held 100 MB more at 16 MP for the same speed, and the
    // cache already decodes each tile once per pass.
    this.blockRows = 1;
    this.carryLimit = 1.5 * geometry.tileWidth * geometry.height * geometry.components * VIEWS[geometry.sampleType as keyof typeof VIEWS].BYTES_PER_ELEMENT;
  }

  sweep(columns: [number, number][]): void {
    this.plan = columns.map(([from, to]) => [from, to]);
    [this.range, this.reached] = [-1, 0];
    this.carried.clear();
    this.carriedBytes = 0;
  }

  /** Keeps the part of an evicted tile that a later range of the sweep reads, within the limit. */
  private carry(index: number, tile: TileSamples): void {
    if (this.range < 0 || this.carried.has(index)) return;
    let [x0, x1, until] = [Infinity, -Infinity, -1];
    // The range being read, where it has yet to reach the tile's last row, and the next: tiles further ahead
    // (those the input check sampled) would fill the limit for long.
    for (let j = tile.y1 > this.reached ? this.range : this.range + 1; j <= this.range + 1 && j < this.plan.length; j++) {
      const [from, to] = this.plan[j];
      if (to <= tile.x0 || from >= tile.x1) continue;
      [x0, x1, until] = [Math.min(x0, Math.max(from, tile.x0)), Math.max(x1, Math.min(to, tile.x1)), j];
    }
    if (until < 0) return;
    const spp = this.bandCount;
    const [width, rows] = [x1 - x0, tile.y1 - tile.y0];
    const bytes = width * rows * spp * tile.samples.BYTES_PER_ELEMENT;
    if (this.carriedBytes + bytes > this.carryLimit) return;
    let samples = tile.samples;
    if (width < tile.x1 - tile.x0) {
      samples = new VIEWS[this.sampleType as keyof typeof VIEWS](width * rows * spp);
      const stride = (tile.x1 - tile.x0) * spp;
      for (let y = 0; y < rows; y++) samples.set(tile.samples.subarray(y * stride + (x0 - tile.x0) * spp, y * stride + (x1 - tile.x0) * spp), y * width * spp);
    }
    this.carried.set(index, { part: { x0, x1, y0: tile.y0, y1: tile.y1, samples }, until, bytes });
    this.carriedBytes += bytes;
  }

  private dropCarried(index: number): void {
    const kept = this.carried.get(index);
    if (!kept) return;
    this.carried.delete(index);
    this.carriedBytes -= kept.bytes;
  }

  /** Tile `index`'s area in image pixels (0-based, clipped to the image). */
  private area(index: number): { x0: number; y0: number; x1: number; y1: number } {
    const g = this.geometry;
    const tx = index % this.tilesAcross;
    const ty = Math.floor(index / this.tilesAcross);
    return {
      x0: Math.max(g.tileX0 + tx * g.tileWidth, g.x0) - g.x0,
      y0: Math.max(g.tileY0 + ty * g.tileHeight, g.y0) - g.y0,
      x1: Math.min(g.tileX0 + (tx + 1) * g.tileWidth, g.x0 + g.width) - g.x0,
      y1: Math.min(g.tileY0 + (ty + 1) * g.tileHeight, g.y0 + g.height) - g.y0,
    };
  }

  /** The codestream of tile `index` alone: the main header with SIZ narrowed to the tile, its tile-parts as tile 0. */
  private async tileStream(index: number): Promise<Buffer> {
    const { x0, y0, x1, y1 } = this.area(index);
    const g = this.geometry;
    const parts: Buffer[] = [Buffer.from([0xff, 0x4f])];
    for (const segment of this.mainSegments) {
      if (segment.readUInt16BE(0) !== SIZ) {
        parts.push(segment);
        continue;
      }
      const siz = Buffer.from(segment);
      siz.writeUInt32BE(g.x0 + x1, 6);
      siz.writeUInt32BE(g.y0 + y1, 10);
      siz.writeUInt32BE(g.x0 + x0, 14);
      siz.writeUInt32BE(g.y0 + y0, 18);
      siz.writeUInt32BE(x1 - x0, 22);
      siz.writeUInt32BE(y1 - y0, 26);
      siz.writeUInt32BE(g.x0 + x0, 30);
      siz.writeUInt32BE(g.y0 + y0, 34);
      parts.push(siz);
    }
    for (const { offset, length } of this.tileParts.get(index) ?? []) {
      const part = await readAt(this.handle, offset, length);
      if (part.length < length) throw new InputError(`the JPEG 2000 codestream is cut short (tile ${index})`, this.paths[0]);
      part.writeUInt16BE(0, 4); // Isot: the only tile now
      parts.push(part);
    }
    parts.push(Buffer.from([0xff, 0xd9]));
    return Buffer.concat(parts);
  }

  /** Tile `index`, or the part of it kept for this range of the sweep where that holds columns [x0, x1). */
  private tile(index: number, x0: number, x1: number): Promise<TileSamples> {
    const kept = this.carried.get(index)?.part;
    if (kept && kept.x0 <= x0 && x1 <= kept.x1) return Promise.resolve(kept);
    let tile = this.cache.get(index);
    if (tile) this.cache.delete(index); // most recently used last
    else tile = this.decodeTile(index);
    this.cache.set(index, tile);
    for (const [key, evicted] of this.cache) {
      if (this.cache.size <= this.cacheLimit) break;
      this.cache.delete(key);
      evicted.then((t) => this.carry(key, t), () => {});
    }
    return tile;
  }

  private async decodeTile(index: number): Promise<TileSamples> {
    const stream = await this.tileStream(index);
    const area = this.area(index);
    const { x0, y0, x1, y1 } = area;
    try {
      const samples = await decodeTile({ stream, width: x1 - x0, height: y1 - y0, components: this.bandCount });
      return { ...area, samples: new VIEWS[this.sampleType as keyof typeof VIEWS](samples) };
    } catch (err) {
      this.cache.delete(index);
      throw new InputError(`cannot decode JPEG 2000 tile ${index} (corrupt data): ${oneLine((err as Error).message)}`, this.paths[0]);
    }
  }

  async readWindow(window: PixelWindow, bands?: number[], into?: Float32Array[]): Promise<Float32Array[]> {
    const list = checkWindow(this, window, bands);
    const n = window.width * window.height;
    const out = list.map((_, i) => (into?.[i] && into[i].length >= n ? into[i].subarray(0, n) : new Float32Array(n)));
    const g = this.geometry;
    const wx1 = window.x + window.width;
    const wy1 = window.y + window.height;
    const tileX = (x: number) => Math.floor((x + g.x0 - g.tileX0) / g.tileWidth);
    const tileY = (y: number) => Math.floor((y + g.y0 - g.tileY0) / g.tileHeight);
    const [tx0, tx1, ty0, ty1] = [tileX(window.x), tileX(wx1 - 1), tileY(window.y), tileY(wy1 - 1)];
    this.cacheLimit = Math.max(this.cacheLimit, 2 * (tx1 - tx0 + 1) * (ty1 - ty0 + 1));
    const range = this.plan.findIndex(([from, to]) => from === window.x && to === wx1);
    if (range >= 0 && range !== this.range) {
      [this.range, this.reached] = [range, 0];
      for (const [index, { until }] of this.carried) if (until < range) this.dropCarried(index);
    }
    if (range >= 0) this.reached = Math.max(this.reached, wy1);
    // Every tile of the window is asked for before any is awaited, so that they decode on several threads at once.
    const indices: number[] = [];
    for (let ty = ty0; ty <= ty1; ty++) for (let tx = tx0; tx <= tx1; tx++) indices.push(ty * this.tilesAcross + tx);
    const columns = (index: number): [number, number] => {
      const { x0, x1 } = this.area(index);
      return [Math.max(window.x, x0), Math.min(wx1, x1)];
    };
    const tiles = await Promise.all(indices.map((index) => this.tile(index, ...columns(index))));
    const spp = this.bandCount;
    indices.forEach((index, t) => {
      const { x0, y0, x1, samples } = tiles[t];
      const [cx0, cx1] = columns(index);
      const count = cx1 - cx0;
      for (let y = Math.max(window.y, y0); y < Math.min(wy1, tiles[t].y1); y++) {
        const src = (y - y0) * (x1 - x0) + (cx0 - x0);
        const dst = (y - window.y) * window.width + (cx0 - window.x);
        list.forEach((band, i) => {
          if (spp === 1) out[i].set(samples.subarray(src, src + count), dst);
          else for (let k = 0; k < count; k++) out[i][dst + k] = samples[(src + k) * spp + band];
        });
      }
      // A kept part is done with once the last range that reads it has read its bottom row.
      const kept = this.carried.get(index);
      if (kept && this.range >= kept.until && wy1 >= kept.part.y1) this.dropCarried(index);
    });
    return out;
  }

  async close(): Promise<void> {
    this.cache.clear();
    this.carried.clear();
    await this.handle.close();
  }
}
