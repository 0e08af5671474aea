/**
 * Truth (and prediction) mask codings: how the pixel values of a dataset's mask file map to wdcd's
 * 0 clear / 1 cloud / 255 excluded form. Cloud is the positive class; thin cloud counts as cloud; shadow, snow,
 * water and land count as clear; fill counts as excluded. A NaN pixel (float masks) is always excluded.
 *
 * Codings (name: values):
 * - `l8biome`  L8 Biome `*_fixedmask`: 0 fill -> 255, 64 shadow -> 0, 128 clear -> 0, 192 thin cloud -> 1, 255 cloud -> 1
 * - `gf1-png`  GF-1 CloudMattingGAN PNG: value >= 128 -> 1 (cloud), below -> 0 (any 0..255 value is accepted)
 * - `38cloud`  38-Cloud `gt_patch_*`: 255 cloud, 0 clear
 * - `gf1-whu`  GF1_WHU `*_ReferenceMask`: 0 fill -> 255, 1 clear -> 0, 128 shadow -> 0, 255 cloud -> 1
 * - `hrc-whu`  HRC_WHU `*_ReferenceMask`: 255 cloud, 0 clear
 * - `sparcs`   SPARCS `*_mask.png`: 5 cloud -> 1; 0 shadow, 1 shadow over water, 2 water, 3 snow, 4 land, 6 flooded -> 0
 * - `approx`   approximate figure labels: 0 clear, 1 cloud, 2 thin cloud -> 1, 3 shadow -> 0
 * - `wdcd`     wdcd's own output mask: 0 clear, 1 cloud, 255 nodata
 *
 * `auto` guesses: first from the file name and its folders (e.g. `fixedmask`, `l8biome`, `gt_patch`,
 * `ReferenceMask` with `hrc`/`gf1` in the path, `approx-figure-labels`, `sparcs`, `_slice/*.png`), checking that the
 * values fit; otherwise from the values alone: among the codings whose value set contains every value present
 * (`gf1-png`, which takes any value, only as the fallback for PNGs that fit no other coding), if all decode the present values the same way it is unambiguous; if not, it throws
 * an InputError that lists the candidates and asks for `--coding`.
 *
 * Reading: PNG/JPEG/WebP through sharp (16-bit samples kept as they are), TIFF and every other format through
 * `openRaster`; the format is told by the file's first bytes, not its name (a GeoTIFF named .png keeps its
 * georeferencing). A palette PNG reads as its palette indices, as GDAL and PIL read it (its colours are only how
 * the classes are shown). All colour channels / bands must be equal (colour-coded masks are refused) and are read
 * as one; an alpha channel is not a class value. A file's declared nodata value is not applied: fill is part of the
 * coding (e.g. 0 in L8 Biome), and applying a declared nodata of 0 would wrongly drop clear pixels of 0/255 masks.
 * It is returned, so that callers can say when the coding scores pixels that the file calls no data.
 */
import { open } from 'node:fs/promises';
import { extname, basename } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../errors.js';
import { openRaster } from '../raster/open.js';
import { checkColourSpace, decodeStoredPixels, type StoredPixels } from '../raster/read-image.js';
import { dataBands, type GeoReference } from '../raster/types.js';

export type CodingName = 'l8biome' | 'gf1-png' | '38cloud' | 'gf1-whu' | 'hrc-whu' | 'sparcs' | 'approx' | 'wdcd';

export interface MaskCoding {
  name: CodingName;
  description: string;
  /** 256-entry table: decoded value (0, 1, 255) for each raw value, or -1 where the value is not part of the coding. */
  table: Int16Array;
}

function makeTable(entries: Record<number, 0 | 1 | 255>): Int16Array {
  const t = new Int16Array(256).fill(-1);
  for (const [k, v] of Object.entries(entries)) t[Number(k)] = v;
  return t;
}

function thresholdTable(threshold: number): Int16Array {
  const t = new Int16Array(256);
  for (let v = 0; v < 256; v++) t[v] = v >= threshold ? 1 : 0;
  return t;
}

export const CODINGS: Readonly<Record<CodingName, MaskCoding>> = {
  l8biome: {
    name: 'l8biome',
    description: 'L8 Biome fixedmask: 0 fill, 64 shadow, 128 clear, 192 thin cloud, 255 cloud',
    table: makeTable({ 0: 255, 64: 0, 128: 0, 192: 1, 255: 1 }),
  },
  'gf1-png': {
    name: 'gf1-png',
    description: 'GF-1 CloudMattingGAN PNG: >= 128 cloud, < 128 clear',
    table: thresholdTable(128),
  },
  '38cloud': {
    name: '38cloud',
    description: '38-Cloud gt: 255 cloud, 0 clear',
    table: makeTable({ 0: 0, 255: 1 }),
  },
  'gf1-whu': {
    name: 'gf1-whu',
    description: 'GF1_WHU ReferenceMask: 0 fill, 1 clear, 128 shadow, 255 cloud',
    table: makeTable({ 0: 255, 1: 0, 128: 0, 255: 1 }),
  },
  'hrc-whu': {
    name: 'hrc-whu',
    description: 'HRC_WHU ReferenceMask: 255 cloud, 0 clear',
    table: makeTable({ 0: 0, 255: 1 }),
  },
  sparcs: {
    name: 'sparcs',
    description: 'SPARCS mask: 5 cloud; 0 shadow, 1 shadow over water, 2 water, 3 snow, 4 land, 6 flooded are clear',
    table: makeTable({ 0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 1, 6: 0 }),
  },
  approx: {
    name: 'approx',
    description: 'approximate figure labels: 0 clear, 1 cloud, 2 thin cloud (cloud), 3 shadow (clear)',
    table: makeTable({ 0: 0, 1: 1, 2: 1, 3: 0 }),
  },
  wdcd: {
    name: 'wdcd',
    description: "wdcd's output mask: 0 clear, 1 cloud, 255 nodata",
    table: makeTable({ 0: 0, 1: 1, 255: 255 }),
  },
};

export const CODING_NAMES = Object.keys(CODINGS) as CodingName[];

export function isCodingName(name: string): name is CodingName {
  return Object.prototype.hasOwnProperty.call(CODINGS, name);
}

/** Validates a `--coding` value ('auto' or a coding name); `option` names the option in the message. */
export function parseCoding(name: string | undefined, option = '--coding'): CodingName | 'auto' {
  if (name === undefined || name === 'auto') return 'auto';
  if (isCodingName(name)) return name;
  throw new InputError(`unknown mask coding "${name}"; use auto or one of: ${CODING_NAMES.join(', ')}`, option);
}

/** A mask as stored: raw values of its one band (or of its equal bands / colour channels), row-major. */
export interface RawMask {
  path: string;
  width: number;
  height: number;
  values: Uint8Array | Float32Array;
  /** The file's georeferencing (PNG and JPEG masks have none). */
  georef: GeoReference | null;
  /** The file's declared nodata value (TIFF), not applied to `values`; null when none is declared. */
  nodata: number | null;
}

function differingChannels(path: string, what: string, x: number, y: number, seen: string): InputError {
  return new InputError(
    `mask has differing ${what} at pixel (${x}, ${y}) (${seen}); expected a single-${what === 'bands' ? 'band' : 'channel (grey)'} ` +
      'mask of class values, not a colour-coded one',
    path,
  );
}

type StoredFormat = 'tiff' | 'png' | 'jpeg' | 'gif' | 'webp';

/** The file's format from its first bytes; null when it cannot be read or is none of these (openRaster then says why). */
async function storedFormat(path: string): Promise<StoredFormat | null> {
  const head = Buffer.alloc(12);
  try {
    const handle = await open(path, 'r');
    try {
      await handle.read(head, 0, 12, 0);
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
  const magic = head.toString('latin1', 0, 4);
  if (magic === 'II*\0' || magic === 'MM\0*' || magic === 'II+\0' || magic === 'MM\0+') return 'tiff';
  if (head.readUInt32BE(0) === 0x89504e47) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (magic === 'GIF8') return 'gif';
  if (magic === 'RIFF' && head.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return null;
}

/**
 * A palette PNG's palette as RGBA quadruples (alpha from tRNS, else opaque), or null for a PNG of another colour
 * type. Only the chunks before the image data are read.
 */
async function pngPalette(path: string): Promise<Uint8Array | null> {
  const handle = await open(path, 'r');
  try {
    let palette: Uint8Array | null = null;
    const header = Buffer.alloc(8);
    for (let offset = 8; ; ) {
      if ((await handle.read(header, 0, 8, offset)).bytesRead < 8) return palette;
      const length = header.readUInt32BE(0);
      const type = header.toString('latin1', 4, 8);
      if (type === 'IDAT' || type === 'IEND') return palette;
      if (type === 'IHDR' || type === 'PLTE' || type === 'tRNS') {
        const data = Buffer.alloc(Math.min(length, 1024));
        await handle.read(data, 0, data.length, offset + 8);
        if (type === 'IHDR' && data[9] !== 3) return null; // colour type 3 = palette
        if (type === 'PLTE') {
          const n = Math.floor(data.length / 3);
          palette = new Uint8Array(n * 4).fill(255);
          for (let i = 0; i < n; i++) palette.set(data.subarray(3 * i, 3 * i + 3), 4 * i);
        }
        if (type === 'tRNS' && palette) for (let i = 0; i < data.length && 4 * i < palette.length; i++) palette[4 * i + 3] = data[i]!;
      }
      offset += 12 + length;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Maps each decoded pixel colour of a palette PNG back to its palette index: the index is the class value (GDAL and
 * PIL read it so), the colour only how the class is shown; read as colours, index 1 drawn white would be 255.
 * Fully transparent pixels are NaN (excluded), as in grey + alpha masks.
 */
function paletteIndices(path: string, decoded: StoredPixels, palette: Uint8Array): Uint8Array | Float32Array {
  const { data, width, height, channels, hasAlpha } = decoded;
  const key = (r: number, g: number, b: number, a: number) => ((r << 16) | (g << 8) | b) + (hasAlpha ? a * 2 ** 24 : 0);
  const index = new Map<number, number>(); // -1: two entries share the colour
  const first = new Map<number, number>();
  for (let i = 0; i < palette.length / 4; i++) {
    const k = key(palette[4 * i]!, palette[4 * i + 1]!, palette[4 * i + 2]!, palette[4 * i + 3]!);
    if (index.has(k)) index.set(k, -1);
    else {
      index.set(k, i);
      first.set(k, i);
    }
  }
  const n = width * height;
  let values: Uint8Array | Float32Array = new Uint8Array(n);
  for (let i = 0, o = 0; i < n; i++, o += channels) {
    const [r, g, b] = channels >= 3 ? [data[o]!, data[o + 1]!, data[o + 2]!] : [data[o]!, data[o]!, data[o]!];
    const a = hasAlpha ? data[o + channels - 1]! : 255;
    if (a === 0) {
      if (values instanceof Uint8Array) values = Float32Array.from(values);
      values[i] = NaN;
      continue;
    }
    const k = key(r, g, b, a);
    const v = index.get(k);
    if (v === undefined || v < 0) {
      const where = `pixel (${i % width}, ${Math.floor(i / width)}) has the colour (${r}, ${g}, ${b})`;
      throw new InputError(
        v === undefined
          ? `palette PNG: ${where}, which is not in its palette, so its class (palette index) cannot be read`
          : `palette PNG: ${where}, which palette entries ${first.get(k)} and others share, so its class (palette index) ` +
            'cannot be told; convert it with gdal_translate -of GTiff, which keeps the indices',
        path,
      );
    }
    values[i] = v;
  }
  return values;
}

/** Reads the raw values of a mask file: its one band, or its bands / colour channels where they are all equal. */
export async function readRawMask(path: string): Promise<RawMask> {
  const format = await storedFormat(path);
  if (format !== null && format !== 'tiff') {
    let decoded: StoredPixels;
    let palette: Uint8Array | null = null;
    try {
      const meta = await sharp(path).metadata();
      checkColourSpace(path, meta);
      if (meta.isPalette) {
        palette = format === 'png' ? await pngPalette(path) : null;
        // A GIF's (or WebP's) palette is not read here, and its colours are not its class values.
        if (!palette) {
          throw new InputError(
            `a palette ${format.toUpperCase()}: its classes are palette indices, which wdcd reads only from PNG and ` +
              'TIFF; convert it with gdal_translate -of GTiff, which keeps the indices',
            path,
          );
        }
      }
      decoded = await decodeStoredPixels(path, meta);
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`cannot read mask image: ${(e as Error).message}`, path);
    }
    if (palette) return { path, width: decoded.width, height: decoded.height, values: paletteIndices(path, decoded, palette), georef: null, nodata: null };
    const { data, width, height, channels, hasAlpha } = decoded;
    const colour = hasAlpha ? channels - 1 : channels;
    const n = width * height;
    // 16-bit values above 255 are kept (as float32): no coding takes them, so they are reported, not wrapped.
    // So are transparent pixels, as NaN (excluded), as the raster readers and GDAL's mask band take them.
    let transparent = false;
    if (hasAlpha) for (let o = colour; o < data.length && !transparent; o += channels) transparent = data[o] === 0;
    const values = data instanceof Uint16Array || transparent ? new Float32Array(n) : new Uint8Array(n);
    let max = 0;
    for (let i = 0, o = 0; i < n; i++, o += channels) {
      const v = data[o]!;
      if (transparent && data[o + colour] === 0) {
        values[i] = NaN;
        continue;
      }
      for (let c = 1; c < colour; c++) {
        if (data[o + c] !== v) throw differingChannels(path, 'colour channels', i % width, Math.floor(i / width), `channel 1 is ${v}, channel ${c + 1} is ${data[o + c]}`);
      }
      values[i] = v;
      if (v > max) max = v;
    }
    return { path, width, height, values: max <= 255 && !transparent && values instanceof Float32Array ? Uint8Array.from(values) : values, georef: null, nodata: null };
  }
  // Read in strips into bytes (masks are small integers); switch to float32 only if a value needs it (NaN, 1000).
  const source = await openRaster([path]);
  try {
    const { width, height } = source;
    // A declared alpha band is no class value: the reader has already made its transparent pixels NaN.
    const bands = dataBands(source);
    const bandCount = bands.length;
    let values: Uint8Array | Float32Array = new Uint8Array(width * height);
    const rows = Math.max(1, Math.floor((1 << 22) / (width * bandCount)));
    // Every band must equal band 1 (an RGB colour mask would otherwise read as its red band). The one exception is
    // a last band that reads like an undeclared alpha: in a 2- or 4-band file, one that holds only an opaque value
    // (255 or 65535) where it differs is taken for one.
    let lastDiffers: { x: number; y: number; seen: string } | null = null;
    let lastIsAlpha = bandCount === 2 || bandCount === 4;
    for (let y = 0; y < height; y += rows) {
      const h = Math.min(rows, height - y);
      const planes = await source.readWindow({ x: 0, y, width, height: h }, bands);
      const strip = planes[0];
      const base = y * width;
      for (let b = 1; b < bandCount; b++) {
        const band = planes[b]!;
        const last = b === bandCount - 1;
        for (let i = 0; i < band.length; i++) {
          const v = band[i]!;
          if (last && lastIsAlpha && !(Number.isNaN(v) || v === 255 || v === 65535)) lastIsAlpha = false;
          if (v === strip![i] || (Number.isNaN(v) && Number.isNaN(strip![i]!))) continue;
          const [px, py, seen] = [(base + i) % width, Math.floor((base + i) / width), `band 1 is ${strip![i]}, band ${b + 1} is ${v}`];
          if (!last) throw differingChannels(path, 'bands', px, py, seen);
          lastDiffers ??= { x: px, y: py, seen };
        }
        if (lastDiffers && !lastIsAlpha) throw differingChannels(path, 'bands', lastDiffers.x, lastDiffers.y, lastDiffers.seen);
      }
      if (values instanceof Uint8Array) {
        let i = 0;
        for (; i < strip!.length; i++) {
          const v = strip![i]!;
          if (!(v >= 0 && v <= 255 && Number.isInteger(v))) break;
          values[base + i] = v;
        }
        if (i === strip!.length) continue;
        values = Float32Array.from(values); // earlier rows as they are; this strip is copied whole below
      }
      values.set(strip!, base);
    }
    return { path, width, height, values, georef: source.georef, nodata: source.nodata };
  } finally {
    await source.close();
  }
}

/** Histogram of the raw values: counts[v] for integer v in 0..255, plus non-integer/out-of-range and NaN counts. */
export interface ValueHistogram {
  counts: Float64Array;
  nan: number;
  /** Values that are not integers in 0..255; the first one seen. */
  other: number;
  firstOther?: number;
}

export function histogram(values: ArrayLike<number>): ValueHistogram {
  const counts = new Float64Array(256);
  let nan = 0;
  let other = 0;
  let firstOther: number | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v >= 0 && v <= 255 && Number.isInteger(v)) counts[v]!++;
    else if (Number.isNaN(v)) nan++;
    else {
      if (other === 0) firstOther = v;
      other++;
    }
  }
  return { counts, nan, other, firstOther };
}

function presentValues(h: ValueHistogram): number[] {
  const out: number[] = [];
  for (let v = 0; v < 256; v++) if (h.counts[v]! > 0) out.push(v);
  return out;
}

function fits(coding: CodingName, present: number[]): boolean {
  const t = CODINGS[coding].table;
  return present.every((v) => t[v]! >= 0);
}

/** Name-based hints, most specific first. */
function hintsFromPath(path: string): CodingName[] {
  const p = path.replace(/\\/g, '/');
  const lower = p.toLowerCase();
  const name = basename(lower);
  const ext = extname(lower);
  if (name.includes('fixedmask') || /(^|\/)(l8_?biome|biome)[^/]*\//.test(lower)) return ['l8biome'];
  if (name.startsWith('gt_patch') || /38-?cloud/.test(lower)) return ['38cloud'];
  if (name.includes('referencemask')) {
    if (/hrc/.test(lower)) return ['hrc-whu'];
    if (/gf-?1|gf-?2/.test(lower)) return ['gf1-whu'];
    return ['gf1-whu', 'hrc-whu'];
  }
  if (lower.includes('approx-figure-labels')) return ['approx'];
  if (lower.includes('sparcs')) return ['sparcs'];
  if (ext === '.png' && /_slice\//.test(lower)) return ['gf1-png'];
  if (lower.includes('cloudmattinggan')) return ['gf1-png'];
  return [];
}

function sameDecoding(codings: CodingName[], present: number[]): boolean {
  const first = CODINGS[codings[0]!].table;
  return codings.every((c) => present.every((v) => CODINGS[c].table[v] === first[v]));
}

/**
 * A name suggests L8 Biome or GF1_WHU, whose 0 is fill, but the values are those of a binary 0/255 mask (binarised
 * Biome masks are common): read so, every clear pixel would be left out as fill and the scores would still look
 * fine. A mask of fill and cloud with not one clear pixel is rare enough to ask for --coding when another coding
 * reads its values with clear.
 */
function checkNotFillAndCloudOnly(path: string, coding: CodingName, present: number[], shown: string): CodingName {
  const table = CODINGS[coding].table;
  if (!present.some((v) => table[v] === 255) || present.some((v) => table[v] === 0)) return coding;
  const rivals = CODING_NAMES.filter(
    (c) => c !== coding && c !== 'gf1-png' && fits(c, present) && present.some((v) => CODINGS[c].table[v] === 0),
  );
  if (rivals.length === 0) return coding;
  throw new InputError(
    `read as ${coding} (as its name suggests), the mask values (${shown}) would be fill and cloud only, without a ` +
      `clear pixel; ${rivals.join(', ')} would read them with clear. Give --coding`,
    path,
  );
}

/**
 * Guesses the coding of a mask from its path and values. Throws InputError when more than one coding fits and
 * they disagree on the values present.
 */
export function guessCoding(path: string, values: ArrayLike<number> | ValueHistogram): CodingName {
  const h = 'counts' in values ? values : histogram(values);
  if (h.other > 0) {
    throw new InputError(`mask value ${h.firstOther} is not an integer class value in 0..255; cannot guess its coding${notClassesHint(h.firstOther!, path)}`, path);
  }
  const present = presentValues(h);
  const shown = present.length > 12 ? `${present.slice(0, 12).join(', ')}, ...` : present.join(', ');
  const hinted = hintsFromPath(path).filter((c) => fits(c, present));
  const hintsGiven = hintsFromPath(path).length > 0;
  let candidates: CodingName[];
  if (hinted.length > 0) candidates = hinted;
  else {
    if (hintsGiven) {
      throw new InputError(
        `mask values (${shown}) do not fit the coding its name suggests (${hintsFromPath(path).join(', ')}); ` +
          `give --coding (one of ${CODING_NAMES.join(', ')})`,
        path,
      );
    }
    // gf1-png takes any value, so it is a fallback: only for PNGs whose values fit no class coding (grey levels).
    candidates = CODING_NAMES.filter((c) => c !== 'gf1-png' && fits(c, present));
    // A PNG of small class values (0, 1, 2, 7: a land-cover map, a coding wdcd does not know) would read as a matte
    // with no cloud at all; only one with values of 128 and above can be a matte.
    if (candidates.length === 0 && extname(path).toLowerCase() === '.png' && present.some((v) => v >= 128)) candidates = ['gf1-png'];
  }
  if (candidates.length === 0) {
    throw new InputError(
      `mask values (${shown}) fit no known coding; give --coding (one of ${CODING_NAMES.join(', ')})${notClassesHint(present.find((v) => v !== 0 && v !== 255) ?? 0, path)}`,
      path,
    );
  }
  if (candidates.length === 1 || sameDecoding(candidates, present)) return checkNotFillAndCloudOnly(path, candidates[0]!, present, shown);
  throw new InputError(
    `cannot tell the mask coding from its name and values (${shown}): ${candidates.join(', ')} would read it ` +
      `differently; give --coding`,
    path,
  );
}

/**
 * Why a value may fit no coding, for the error: a fraction is a continuous map (a CAM, a probability), not classes;
 * a JPEG's values are blurred by its lossy compression (0/255 comes back as 0-5 and 250-255).
 */
function notClassesHint(value: number, path: string): string {
  if (!Number.isInteger(value)) {
    return '; a fractional value means a continuous map (such as the CAM that wdcd detect --cam writes, or a ' +
      'probability), not a mask of classes: give the mask (what wdcd detect writes with -o), or threshold the map first';
  }
  if (/\.jpe?g$/i.test(path)) {
    return '; JPEG compression is lossy and changes mask values (255 comes back as 250-255): save masks as PNG or ' +
      'TIFF, or read this one with the gf1-png coding, which takes 128 and above as cloud';
  }
  return '';
}

/** Decodes raw mask values to 0 clear / 1 cloud / 255 excluded. Values outside the coding throw InputError. */
export function decodeMask(values: ArrayLike<number>, coding: CodingName, path = '(mask)'): Uint8Array {
  const table = CODINGS[coding].table;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) {
      out[i] = 255;
      continue;
    }
    const d = v >= 0 && v <= 255 && Number.isInteger(v) ? table[v]! : -1;
    if (d < 0) {
      throw new InputError(
        `mask value ${v} at pixel ${i} is not part of the ${coding} coding (${CODINGS[coding].description})${notClassesHint(v, path)}`,
        path,
      );
    }
    out[i] = d;
  }
  return out;
}

export interface DecodedMask {
  path: string;
  width: number;
  height: number;
  georef: GeoReference | null;
  coding: CodingName;
  /** 0 clear, 1 cloud, 255 excluded; row-major. */
  mask: Uint8Array;
  /**
   * Set when the file declares a nodata value that its coding reads as a class and pixels hold it: they are scored
   * as `as` (the coding decides), though the file calls them no data. Callers should say so.
   */
  scoredNodata?: { value: number; pixels: number; as: 'clear' | 'cloud' };
}

/**
 * Reads a mask file and decodes it with the given coding (`auto` by default).
 *
 * The file's declared nodata value is excluded where the coding has no class for it (65535 in a 16-bit mask,
 * 2 in a wdcd mask): it can only be fill. Where the coding reads it as a class (0 in a 0/255 mask, often declared by
 * habit), the coding wins and `scoredNodata` reports it; where the coding reads it as fill, both agree. Pixels the
 * file calls no data do not take part in guessing the coding.
 */
export async function readMask(path: string, coding: CodingName | 'auto' | string = 'auto'): Promise<DecodedMask> {
  const chosen = parseCoding(coding);
  return decodeRawMask(await readRawMask(path), chosen);
}

/** readMask on a mask already read, for callers that also need its raw values (the viewer's readout). */
export function decodeRawMask(raw: RawMask, chosen: CodingName | 'auto'): DecodedMask {
  const { path } = raw;
  let values = raw.values;
  const nodata = raw.nodata === null || Number.isNaN(raw.nodata) ? null : Math.fround(raw.nodata);
  let pixels = 0;
  if (nodata !== null) for (let i = 0; i < values.length; i++) if (values[i] === nodata) pixels++;
  const byteValue = nodata !== null && nodata >= 0 && nodata <= 255 && Number.isInteger(nodata);
  const excludeNodata = () => {
    const out = Float32Array.from(values);
    for (let i = 0; i < out.length; i++) if (out[i] === nodata) out[i] = NaN;
    values = out;
  };
  if (pixels > 0 && !byteValue) excludeNodata();
  let name: CodingName;
  if (chosen === 'auto') {
    const h = histogram(values);
    if (pixels > 0 && byteValue && pixels < values.length) h.counts[nodata] = 0;
    name = guessCoding(path, h);
  } else name = chosen;
  const readAs = byteValue ? CODINGS[name].table[nodata]! : -1;
  if (pixels > 0 && byteValue && readAs < 0) excludeNodata();
  const scored = pixels > 0 && (readAs === 0 || readAs === 1);
  return {
    path, width: raw.width, height: raw.height, georef: raw.georef, coding: name, mask: decodeMask(values, name, path),
    ...(scored ? { scoredNodata: { value: nodata!, pixels, as: readAs === 1 ? 'cloud' as const : 'clear' as const } } : {}),
  };
}
