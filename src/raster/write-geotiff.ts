/**
 * Streaming, tiled, single-band GeoTIFF / Cloud Optimized GeoTIFF writer.
 *
 * Written here rather than using geotiff.js's writer because that one needs the whole image in memory, writes
 * uncompressed strips only and drops most georeferencing tags. This one takes windows top to bottom, the full
 * width or one column stripe after another, holds only the tiles not yet complete (one row of them for
 * full-width rows), deflates tiles on the libuv thread pool, copies
 * the input's geo tags verbatim (so gdalinfo shows the same CRS and geotransform) and writes to a temporary
 * file in the target folder that is renamed into place only when complete.
 *
 * Plain layout: header, tiles, directory at the end. The header slot is 16 bytes so that the choice between
 * classic TIFF and BigTIFF can be made at the end from the real file size (4 GiB limit of classic offsets).
 * COG layout (what GDAL's validator checks): header, all directories, then tile data from the smallest
 * overview to full resolution. Directories come first but need every tile's offset, so each level is first
 * streamed to its own temporary part file and the parts are concatenated at the end.
 */
import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { deflate as deflateCb } from 'node:zlib';
import { InputError } from '../errors.js';
import { Downsampler, type Resampling, type Samples } from './downsample.js';
import { tagsForGeoref } from './georef.js';
import { RPC_TAG } from './rpc.js';
import { placeTemporary, settleTemporary, temporaryPath, type OutputGroup } from './temporary-files.js';
import { encodeHeader, encodeIfd, ifdByteSize, type IfdEntry } from './tiff-ifd.js';
import type { GeoReference, PixelWindow } from './types.js';

const deflate = promisify(deflateCb);

export interface GeoTiffWriterOptions {
  width: number;
  height: number;
  sampleType: 'uint8' | 'float32';
  georef?: GeoReference | null;
  /** RPC00B coefficients (raster/rpc.ts), written as TIFF tag 50844 where the input had them. */
  rpc?: readonly number[] | null;
  /** Written as the GDAL_NODATA tag; also pads partial edge tiles. NaN is written as "nan". */
  nodata?: number | null;
  /** Default 'deflate'. */
  compression?: 'deflate' | 'none';
  /** Tile edge in pixels, a multiple of 16. Default 512 (forced to 512 for COG). */
  tileSize?: number;
  /** Cloud Optimized GeoTIFF: 512 px deflate tiles plus internal overviews down to one tile. */
  cog?: boolean;
  /** Overview resampling for COG; default nearest for uint8 (masks keep their codes), average for float32. */
  overviewResampling?: Resampling;
  /** Replace an existing file. Default false: an existing file is an InputError. */
  overwrite?: boolean;
  /** The group whose outputs stand or fall together (raster/temporary-files.ts). */
  group?: OutputGroup;
  /** Force BigTIFF. By default it is used only when the file would pass 4 GiB. */
  bigTiff?: boolean;
}

export interface GeoTiffWriter {
  readonly path: string;
  /** Rows y .. y+rows-1, full width, row-major; strips must arrive in order with no gaps. */
  writeRows(y: number, rows: number, data: Uint8Array | Float32Array): Promise<void>;
  /**
   * A window, row-major. Windows come in column streams: each stream is a run of columns (the full width, or
   * one stripe), written top to bottom without gaps; streams do not overlap. With COG overviews a stream
   * starts at a column that is a multiple of 2^levels (any multiple of 512 is).
   */
  writeWindow(window: PixelWindow, data: Uint8Array | Float32Array): Promise<void>;
  /** Writes the directories and moves the file into place. */
  finish(): Promise<void>;
  /** Removes everything written so far. Safe to call more than once, and after a failed call. */
  abort(): Promise<void>;
}

const CLASSIC_LIMIT = 2 ** 32 - 1;
const HEADER_SLOT = 16;

/** Appends bytes to a file, tracking the position. */
class Sink {
  position: number;
  constructor(readonly handle: FileHandle, start: number) {
    this.position = start;
  }
  async write(buf: Uint8Array): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.handle.write(buf, done, buf.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += buf.length;
  }
}

/**
 * One resolution level: copies windows into their tiles and compresses and appends each tile as soon as all
 * its pixels have arrived. Tiles are written in the order they complete (the offsets table is by tile index),
 * so a column stripe's tiles go out as it passes; only tiles a window cuts wait in memory for the rest.
 */
class TileLevel {
  readonly across: number;
  readonly down: number;
  readonly offsets: number[];
  readonly byteCounts: number[];
  /** Tile index -> its samples so far and how many of its inside pixels were written. */
  private readonly open = new Map<number, { samples: Samples; filled: number }>();
  private tilesDone = 0;

  constructor(
    readonly width: number,
    readonly height: number,
    private readonly tileSize: number,
    private readonly sampleType: 'uint8' | 'float32',
    private readonly fill: number,
    private readonly compression: 'deflate' | 'none',
    readonly sink: Sink,
    /** Next (half-size) level, for COG overviews. */
    readonly next: Downsampler | null,
  ) {
    this.across = Math.ceil(width / tileSize);
    this.down = Math.ceil(height / tileSize);
    this.offsets = new Array(this.across * this.down).fill(0);
    this.byteCounts = new Array(this.across * this.down).fill(0);
  }

  private newSamples(n: number): Samples {
    return this.sampleType === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
  }

  /** Rows [y, y + h) of columns [x, x + w), row-major. */
  async push(x: number, y: number, w: number, h: number, data: Samples): Promise<void> {
    const ts = this.tileSize;
    const complete: { index: number; samples: Samples }[] = [];
    for (let ty = Math.floor(y / ts); ty * ts < y + h; ty++) {
      for (let tx = Math.floor(x / ts); tx * ts < x + w; tx++) {
        const index = ty * this.across + tx;
        const inside = (Math.min(ts, this.width - tx * ts)) * (Math.min(ts, this.height - ty * ts));
        let tile = this.open.get(index);
        if (!tile) {
          // Tiles are always full size in TIFF; the part outside the image holds the fill (nodata) value.
          tile = { samples: this.newSamples(ts * ts), filled: 0 };
          if (inside < ts * ts) tile.samples.fill(this.fill);
          this.open.set(index, tile);
        }
        const x0 = Math.max(x, tx * ts);
        const x1 = Math.min(x + w, (tx + 1) * ts);
        const y0 = Math.max(y, ty * ts);
        const y1 = Math.min(y + h, (ty + 1) * ts);
        for (let r = y0; r < y1; r++) tile.samples.set(data.subarray((r - y) * w + x0 - x, (r - y) * w + x1 - x), (r - ty * ts) * ts + x0 - tx * ts);
        tile.filled += (x1 - x0) * (y1 - y0);
        if (tile.filled > inside) throw new Error(`tile ${index} written twice`);
        if (tile.filled === inside) {
          complete.push({ index, samples: tile.samples });
          this.open.delete(index);
        }
      }
    }
    // TIFF byte order is declared little-endian ('II'); typed arrays are little-endian on every Node platform.
    const encoded = complete.map(({ samples }) => {
      const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
      return this.compression === 'deflate' ? deflate(bytes) : Promise.resolve(bytes);
    });
    for (let i = 0; i < complete.length; i++) {
      const bytes = await encoded[i];
      this.offsets[complete[i].index] = this.sink.position;
      this.byteCounts[complete[i].index] = bytes.length;
      await this.sink.write(bytes);
      this.tilesDone++;
    }
    if (this.next) await this.next.push(x, y, w, h, data);
  }

  /** Flushes the odd last row into the next level; call on each level in order, largest first. */
  async finish(): Promise<void> {
    if (this.next) await this.next.finish(this.height);
    if (this.tilesDone !== this.across * this.down) throw new Error(`${this.across * this.down - this.tilesDone} tiles were not completed`);
  }

  /** Whether the tiles lie in the file in index order (row by row), as a COG reader expects. */
  inIndexOrder(): boolean {
    for (let i = 1; i < this.offsets.length; i++) if (this.offsets[i] < this.offsets[i - 1]) return false;
    return true;
  }
}

function nodataString(nodata: number): string {
  return Number.isNaN(nodata) ? 'nan' : String(nodata);
}

function directoryEntries(
  level: TileLevel,
  o: Required<Pick<GeoTiffWriterOptions, 'sampleType' | 'compression' | 'tileSize'>> & GeoTiffWriterOptions,
  overview: boolean,
  offsets: number[],
  bigTiff: boolean,
): IfdEntry[] {
  const bits = o.sampleType === 'uint8' ? 8 : 32;
  const offsetType = bigTiff ? 'LONG8' : 'LONG';
  const entries: IfdEntry[] = [
    { tag: 254, type: 'LONG', values: [overview ? 1 : 0] }, // NewSubfileType: 1 = reduced-resolution image
    { tag: 256, type: 'LONG', values: [level.width] },
    { tag: 257, type: 'LONG', values: [level.height] },
    { tag: 258, type: 'SHORT', values: [bits] },
    { tag: 259, type: 'SHORT', values: [o.compression === 'deflate' ? 8 : 1] },
    { tag: 262, type: 'SHORT', values: [1] }, // BlackIsZero
    { tag: 277, type: 'SHORT', values: [1] },
    { tag: 284, type: 'SHORT', values: [1] },
    { tag: 322, type: 'LONG', values: [o.tileSize] },
    { tag: 323, type: 'LONG', values: [o.tileSize] },
    { tag: 324, type: offsetType, values: offsets },
    { tag: 325, type: offsetType, values: level.byteCounts },
    { tag: 339, type: 'SHORT', values: [o.sampleType === 'uint8' ? 1 : 3] },
  ];
  if (o.nodata !== undefined && o.nodata !== null) entries.push({ tag: 42113, type: 'ASCII', values: nodataString(o.nodata) });
  if (!overview && o.georef) {
    const t = tagsForGeoref(o.georef);
    if (t.modelPixelScale) entries.push({ tag: 33550, type: 'DOUBLE', values: t.modelPixelScale });
    if (t.modelTiepoint) entries.push({ tag: 33922, type: 'DOUBLE', values: t.modelTiepoint });
    if (t.modelTransformation) entries.push({ tag: 34264, type: 'DOUBLE', values: t.modelTransformation });
    if (t.geoKeyDirectory) entries.push({ tag: 34735, type: 'SHORT', values: t.geoKeyDirectory });
    if (t.geoDoubleParams) entries.push({ tag: 34736, type: 'DOUBLE', values: t.geoDoubleParams });
    if (t.geoAsciiParams !== undefined) entries.push({ tag: 34737, type: 'ASCII', values: t.geoAsciiParams });
  }
  if (!overview && o.rpc) entries.push({ tag: RPC_TAG, type: 'DOUBLE', values: [...o.rpc] });
  return entries;
}

async function createTemp(path: string, suffix: string): Promise<{ tmp: string; handle: FileHandle }> {
  const tmp = temporaryPath(path, suffix);
  try {
    return { tmp, handle: await open(tmp, 'wx+') };
  } catch (err) {
    settleTemporary(tmp);
    throw new InputError(`cannot create a file in folder ${dirname(path)} (${(err as NodeJS.ErrnoException).code})`, path);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Opens a writer; see GeoTiffWriter. Throws InputError when the target exists (without overwrite) or the folder is unwritable. */
export async function createGeoTiffWriter(path: string, options: GeoTiffWriterOptions): Promise<GeoTiffWriter> {
  const { width, height, sampleType } = options;
  const cog = options.cog ?? false;
  const o = {
    ...options,
    compression: cog ? 'deflate' as const : options.compression ?? 'deflate',
    tileSize: cog ? 512 : options.tileSize ?? 512,
  };
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`invalid output size ${width} x ${height} for ${path}`);
  }
  if (!(o.tileSize > 0 && o.tileSize % 16 === 0)) throw new RangeError(`tile size must be a positive multiple of 16, got ${o.tileSize}`);
  if (!options.overwrite && (await exists(path))) {
    throw new InputError('the output file already exists (use the overwrite option to replace it)', path);
  }
  const fill = options.nodata ?? 0;
  const resampling = options.overviewResampling ?? (sampleType === 'uint8' ? 'nearest' : 'average');

  const { tmp, handle } = await createTemp(path, '');
  const parts: { tmp: string; handle: FileHandle }[] = [];
  const levels: TileLevel[] = [];
  let closed = false;

  const cleanup = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const f of [{ tmp, handle }, ...parts]) {
      await f.handle.close().catch(() => {});
      await unlink(f.tmp).catch(() => {});
      settleTemporary(f.tmp);
    }
  };

  try {
    // Level sizes: full resolution, then halves until the image fits one tile (as GDAL's COG driver does).
    const sizes = [[width, height]];
    while (cog && Math.max(...sizes[sizes.length - 1]) > o.tileSize) {
      const [w, h] = sizes[sizes.length - 1];
      sizes.push([Math.ceil(w / 2), Math.ceil(h / 2)]);
    }
    for (let i = 0; i < sizes.length; i++) parts.push(cog ? await createTemp(path, `.L${i}`) : { tmp, handle });
    let next: Downsampler | null = null;
    for (let i = sizes.length - 1; i >= 0; i--) {
      const [w, h] = sizes[i];
      const sink = new Sink(parts[i].handle, cog ? 0 : HEADER_SLOT);
      const level: TileLevel = new TileLevel(w, h, o.tileSize, sampleType, fill, o.compression, sink, next);
      levels.unshift(level);
      next = i > 0 ? new Downsampler(sizes[i - 1][0], resampling, options.nodata ?? null, (x, y, w, rows, data) => level.push(x, y, w, rows, data)) : null;
    }
    if (!cog) parts.length = 0;
  } catch (err) {
    await cleanup();
    throw err;
  }

  /** Column streams: first column -> width and next row. */
  const streams = new Map<number, { width: number; nextRow: number }>();
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) throw new Error(`the writer for ${path} is already finished or aborted`);
    try {
      return await work();
    } catch (err) {
      await cleanup();
      throw err;
    }
  };

  const writePlain = async (): Promise<void> => {
    const level = levels[0];
    let at = level.sink.position;
    at += at & 1;
    let bigTiff = options.bigTiff ?? false;
    if (!bigTiff && at + ifdByteSize(directoryEntries(level, o, false, level.offsets, false), false) > CLASSIC_LIMIT) bigTiff = true;
    await level.sink.write(Buffer.alloc(at - level.sink.position));
    await level.sink.write(encodeIfd(directoryEntries(level, o, false, level.offsets, bigTiff), at, 0, bigTiff));
    const header = Buffer.alloc(HEADER_SLOT);
    encodeHeader(at, bigTiff).copy(header);
    await handle.write(header, 0, HEADER_SLOT, 0);
  };

  const writeCog = async (): Promise<void> => {
    const partSizes = levels.map((l) => l.sink.position);
    const layout = (bigTiff: boolean): { ifdAt: number[]; dataAt: number[]; end: number } => {
      const ifdAt: number[] = [];
      let at = bigTiff ? 16 : 8;
      levels.forEach((level, i) => {
        ifdAt.push(at);
        at += ifdByteSize(directoryEntries(level, o, i > 0, level.offsets, bigTiff), bigTiff);
      });
      const dataAt: number[] = new Array(levels.length);
      for (let i = levels.length - 1; i >= 0; i--) {
        dataAt[i] = at;
        at += partSizes[i];
      }
      return { ifdAt, dataAt, end: at };
    };
    let bigTiff = options.bigTiff ?? false;
    if (!bigTiff && layout(false).end > CLASSIC_LIMIT) bigTiff = true;
    const { ifdAt, dataAt } = layout(bigTiff);
    const sink = new Sink(handle, 0);
    await sink.write(encodeHeader(ifdAt[0], bigTiff));
    // Tiles go into the file in index order: column stripes complete them out of order in the parts.
    const placed = levels.map((level) => {
      let at = 0;
      return level.byteCounts.map((n) => (at += n) - n);
    });
    for (let i = 0; i < levels.length; i++) {
      const offsets = placed[i].map((off) => off + dataAt[i]);
      const nextIfd = i + 1 < levels.length ? ifdAt[i + 1] : 0;
      await sink.write(encodeIfd(directoryEntries(levels[i], o, i > 0, offsets, bigTiff), ifdAt[i], nextIfd, bigTiff));
    }
    // Copy the parts, smallest overview first: whole, in bounded chunks, or tile by tile when out of order.
    const chunk = Buffer.alloc(8 * 2 ** 20);
    for (let i = levels.length - 1; i >= 0; i--) {
      if (!levels[i].inIndexOrder()) {
        const { offsets, byteCounts } = levels[i];
        for (let t = 0; t < offsets.length; t++) {
          const tile = byteCounts[t] <= chunk.length ? chunk.subarray(0, byteCounts[t]) : Buffer.alloc(byteCounts[t]);
          const { bytesRead } = await parts[i].handle.read(tile, 0, tile.length, offsets[t]);
          if (bytesRead !== tile.length) throw new Error(`short read from ${parts[i].tmp}`);
          await sink.write(tile);
        }
        continue;
      }
      for (let pos = 0; pos < partSizes[i];) {
        const { bytesRead } = await parts[i].handle.read(chunk, 0, Math.min(chunk.length, partSizes[i] - pos), pos);
        if (bytesRead === 0) throw new Error(`short read from ${parts[i].tmp}`);
        await sink.write(chunk.subarray(0, bytesRead));
        pos += bytesRead;
      }
    }
  };

  const writeWindow = (win: PixelWindow, data: Uint8Array | Float32Array): Promise<void> => guarded(async () => {
    const expected = sampleType === 'uint8' ? Uint8Array : Float32Array;
    const { x, y, width: w, height: rows } = win;
    if (!(x >= 0 && w > 0 && x + w <= width && rows > 0 && y >= 0 && y + rows <= height)) {
      throw new RangeError(`window ${w} x ${rows} at (${x}, ${y}) is outside the ${width} x ${height} image ${path}`);
    }
    if (!(data instanceof expected) || data.length !== rows * w) {
      throw new TypeError(`expected a ${expected.name} of ${rows * w} samples for ${rows} rows of ${w}, got ${data.constructor.name}(${data.length})`);
    }
    let stream = streams.get(x);
    if (!stream) {
      for (const [sx, s] of streams) if (x < sx + s.width && sx < x + w) throw new Error(`columns ${x}..${x + w} overlap columns ${sx}..${sx + s.width} already written (${path})`);
      stream = { width: w, nextRow: 0 };
      streams.set(x, stream);
    }
    if (stream.width !== w) throw new Error(`columns from ${x} were written ${stream.width} wide, now ${w} (${path})`);
    if (y !== stream.nextRow) throw new Error(`rows must arrive in order: got row ${y}, expected ${stream.nextRow} (${path})`);
    await levels[0].push(x, y, w, rows, data);
    stream.nextRow += rows;
  });

  return {
    path,
    writeRows: (y, rows, data) => writeWindow({ x: 0, y, width, height: rows }, data),
    writeWindow,
    finish: () => guarded(async () => {
      let written = 0;
      for (const s of streams.values()) written += s.width * s.nextRow;
      if (written !== width * height) throw new Error(`only ${written} of ${width * height} pixels were written to ${path}`);
      for (const level of levels) await level.finish();
      if (cog) await writeCog();
      else await writePlain();
      await handle.sync();
      if (!options.overwrite && (await exists(path))) {
        throw new InputError('the output file already exists (use the overwrite option to replace it)', path);
      }
      await handle.close();
      await placeTemporary(tmp, path, options.group).catch((err: NodeJS.ErrnoException) => {
        throw new InputError(`cannot move the finished file into place (${err.code})`, path);
      });
      closed = true;
      for (const p of parts) {
        await p.handle.close();
        await unlink(p.tmp);
        settleTemporary(p.tmp);
      }
    }),
    abort: cleanup,
  };
}
