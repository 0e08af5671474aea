/**
 * Block labels from scenes with pixel masks, made the way a person labelling blocks would.
 *
 * Grid: blocks of `size` S px with `stride` T px (default T = S) along each axis, at offsets 0, T, 2T, ... while the
 * block fits; if the last of these does not end at the image edge, one more block is added that is shifted to end
 * exactly at the edge (offset W - S). So every pixel is covered, no block is padded, and the last row/column of
 * blocks may overlap its neighbour by more than S - T. A scene smaller than S in either direction is an InputError.
 *
 * Label: 1 if the block contains at least `minCloudPixels` (default 1) cloud pixels (per the mask coding; thin cloud
 * counts as cloud), 0 if it contains none. Blocks with some cloud but fewer than `minCloudPixels` are dropped as
 * ambiguous (never labelled clear). Nodata: a pixel is nodata where the mask is fill (255 after decoding) or any
 * selected image band is NaN / the file's nodata / `nodataValue`; blocks with more than `maxNodataFraction`
 * (default 0.5) nodata pixels are dropped; cloud pixels under image nodata are not counted.
 *
 * Weak supervision: the mask is read, reduced to one label per block, and dropped inside this function. Nothing
 * that leaves it (BlockRef, LabelledBlock) holds or can reach pixel mask values: `load()` reads the image window only.
 */
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import { readMask, type CodingName, type DecodedMask } from '../evaluate/mask-codings.js';
import { maskGridDifference } from '../raster/georef.js';
import { openRaster } from '../raster/open.js';
import type { RasterSource } from '../raster/types.js';
import { blockRef, resolveBands, type BandOptions, type BlockRef, type BlockSource } from './blocks.js';
import { bandOptionsOf } from './wdcd-layout.js';

/** A scene with a pixel mask. Band options here are the scene's preset; options given to sceneBlocks override them. */
export interface SceneSpec extends BandOptions {
  /** Short name used in block ids; default the image file name without extension. */
  name?: string;
  /** One multi-band file, or single-band files stacked in this order. */
  image: string[];
  /** The truth mask file. */
  mask: string;
  /** Mask coding (see evaluate/mask-codings.ts); default 'auto'. */
  coding?: CodingName | 'auto';
}

export interface SceneBlockOptions extends BandOptions {
  /** Block size S in px. */
  size: number;
  /** Step between blocks in px; default S (no overlap). */
  stride?: number;
  /** Drop blocks with a larger fraction of nodata pixels; default 0.5. */
  maxNodataFraction?: number;
  /** Cloud pixels needed for label 1; blocks with 1 .. minCloudPixels-1 are dropped. Default 1. */
  minCloudPixels?: number;
}

/** Offsets of blocks of `size` with `stride` along an axis of `length`; the last one ends at the edge. */
export function blockOffsets(length: number, size: number, stride: number): number[] {
  if (!(size > 0 && Number.isInteger(size))) throw new RangeError(`block size must be a positive integer, got ${size}`);
  if (!(stride > 0 && Number.isInteger(stride))) throw new RangeError(`stride must be a positive integer, got ${stride}`);
  if (length < size) return [];
  const out: number[] = [];
  let p = 0;
  for (; p + size <= length; p += stride) out.push(p);
  const last = out[out.length - 1]!;
  if (last + size < length) out.push(length - size);
  return out;
}

export interface SceneBlockStats {
  scene: string;
  cloudy: number;
  clear: number;
  droppedNodata: number;
  droppedAmbiguous: number;
}

function merged(scene: SceneSpec, options: SceneBlockOptions): BandOptions {
  const o = bandOptionsOf(scene);
  const over = bandOptionsOf(options);
  return { ...o, ...over };
}

/** Blocks of one scene; `stats` is filled in when given. */
export async function sceneBlocks(
  scene: SceneSpec,
  options: SceneBlockOptions,
  stats?: SceneBlockStats[],
): Promise<BlockSource> {
  const size = options.size;
  const stride = options.stride ?? size;
  const maxNodata = options.maxNodataFraction ?? 0.5;
  const minCloud = options.minCloudPixels ?? 1;
  if (!Number.isInteger(size) || size < 1) throw new InputError(`block size must be a positive integer, got ${size}`, '--block-size');
  if (!Number.isInteger(stride) || stride < 1) throw new InputError(`stride must be a positive integer, got ${stride}`, '--stride');
  const name = scene.name ?? basename(scene.image[0]!, extname(scene.image[0]!));
  const bandOptions = merged(scene, options);

  // 1. Decode the mask to 0 clear / 1 cloud / 255 fill. It stays inside this function.
  const truth = await readMask(scene.mask, scene.coding ?? 'auto');
  const { width, height } = truth;
  const nodata = new Uint8Array(width * height);
  const cloud = new Uint8Array(width * height);
  for (let i = 0; i < nodata.length; i++) {
    const v = truth.mask[i]!;
    if (v === 255) nodata[i] = 1;
    else if (v === 1) cloud[i] = 1;
  }

  if (width < size || height < size) {
    throw new InputError(`scene is ${width} x ${height} px, smaller than the ${size} px block size`, scene.image.join(', '));
  }

  // 2. Image nodata, read in strips; the image values themselves are not kept.
  const source = await openRaster(scene.image);
  let bandCount: number;
  try {
    const where = source.paths.join(', ');
    checkMaskCoversImage(source, truth);
    const bands = resolveBands(bandOptions, source, where);
    bandCount = bands.length;
    const extra = bandOptions.nodataValue === undefined ? undefined : Math.fround(bandOptions.nodataValue);
    const declared = source.nodata === null ? null : Math.fround(source.nodata);
    const stripRows = Math.max(1, Math.floor((1 << 22) / Math.max(1, width * bands.length)));
    for (let y0 = 0; y0 < height; y0 += stripRows) {
      const rows = Math.min(stripRows, height - y0);
      const planes = await source.readWindow({ x: 0, y: y0, width, height: rows }, bands);
      const base = y0 * width;
      for (const plane of planes) {
        for (let i = 0; i < plane.length; i++) {
          const v = plane[i]!;
          if (Number.isNaN(v) || v === declared || v === extra) nodata[base + i] = 1;
        }
      }
    }
  } finally {
    await source.close();
  }

  // 3. One label per block.
  const xs = blockOffsets(width, size, stride);
  const ys = blockOffsets(height, size, stride);
  const blocks: BlockRef[] = [];
  const s: SceneBlockStats = { scene: name, cloudy: 0, clear: 0, droppedNodata: 0, droppedAmbiguous: 0 };
  const area = size * size;
  for (const y of ys) {
    for (const x of xs) {
      let bad = 0;
      let cloudy = 0;
      for (let r = y; r < y + size; r++) {
        const row = r * width;
        for (let c = x; c < x + size; c++) {
          const i = row + c;
          if (nodata[i]) bad++;
          else cloudy += cloud[i]!;
        }
      }
      if (bad / area > maxNodata) {
        s.droppedNodata++;
        continue;
      }
      let label: 0 | 1;
      if (cloudy >= minCloud) label = 1;
      else if (cloudy === 0) label = 0;
      else {
        s.droppedAmbiguous++;
        continue;
      }
      if (label) s.cloudy++;
      else s.clear++;
      blocks.push(
        blockRef({
          id: `${name}/x${x}_y${y}`,
          label,
          paths: [...scene.image],
          window: { x, y, width: size, height: size },
          size,
          bandCount,
          validFraction: 1 - bad / area,
          bandOptions,
        }),
      );
    }
  }
  stats?.push(s);
  const warnings: string[] = [];
  if (s.droppedNodata) warnings.push(`${name}: ${s.droppedNodata} block(s) dropped (more than ${maxNodata * 100} % nodata)`);
  if (s.droppedAmbiguous) warnings.push(`${name}: ${s.droppedAmbiguous} block(s) dropped (fewer than ${minCloud} cloud pixels)`);
  return { blocks, size, bandCount, warnings };
}

/** Blocks of several scenes, in scene order. All scenes must give the same number of bands. */
export async function scenesBlocks(
  scenes: SceneSpec[],
  options: SceneBlockOptions,
  stats?: SceneBlockStats[],
): Promise<BlockSource> {
  if (scenes.length === 0) throw new InputError('no scenes given');
  const blocks: BlockRef[] = [];
  const warnings: string[] = [];
  let bandCount: number | undefined;
  for (const scene of scenes) {
    const one = await sceneBlocks(scene, options, stats);
    if (bandCount !== undefined && one.bandCount !== bandCount) {
      throw new InputError(`scene gives ${one.bandCount} bands, earlier scenes gave ${bandCount}`, scene.image.join(', '));
    }
    bandCount = one.bandCount;
    blocks.push(...one.blocks);
    warnings.push(...one.warnings);
  }
  return { blocks, size: options.size, bandCount: bandCount!, warnings };
}

/**
 * Refuses a scene whose mask does not cover the image's pixels: another size, or, where both are georeferenced,
 * another grid (a mask of the right size but another place would label blocks wrongly without a word).
 */
export function checkMaskCoversImage(source: RasterSource, truth: DecodedMask): void {
  const where = source.paths.join(', ');
  if (source.width !== truth.width || source.height !== truth.height) {
    throw new InputError(`image is ${source.width} x ${source.height} px but its mask ${truth.path} is ${truth.width} x ${truth.height} px`, where);
  }
  const difference = maskGridDifference(source.georef, truth.georef);
  if (difference) throw new InputError(`its mask ${truth.path} lies on another grid: ${difference}`, where);
}

/** A scene's decoded mask, once it is checked to cover the scene's image (checkMaskCoversImage). */
export async function readSceneMask(scene: SceneSpec): Promise<DecodedMask> {
  const truth = await readMask(scene.mask, scene.coding ?? 'auto');
  const source = await openRaster(scene.image);
  try {
    checkMaskCoversImage(source, truth);
  } finally {
    await source.close();
  }
  return truth;
}
