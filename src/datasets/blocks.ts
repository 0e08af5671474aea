/**
 * Labelled blocks: what every training source produces.
 *
 * Memory model: a source lists its blocks as lazy `BlockRef`s (file(s) + pixel window + label; no pixels held).
 * `ref.load()` reads one block; `loadBlocks(refs)` reads many, opening each file once. Training sets of a few
 * thousand 250 px 4-band blocks are ~1 GB as float32, so callers that cannot hold them all should load per batch.
 *
 * Values: the selected bands (0-based `bands`, default all) of the file, as `raw * scale[b] + offset[b]`, band-
 * sequential. Nodata pixels (NaN, or the file's declared nodata value, in any selected band) are set to `nodataFill`
 * (default 0) in every selected band and counted out of `validFraction`. The model's own normalisation is not
 * applied here.
 */
import { InputError } from '../errors.js';
import { openRaster } from '../raster/open.js';
import { dataBands, type PixelWindow, type RasterSource } from '../raster/types.js';

export interface LabelledBlock {
  id: string;
  /** 0 clear, 1 cloudy (contains cloud). */
  label: 0 | 1;
  /** Band-sequential values, bandCount * size * size. */
  bands: Float32Array;
  size: number;
  bandCount: number;
  /** Fraction of pixels with valid data in every selected band. */
  validFraction?: number;
}

/** How raw file values become block values. */
export interface BandOptions {
  /** 0-based bands to take, in this order; default all bands of the file. */
  bands?: number[];
  /** Multiplier per output band (or one for all); default 1. */
  scale?: number | number[];
  /** Added after scaling, per output band (or one for all); default 0. */
  offset?: number | number[];
  /** Value written (after scaling) where a pixel is nodata; default 0. */
  nodataFill?: number;
  /**
   * Extra raw value treated as nodata besides NaN and the file's declared nodata (e.g. 0 for 38-Cloud DN files).
   * Checked on the raw value before scaling.
   */
  nodataValue?: number;
}

/** A block not yet read. */
export interface BlockRef {
  id: string;
  label: 0 | 1;
  /** The raster file(s) it comes from (several single-band files are stacked in order). */
  paths: string[];
  window: PixelWindow;
  size: number;
  /** Bands after selection. */
  bandCount: number;
  /** Known before loading for scene blocks (from the mask and the image); computed by load() otherwise. */
  validFraction?: number;
  /** Band options applied on load. */
  bandOptions: BandOptions;
  load(): Promise<LabelledBlock>;
}

/** What a loader returns. */
export interface BlockSource {
  blocks: BlockRef[];
  /** Common block size (px) of all blocks. */
  size: number;
  /** Bands per block after selection. */
  bandCount: number;
  /** Things skipped or worth telling the user (files without labels, dropped blocks ...). */
  warnings: string[];
}

function perBand(value: number | number[] | undefined, n: number, fallback: number, what: string): number[] {
  if (value === undefined) return new Array<number>(n).fill(fallback);
  if (typeof value === 'number') return new Array<number>(n).fill(value);
  if (value.length !== n) throw new InputError(`${what} has ${value.length} values for ${n} bands`, `--${what}`);
  return value;
}

/**
 * Checks a band selection against a file's bands and returns the bands to read: by default every data band (an
 * alpha band marks transparency: it is no band to learn from).
 */
export function resolveBands(options: BandOptions, source: Pick<RasterSource, 'bandCount' | 'alphaBand'>, path: string): number[] {
  const { bandCount } = source;
  const bands = options.bands ?? dataBands(source);
  for (const b of bands) {
    if (!Number.isInteger(b) || b < 0 || b >= bandCount) {
      throw new InputError(`band ${b + 1} does not exist: the file has ${bandCount} band${bandCount > 1 ? `s (1-${bandCount})` : ''}`, path);
    }
    if (b === source.alphaBand) throw new InputError(`band ${b + 1} is the file's alpha (transparency) band, not data; choose other bands with --bands`, path);
  }
  return bands;
}

/**
 * Reads a window of an open source and applies the band options. Returns the values and the valid fraction.
 */
export async function readBlockValues(
  source: RasterSource,
  window: PixelWindow,
  options: BandOptions,
): Promise<{ bands: Float32Array; bandCount: number; validFraction: number }> {
  const where = source.paths.join(', ');
  const bands = resolveBands(options, source, where);
  if (window.x < 0 || window.y < 0 || window.x + window.width > source.width || window.y + window.height > source.height) {
    throw new InputError(
      `block window ${window.width} x ${window.height} at (${window.x}, ${window.y}) lies outside the ` +
        `${source.width} x ${source.height} image`,
      where,
    );
  }
  const scale = perBand(options.scale, bands.length, 1, 'scale');
  const offset = perBand(options.offset, bands.length, 0, 'offset');
  const fill = options.nodataFill ?? 0;
  const declared = source.nodata === null ? null : Math.fround(source.nodata);
  const extra = options.nodataValue === undefined ? undefined : Math.fround(options.nodataValue);
  const planes = await source.readWindow(window, bands);
  const n = window.width * window.height;
  const invalid = new Uint8Array(n);
  for (const plane of planes) {
    for (let i = 0; i < n; i++) {
      const v = plane[i]!;
      if (Number.isNaN(v) || v === declared || v === extra) invalid[i] = 1;
    }
  }
  let invalidCount = 0;
  for (let i = 0; i < n; i++) invalidCount += invalid[i]!;
  const out = new Float32Array(bands.length * n);
  for (let b = 0; b < bands.length; b++) {
    const plane = planes[b]!;
    const s = scale[b]!;
    const o = offset[b]!;
    const base = b * n;
    for (let i = 0; i < n; i++) out[base + i] = invalid[i] ? fill : plane[i]! * s + o;
  }
  return { bands: out, bandCount: bands.length, validFraction: n === 0 ? 0 : 1 - invalidCount / n };
}

async function withSource<T>(paths: string[], fn: (s: RasterSource) => Promise<T>): Promise<T> {
  const source = await openRaster(paths);
  try {
    return await fn(source);
  } finally {
    await source.close();
  }
}

async function loadFromSource(source: RasterSource, ref: Omit<BlockRef, 'load'>): Promise<LabelledBlock> {
  const { window } = ref;
  if (window.width !== ref.size || window.height !== ref.size) {
    throw new Error(`block ${ref.id}: window ${window.width} x ${window.height} is not ${ref.size} px square`);
  }
  const values = await readBlockValues(source, window, ref.bandOptions);
  if (values.bandCount !== ref.bandCount) {
    throw new InputError(
      `block has ${values.bandCount} bands, the others have ${ref.bandCount}; all blocks must have the same bands`,
      ref.paths.join(', '),
    );
  }
  return {
    id: ref.id,
    label: ref.label,
    bands: values.bands,
    size: ref.size,
    bandCount: values.bandCount,
    validFraction: values.validFraction,
  };
}

/** Makes a lazy block reference; `load()` opens the file(s), reads the window and closes them. */
export function blockRef(ref: Omit<BlockRef, 'load'>): BlockRef {
  return { ...ref, load: () => withSource(ref.paths, (s) => loadFromSource(s, ref)) };
}

/** The first block file of a source and its data bands (alpha left out), which every other file must match. */
export interface FirstBlockFile {
  path: string;
  storedBands: number;
}

/**
 * A block ref for a whole single-block file: the window is the whole image, which must be `size` px square
 * (checked on load), and hold as many data bands as `first` where given.
 */
export function fileBlockRef(
  id: string,
  label: 0 | 1,
  paths: string[],
  size: number,
  bandCount: number,
  bandOptions: BandOptions,
  first?: FirstBlockFile,
): BlockRef {
  const ref: Omit<BlockRef, 'load'> = {
    id,
    label,
    paths,
    window: { x: 0, y: 0, width: size, height: size },
    size,
    bandCount,
    bandOptions,
  };
  return {
    ...ref,
    load: () =>
      withSource(paths, async (s) => {
        checkSquare(s, size);
        // A chosen band list (a preset's) reads any file with enough bands: a 5-band block among 4-band ones, or an
        // RGBN block among RGB ones, would be read in the others' band order without a word.
        if (first && dataBands(s).length !== first.storedBands) {
          throw new InputError(`block has ${dataBands(s).length} bands, the first block (${first.path}) has ${first.storedBands}; all blocks must hold the same bands`, s.paths.join(', '));
        }
        return loadFromSource(s, ref);
      }),
  };
}

function checkSquare(source: RasterSource, size: number): void {
  if (source.width !== size || source.height !== size) {
    throw new InputError(
      `block image is ${source.width} x ${source.height} px; all blocks must be ${size} x ${size} px like the first one`,
      source.paths.join(', '),
    );
  }
}

/** Opens the first block of a file-per-block source to learn the block size and band count. */
export async function probeBlockFile(paths: string[], options: BandOptions): Promise<{ size: number; bandCount: number; first: FirstBlockFile }> {
  return withSource(paths, async (s) => {
    if (s.width !== s.height) {
      throw new InputError(`block image is ${s.width} x ${s.height} px; blocks must be square`, s.paths.join(', '));
    }
    const bands = resolveBands(options, s, s.paths.join(', '));
    return { size: s.width, bandCount: bands.length, first: { path: s.paths.join(', '), storedBands: dataBands(s).length } };
  });
}

export interface LoadOptions {
  /** Files read at the same time; default 4. */
  concurrency?: number;
  /** Called as blocks are read. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Reads every block into memory, in the order given. Blocks that share the same file(s) are read from one open
 * source (scene blocks read their scene once).
 */
export async function loadBlocks(refs: BlockRef[], options: LoadOptions = {}): Promise<LabelledBlock[]> {
  const groups = new Map<string, number[]>();
  refs.forEach((r, i) => {
    const key = JSON.stringify(r.paths);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const out = new Array<LabelledBlock>(refs.length);
  const queue = [...groups.values()];
  let done = 0;
  const worker = async () => {
    for (let g = queue.shift(); g; g = queue.shift()) {
      const indices = g;
      if (indices.length === 1) {
        out[indices[0]!] = await refs[indices[0]!]!.load();
      } else {
        await withSource(refs[indices[0]!]!.paths, async (s) => {
          for (const i of indices) out[i] = await loadFromSource(s, refs[i]!);
        });
      }
      done += indices.length;
      options.onProgress?.(done, refs.length);
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? 4, queue.length));
  await Promise.all(Array.from({ length: n }, worker));
  return out;
}

/** Counts of each label, for summaries. */
export function labelCounts(blocks: { label: 0 | 1 }[]): { clear: number; cloudy: number } {
  let cloudy = 0;
  for (const b of blocks) cloudy += b.label;
  return { clear: blocks.length - cloudy, cloudy };
}
