/**
 * Opening rasters: one multi-band file, or several files stacked in band order (e.g. one file per band, as
 * Landsat and Sentinel-2 are delivered). The format is recognised from the file's first bytes, not its name.
 */
import { open, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { gridDifference } from './georef.js';
import { DEFAULT_LIMITS, checkWindow, type OpenLimits } from './limits.js';
import { openGeoTiff } from './read-geotiff.js';
import { openImage } from './read-image.js';
import { openJpeg2000 } from './read-jpeg2000.js';
import { ARCHIVE_EXTENSION } from './product-archive.js';
import type { GeoReference, PixelWindow, RasterSource, SampleType } from './types.js';

export interface OpenRasterOptions extends Partial<OpenLimits> {}

type Format = 'tiff' | 'png' | 'jpeg' | 'jpeg2000';

async function sniff(path: string): Promise<{ format: Format; size: number }> {
  let size: number;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new InputError('is a folder, not a raster file (a product folder is read when it is the only input of a scene)', path);
    size = info.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file not found' : `cannot read the file (${code})`, path);
  }
  const head = Buffer.alloc(8);
  const handle = await open(path, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read the file (${err.code})`, path);
  });
  try {
    await handle.read(head, 0, 8, 0);
  } finally {
    await handle.close();
  }
  const magic = head.toString('latin1', 0, 4);
  if (magic === 'II*\0' || magic === 'MM\0*' || magic === 'II+\0' || magic === 'MM\0+') return { format: 'tiff', size };
  if (head.readUInt32BE(0) === 0x89504e47) return { format: 'png', size };
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return { format: 'jpeg', size };
  if (head.toString('latin1', 4, 8) === 'jP  ' || head.readUInt32BE(0) === 0xff4fff51) return { format: 'jpeg2000', size };
  // A Sentinel-2 product comes as a zipped SAFE folder; wdcd opens tar archives only (USGS, CRESDA deliver those).
  if (head.readUInt32BE(0) === 0x504b0304) {
    throw new InputError('is a ZIP archive, which wdcd does not open: unzip it and give the product folder or its band files', path);
  }
  if (ARCHIVE_EXTENSION.test(path)) throw new InputError('is a product archive, not a raster file (a product archive is read when it is the only input of a scene)', path);
  throw new InputError(
    size === 0 ? 'the file is empty' : 'not a raster file this tool reads (expected GeoTIFF/TIFF, JPEG 2000, PNG or JPEG)',
    path,
  );
}

async function openOne(path: string, limits: OpenLimits): Promise<RasterSource> {
  const { format, size } = await sniff(path);
  if (format === 'tiff') return openGeoTiff(path, size, limits);
  return format === 'jpeg2000' ? openJpeg2000(path, size, limits) : openImage(path, format, limits);
}

/**
 * Opens one raster file, or several stacked in the order given (all bands of the first file, then of the
 * second, ...). Stacked files must share size and georeferencing. Throws InputError for anything wrong with
 * the files; nothing but headers and block indexes is read here.
 */
export async function openRaster(paths: string[], options: OpenRasterOptions = {}): Promise<RasterSource> {
  if (paths.length === 0) throw new InputError('no input file given');
  const limits: OpenLimits = { ...DEFAULT_LIMITS, ...options };
  if (paths.length > 1) await checkDistinct(paths);
  const sources: RasterSource[] = [];
  try {
    for (const path of paths) {
      const source = await openOne(path, limits);
      sources.push(source);
      const first = sources[0];
      if (source !== first) {
        if (source.width !== first.width || source.height !== first.height) {
          throw new InputError(
            `band file is ${source.width} x ${source.height} pixels but ${first.paths[0]} is ${first.width} x ${first.height}`,
            path,
          );
        }
        const difference = gridDifference(first.georef, source.georef, { tolerance: 1e-6, sameCrsKeys: true });
        if (difference) throw new InputError(`band file does not match ${first.paths[0]}: ${difference}`, path);
      }
    }
  } catch (err) {
    await Promise.all(sources.map((s) => s.close()));
    throw err;
  }
  return sources.length === 1 ? sources[0] : new StackedSource(sources);
}

/**
 * One file given twice in a stack (B4 as red and as NIR) is a slip that would pass every other check: refused,
 * naming it. Files are compared by their real paths, so a link or another spelling of the path is caught too.
 */
async function checkDistinct(paths: string[]): Promise<void> {
  const seen = new Map<string, number>();
  for (const [i, path] of paths.entries()) {
    const key = await realpath(path).catch(() => resolve(path));
    const first = seen.get(key);
    if (first !== undefined) {
      const same = paths[first] === path ? '' : ` (as ${paths[first]})`;
      throw new InputError(`is given twice${same}, as input files ${first + 1} and ${i + 1}; give each band file once`, path);
    }
    seen.set(key, i);
  }
}

/** Several sources read as one, band after band. */
class StackedSource implements RasterSource {
  readonly paths: string[];
  readonly width: number;
  readonly height: number;
  readonly bandCount: number;
  readonly sampleType: SampleType;
  readonly georef: GeoReference | null;
  readonly rpc: readonly number[] | null;
  readonly nodata: number | null;
  readonly alphaBand: number | null;
  readonly warnings: string[];
  readonly blockRows?: number;
  /** Band b of the stack is band bandMap[b].band of sources[bandMap[b].source]. */
  private readonly bandMap: { source: number; band: number }[];
  /** When the files declare different nodata values, each file's own value is turned into NaN on read. */
  private readonly nodataToNaN: boolean;

  constructor(private readonly sources: RasterSource[]) {
    const first = sources[0];
    this.paths = sources.flatMap((s) => s.paths);
    this.width = first.width;
    this.height = first.height;
    this.georef = first.georef;
    this.rpc = first.rpc ?? null;
    this.bandMap = sources.flatMap((s, source) => Array.from({ length: s.bandCount }, (_, band) => ({ source, band })));
    this.bandCount = this.bandMap.length;
    const alpha = this.bandMap.findIndex(({ source, band }) => sources[source].alphaBand === band);
    this.alphaBand = alpha < 0 ? null : alpha;
    this.warnings = [...(first.warnings ?? [])]; // the first file's georeferencing is the one carried
    const types = new Set(sources.map((s) => s.sampleType));
    // Values are delivered as float32 whatever the files hold, so mixed types are reported as that.
    this.sampleType = types.size === 1 ? first.sampleType : 'float32';
    const nodatas = new Set(sources.map((s) => s.nodata));
    this.nodataToNaN = nodatas.size > 1;
    this.nodata = this.nodataToNaN ? null : first.nodata;
    const blockRows = sources.map((s) => s.blockRows ?? 1);
    this.blockRows = blockRows.reduce((a, b) => (a * b) / gcd(a, b)); // a multiple of every file's
  }

  async readWindow(window: PixelWindow, bands?: number[], into?: Float32Array[]): Promise<Float32Array[]> {
    const list = checkWindow(this, window, bands);
    return Promise.all(list.map(async (b, i) => {
      const { source, band } = this.bandMap[b];
      const [data] = await this.sources[source].readWindow(window, [band], into?.[i] ? [into[i]] : undefined);
      const declared = this.sources[source].nodata;
      const nodata = declared === null ? null : Math.fround(declared);
      if (this.nodataToNaN && nodata !== null) {
        for (let i = 0; i < data.length; i++) if (data[i] === nodata) data[i] = NaN;
      }
      return data;
    }));
  }

  sweep(columns: [number, number][]): void {
    for (const source of this.sources) source.sweep?.(columns);
  }

  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close()));
  }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
