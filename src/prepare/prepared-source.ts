/**
 * The network's view of a scene: chosen bands, scaled to the model's units, normalised, with a validity mask.
 * Windows may reach outside the scene: those pixels are mirrored from inside (so unpadded convolutions near
 * the edge see plausible neighbours) and marked invalid. Nodata pixels are marked invalid and take the value of
 * the nearest valid pixel of their row (0, the training mean, in a row without data): a constant fill would
 * draw a sharp false edge along every footprint border, which the network reads as cloud. The fill depends on
 * the whole row only, so every window sees the same values whatever its extent.
 */
import type { PixelWindow, RasterSource } from '../raster/types.js';
import { sharedFloats } from '../engine/shared-floats.js';
import type { Normalization } from './normalization.js';

export interface PreparedWindow {
  /**
   * [bands, height, width], normalised. Shared memory from `sharedFloats`: a reader that is done with it may give
   * it back there, for the next window.
   */
  data: Float32Array;
  /** 1 where the pixel is inside the scene and holds data in every band. */
  valid: Uint8Array;
}

export interface PreparedSource {
  readonly width: number;
  readonly height: number;
  readonly bandCount: number;
  read(window: PixelWindow): Promise<PreparedWindow>;
  /** Hands memory it holds to the next reader of the same `StripMemory` (call when done reading). */
  release?(): void;
}

/** How stored values become model input: 0-based bands, reflectance = value * scale + offset, nodata. */
export interface InputMapping {
  bands: number[];
  scale: number[];
  offset: number[];
  /** Stored values meaning "no data", besides NaN, infinities and the file's declared value (which always do). */
  nodata: number[];
}

/**
 * The test for no data: NaN, an infinity, the file's declared value or one of the mapping's. Samples arrive as
 * float32, so the values are compared as float32 too (a declared 0.1 or -3.4028235e38 is not the double it reads as).
 */
export function nodataTest(mapping: Pick<InputMapping, 'nodata'>, source: Pick<RasterSource, 'nodata'>): (v: number) => boolean {
  const values = [...new Set([...mapping.nodata, ...(source.nodata === null ? [] : [source.nodata])].map(Math.fround))];
  if (values.length > 3) return (v) => v !== v || v === Infinity || v === -Infinity || values.includes(v);
  // Up to three values (the usual: the preset's fill, --nodata, the file's) as constants: this runs on every sample.
  const [a = NaN, b = NaN, c = NaN] = values;
  return (v) => v !== v || v === a || v === b || v === c || v === Infinity || v === -Infinity;
}

/** Mirror index into [0, n): -1 -> 0, -2 -> 1, n -> n - 1 (works for any distance by folding). */
export function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let m = ((i % period) + period) % period;
  if (m >= n) m = period - 1 - m;
  return m;
}

/** Where a read lands: the window's pixels go to (x, y) of a [bands, height, width] target. */
export interface ReadTarget {
  data: Float32Array;
  valid: Uint8Array;
  width: number;
  height: number;
  x: number;
  y: number;
}

/** Reads a window that lies inside the scene into `target`. */
export type ReadInside = (w: PixelWindow, target: ReadTarget) => Promise<void>;

/** Reads the inside part of a window, then fills outside pixels by mirroring inside ones. */
export async function readMirrored(width: number, height: number, bandCount: number, window: PixelWindow, readInside: ReadInside): Promise<PreparedWindow> {
  const n = window.width * window.height;
  // Every value is written below, so a reused array needs no clearing.
  const out = { data: sharedFloats.take(bandCount * n), valid: new Uint8Array(n), width: window.width, height: window.height };
  const x0 = Math.max(window.x, 0);
  const y0 = Math.max(window.y, 0);
  const x1 = Math.min(window.x + window.width, width);
  const y1 = Math.min(window.y + window.height, height);
  const inX0 = x0 - window.x;
  const inY0 = y0 - window.y;
  const insideAll = inX0 === 0 && inY0 === 0 && x1 === window.x + window.width && y1 === window.y + window.height;
  if (insideAll) {
    await readInside(window, { ...out, x: 0, y: 0 });
    return out;
  }
  const cols = Array.from({ length: window.width }, (_, i) => mirror(window.x + i, width));
  const rows = Array.from({ length: window.height }, (_, i) => mirror(window.y + i, height));
  // The usual case (a halo past the scene's side): every mirrored pixel is one the window holds inside, so the
  // inside is read straight into place and the margins copied from it.
  const sx0 = Math.min(...cols);
  const sx1 = Math.max(...cols) + 1;
  const sy0 = Math.min(...rows);
  const sy1 = Math.max(...rows) + 1;
  let src: { data: Float32Array; valid: Uint8Array; width: number; height: number; x: number; y: number };
  if (x1 > x0 && y1 > y0 && sx0 >= x0 && sx1 <= x1 && sy0 >= y0 && sy1 <= y1) {
    await readInside({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, { ...out, x: inX0, y: inY0 });
    src = { ...out, x: window.x, y: window.y };
  } else {
    // The scene is smaller than the halo: the mirrored window can need any row or column of it.
    const iw = sx1 - sx0;
    const ih = sy1 - sy0;
    src = { data: new Float32Array(bandCount * iw * ih), valid: new Uint8Array(iw * ih), width: iw, height: ih, x: sx0, y: sy0 };
    await readInside({ x: sx0, y: sy0, width: iw, height: ih }, { ...src, x: 0, y: 0 });
  }
  const sn = src.width * src.height;
  const inX1 = x1 - window.x;
  for (let y = 0; y < window.height; y++) {
    const sy = rows[y] - src.y;
    const at = y * window.width;
    const insideRow = window.y + y >= 0 && window.y + y < height;
    const copyRow = src.data !== out.data || !insideRow;
    if (copyRow && insideRow && inX1 > inX0) out.valid.set(src.valid.subarray(sy * src.width + cols[inX0] - src.x, sy * src.width + cols[inX0] - src.x + inX1 - inX0), at + inX0);
    for (let b = 0; b < bandCount; b++) {
      const plane = src.data.subarray(b * sn + sy * src.width, b * sn + (sy + 1) * src.width);
      const row = out.data.subarray(b * n + at, b * n + at + window.width);
      if (copyRow && inX1 > inX0) row.set(plane.subarray(cols[inX0] - src.x, cols[inX0] - src.x + inX1 - inX0), inX0);
      const left = Math.min(inX0, window.width);
      for (let x = 0; x < left; x++) row[x] = plane[cols[x] - src.x];
      for (let x = Math.max(inX1, left); x < window.width; x++) row[x] = plane[cols[x] - src.x];
    }
  }
  return out;
}

/**
 * Rows decoded from the file at once. Reads come top to bottom in overlapping windows (blocks at 50 % overlap,
 * feature chunks with their halo), so prepared rows are kept in one strip and each file row is decoded once per
 * pass, not once per window that touches it: compressed tiles (512 or 256 px high) decode whole, and decoding
 * them again for every 24-row step made reading the slowest stage. Strips are aligned to multiples of their
 * height, which is the file's block height where that lies between 256 and `MAX_STRIP_ROWS` rows: each tile is
 * then decoded once (a 512-row tile decoded in two 256-row strips cost twice its inflating, and the compressed
 * bytes read twice were most of the fresh memory a detection made). Holds about (strip + window height)
 * full-width rows, prepared, plus one strip's raw samples while it is read.
 */
export const STRIP_ROWS = 256;
const MAX_STRIP_ROWS = 1024;

/**
 * Room for a quarter more than asked: strips (and their raw samples) differ in height by the rows kept from
 * the last, and without room each taller one was a fresh array of tens of MB (177 MB a 16 MP scene).
 */
const withRoom = (n: number): number => Math.ceil(n * 1.25);

/**
 * A row's runs of valid pixels, with the raw values (bands read) at each run's first and last pixel: all the
 * nodata fill of a stripe takes from outside its columns is the nearest of those ends. Kept for every row read
 * whole once, so the stripes after it do not read the row whole again: a 10980 px four-band JPEG 2000 scene
 * with a swath edge across it decoded 1244 tiles for its 484 that way.
 */
export interface RowRuns {
  /** First and last pixel of each run, in pairs. */
  ends: Int32Array;
  /** Values at those pixels: [run * 2 + end][band]. */
  values: Float32Array;
}
/** Rows with more runs are not kept (scattered nodata): they are read whole where needed. */
const MAX_KEPT_RUNS = 64;

/** The runs of `valid` (a full row) with the values of `planes` (rows of `width` from `at`) at their ends. */
function rowRunsOf(valid: Uint8Array, planes: Float32Array[], at: number): RowRuns | null {
  const ends: number[] = [];
  for (let x = 0; x < valid.length; x++) {
    if (valid[x] && (x === 0 || !valid[x - 1])) ends.push(x);
    if (valid[x] && (x === valid.length - 1 || !valid[x + 1])) ends.push(x);
  }
  if (ends.length > 2 * MAX_KEPT_RUNS) return null;
  const values = new Float32Array(ends.length * planes.length);
  ends.forEach((x, e) => planes.forEach((plane, b) => (values[e * planes.length + b] = plane[at + x])));
  return { ends: Int32Array.from(ends), values };
}

/**
 * Prepared strips' arrays, and those raw samples are read into, passed on from strip to strip and from one
 * prepared source to the next: a scene's column stripes each read the scene top to bottom, and without it each
 * stripe made its strips anew.
 */
export class StripMemory {
  /** Free strips, whole (the strip in use is a view of the start of one). */
  private readonly free: { data: Float32Array; valid: Uint8Array }[] = [];
  /** One array per band read. */
  raw: Float32Array[] = [];
  /** Rows' valid runs, for the nodata fill at stripe sides (see `RowRuns`), by row. */
  readonly rowRuns = new Map<number, RowRuns>();

  /** A free strip holding at least these lengths, or a new one with room. */
  take(dataLength: number, validLength: number): { data: Float32Array; valid: Uint8Array } {
    const i = this.free.findIndex((f) => f.data.length >= dataLength && f.valid.length >= validLength);
    if (i >= 0) return this.free.splice(i, 1)[0];
    return { data: new Float32Array(withRoom(dataLength)), valid: new Uint8Array(withRoom(validLength)) };
  }

  /** Takes back a strip (any view of one from `take`); two are kept at most, the largest. */
  give(strip: { data: Float32Array; valid: Uint8Array }): void {
    if (strip.data.length === 0) return;
    this.free.push({ data: new Float32Array(strip.data.buffer), valid: new Uint8Array(strip.valid.buffer) });
    this.free.sort((a, b) => b.data.length - a.data.length).splice(2);
  }
}

/** Strip height for a source: its block height where that is a sensible strip, else `STRIP_ROWS`. */
export function stripRowsFor(source: RasterSource): number {
  const block = source.blockRows ?? 0;
  return block > STRIP_ROWS && block <= MAX_STRIP_ROWS ? block : STRIP_ROWS;
}

/** A scene on disk, through the input mapping and the model's normalisation. */
export function preparedRaster(
  source: RasterSource, mapping: InputMapping, norm: Normalization,
  options: {
    stripRows?: number;
    /** Rows above the latest read start kept prepared, for reads that step back that far. */
    lookBehind?: number;
    /** Arrays to reuse: give the column stripes of one scene, read one after another, the same. */
    memory?: StripMemory;
    /**
     * Scene columns [from, to) that reads may touch (after mirroring), for a pass over one column stripe: only
     * they are decoded and kept. Default all.
     */
    columns?: [number, number];
  } = {},
): PreparedSource {
  const bandCount = mapping.bands.length;
  const isNodata = nodataTest(mapping, source);
  const { width, height } = source;
  const stripRows = Math.max(1, options.stripRows ?? stripRowsFor(source));
  const lookBehind = Math.max(0, options.lookBehind ?? 0);
  const [cx0, cx1] = options.columns ?? [0, width];
  if (!(Number.isInteger(cx0) && Number.isInteger(cx1) && cx0 >= 0 && cx1 <= width && cx0 < cx1)) throw new RangeError(`columns ${cx0}..${cx1} are not inside the ${width}-column scene`);
  /** Width of the prepared rows (the column range). */
  const cw = cx1 - cx0;
  const scale = mapping.scale.map((s, b) => s / norm.std[b]);
  const shift = mapping.offset.map((o, b) => (o - norm.mean[b]) / norm.std[b]);
  /** Prepared rows y0 .. y1-1 of the column range: data [bands][rows][cw], valid [rows][cw]. */
  let strip: { y0: number; y1: number; data: Float32Array; valid: Uint8Array } = { y0: 0, y1: 0, data: new Float32Array(0), valid: new Uint8Array(0) };
  const memory = options.memory ?? new StripMemory();

  /** Row validity over all bands (plane rows start at `at`). */
  const rowValidity = (planes: Float32Array[], at: number, n: number, out: Uint8Array): void => {
    out.fill(1);
    for (const plane of planes) for (let x = 0; x < n; x++) if (isNodata(plane[at + x])) out[x] = 0;
  };
  /** Normalised values of one row: from the pixel itself, or its fill source where it has no data. */
  const fillRow = (planes: Float32Array[], at: number, from: Int32Array | null, data: Float32Array, base: number, rowsTotal: number): void => {
    for (let b = 0; b < bandCount; b++) {
      const plane = planes[b];
      const out = base + b * rowsTotal * cw;
      const sc = scale[b];
      const sh = shift[b];
      if (!from) for (let x = 0; x < cw; x++) data[out + x] = plane[at + x] * sc + sh;
      else for (let x = 0; x < cw; x++) data[out + x] = from[x] < 0 ? 0 : plane[at + from[x]] * sc + sh;
    }
  };

  // The nodata fill looks along the whole row. A stripe's rows are read over its columns only; a row whose
  // nodata run reaches a cut side (where the nearest valid pixel may lie beyond it) is read again in full, once
  // per scene: its valid runs are kept for the stripes after (RowRuns).
  const prepareRows = async (y0: number, y1: number, data: Float32Array, valid: Uint8Array, rowOffset: number, rowsTotal: number): Promise<void> => {
    const n = cw * (y1 - y0);
    if ((memory.raw[0]?.length ?? 0) < n || memory.raw.length < bandCount) memory.raw = mapping.bands.map(() => new Float32Array(withRoom(n)));
    const planes = await source.readWindow({ x: cx0, y: y0, width: cw, height: y1 - y0 }, mapping.bands, memory.raw);
    const rowValid = new Uint8Array(cw);
    const cutRows: number[] = [];
    for (let y = 0; y < y1 - y0; y++) {
      const row = y * cw;
      rowValidity(planes, row, cw, rowValid);
      valid.set(rowValid, (rowOffset + y) * cw);
      const base = (rowOffset + y) * cw;
      if (rowValid.indexOf(0) < 0) fillRow(planes, row, null, data, base, rowsTotal);
      else if ((cx0 > 0 && !rowValid[0]) || (cx1 < width && !rowValid[cw - 1])) cutRows.push(y);
      else fillRow(planes, row, nearestValid(rowValid), data, base, rowsTotal);
    }
    if (cutRows.length === 0) return;
    const unknown = cutRows.filter((y) => !memory.rowRuns.has(y0 + y));
    const fullValid = new Uint8Array(width);
    if (unknown.length > 0) {
      const first = unknown[0];
      const full = await source.readWindow({ x: 0, y: y0 + first, width, height: unknown[unknown.length - 1] - first + 1 }, mapping.bands);
      for (const y of unknown) {
        const row = (y - first) * width;
        rowValidity(full, row, width, fullValid);
        const runs = rowRunsOf(fullValid, full, row);
        if (runs) memory.rowRuns.set(y0 + y, runs);
        else fillRow(full, row, nearestValid(fullValid).subarray(cx0, cx1), data, (rowOffset + y) * cw, rowsTotal);
      }
    }
    for (const y of cutRows) {
      const runs = memory.rowRuns.get(y0 + y);
      if (!runs) continue; // filled above
      rowValidity(planes, y * cw, cw, rowValid);
      fillCutRow(planes, y * cw, nearestValid(rowValid), runs, data, (rowOffset + y) * cw, rowsTotal);
    }
  };
  /**
   * `fillRow` for a row cut by the stripe's sides: the nearest valid pixel is the nearest inside (`inside`,
   * relative) or the nearest run end outside, ties to the left, as `nearestValid` finds it along the whole row.
   */
  const fillCutRow = (planes: Float32Array[], at: number, inside: Int32Array, runs: RowRuns, data: Float32Array, base: number, rowsTotal: number): void => {
    // The last run end left of the stripe and the first run start right of it (indices into runs.ends).
    let left = -1;
    let right = -1;
    for (let e = 0; e < runs.ends.length; e++) {
      if (runs.ends[e] < cx0) left = e;
      else if (runs.ends[e] >= cx1 && right < 0) right = e;
    }
    const lx = left < 0 ? -Infinity : runs.ends[left];
    const rx = right < 0 ? Infinity : runs.ends[right];
    for (let x = 0; x < cw; x++) {
      const ax = cx0 + x;
      const i = inside[x];
      let from = i; // >= 0: inside; -2: the left end; -3: the right end; -1: none
      let distance = i >= 0 ? Math.abs(i - x) : Infinity;
      if (ax - lx < distance || (ax - lx === distance && i > x)) [from, distance] = [-2, ax - lx];
      if (rx - ax < distance) [from, distance] = [-3, rx - ax];
      for (let b = 0; b < bandCount; b++) {
        const out = base + b * rowsTotal * cw;
        const raw = from >= 0 ? planes[b][at + from] : from === -2 ? runs.values[left * bandCount + b] : from === -3 ? runs.values[right * bandCount + b] : NaN;
        data[out + x] = from === -1 ? 0 : raw * scale[b] + shift[b];
      }
    }
  };

  /** Makes the strip cover rows start .. y1-1, keeping what it already holds from start - lookBehind on. */
  const cover = async (start: number, y1: number): Promise<void> => {
    if (strip.y0 <= start && y1 <= strip.y1) return;
    const overlaps = start >= strip.y0 && start < strip.y1;
    const y0 = overlaps ? Math.max(strip.y0, start - lookBehind) : start;
    const keep = overlaps ? strip.y1 - y0 : 0;
    const readFrom = y0 + keep;
    const end = Math.min(height, Math.max(y1, (Math.floor(readFrom / stripRows) + 1) * stripRows));
    const rows = end - y0;
    // The strip before last lends its memory (every value is written below): strips are tens of MB, 470 MB of
    // fresh arrays per 16 MP scene otherwise (see shared-floats.ts).
    const free = memory.take(bandCount * rows * cw, rows * cw);
    const data = free.data.subarray(0, bandCount * rows * cw);
    const valid = free.valid.subarray(0, rows * cw);
    if (keep > 0) {
      const oldRows = strip.y1 - strip.y0;
      for (let b = 0; b < bandCount; b++) {
        const from = (b * oldRows + (y0 - strip.y0)) * cw;
        data.set(strip.data.subarray(from, from + keep * cw), b * rows * cw);
      }
      valid.set(strip.valid.subarray((y0 - strip.y0) * cw, (y0 - strip.y0 + keep) * cw));
    }
    memory.give(strip);
    strip = { y0: 0, y1: 0, data: new Float32Array(0), valid: new Uint8Array(0) };
    await prepareRows(readFrom, end, data, valid, keep, rows);
    strip = { y0, y1: end, data, valid };
  };

  const readInside: ReadInside = async (w, target) => {
    if (w.x < cx0 || w.x + w.width > cx1) throw new RangeError(`read of columns ${w.x}..${w.x + w.width} outside the prepared columns ${cx0}..${cx1}`);
    await cover(w.y, w.y + w.height);
    const { data: sd, valid: sv, y0 } = strip;
    const rows = strip.y1 - strip.y0;
    const tn = target.width * target.height;
    for (let y = 0; y < w.height; y++) {
      const from = (w.y - y0 + y) * cw + w.x - cx0;
      const to = (target.y + y) * target.width + target.x;
      target.valid.set(sv.subarray(from, from + w.width), to);
      for (let b = 0; b < bandCount; b++) target.data.set(sd.subarray(b * rows * cw + from, b * rows * cw + from + w.width), b * tn + to);
    }
  };
  // Reads run one at a time, in the order asked: the strip is shared, and the detection pipeline asks for the
  // next rows while earlier reads may still be decoding.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    width,
    height,
    bandCount,
    read: (w) => {
      const result = queue.then(() => readMirrored(width, height, bandCount, w, readInside));
      queue = result.catch(() => {});
      return result;
    },
    release: () => {
      // After any read still queued: it may be using the strip.
      queue = queue.then(() => {
        memory.give(strip);
        strip = { y0: 0, y1: 0, data: new Float32Array(0), valid: new Uint8Array(0) };
      });
    },
  };
}

/** Columns [x0, x0 + width) of a source seen as a scene of their own; reads past its sides see the real neighbours. */
export function columnView(source: PreparedSource, x0: number, width: number): PreparedSource {
  return { width, height: source.height, bandCount: source.bandCount, read: (w) => source.read({ ...w, x: w.x + x0 }) };
}

/** For each position, the index of the nearest valid position of the row (ties go left), or -1 if none. */
export function nearestValid(valid: Uint8Array): Int32Array {
  const n = valid.length;
  const left = new Int32Array(n);
  let last = -1;
  for (let i = 0; i < n; i++) {
    if (valid[i]) last = i;
    left[i] = last;
  }
  const out = new Int32Array(n);
  last = -1;
  for (let i = n - 1; i >= 0; i--) {
    if (valid[i]) last = i;
    const l = left[i];
    out[i] = l < 0 ? last : last < 0 ? l : i - l <= last - i ? l : last;
  }
  return out;
}

/** An in-memory block or image (values already in model units, band-sequential), e.g. a training block. */
export function preparedArray(values: Float32Array, bandCount: number, width: number, height: number, norm: Normalization): PreparedSource {
  const n = width * height;
  const readInside: ReadInside = async (w, target) => {
    const tn = target.width * target.height;
    for (let y = 0; y < w.height; y++) {
      for (let x = 0; x < w.width; x++) {
        const src = (w.y + y) * width + w.x + x;
        const to = (target.y + y) * target.width + target.x + x;
        let ok = 1;
        for (let b = 0; b < bandCount; b++) if (!Number.isFinite(values[b * n + src])) ok = 0;
        target.valid[to] = ok;
        for (let b = 0; b < bandCount; b++) target.data[b * tn + to] = ok ? (values[b * n + src] - norm.mean[b]) / norm.std[b] : 0;
      }
    }
  };
  return { width, height, bandCount, read: (w) => readMirrored(width, height, bandCount, w, readInside) };
}
