/**
 * Training data named on the command line, one string each:
 *   l8biome:train | l8biome:val | l8biome:test | gf1:train | gf1:test | approx | 38cloud   bundled catalogue scenes
 *   l8biome-rgb:SPLIT[:R+R...]   the L8 Biome split rendered as 8-bit display RGB, renderings R (default all:
 *                        gamma+soft+linear; see display-rgb.ts), for the `rgb` model
 *   scenes:LIST.csv      user scenes with pixel masks: `image[;image...],mask[,coding]` per line
 *   blocks:DIR           a folder with cloudy/ and clear/ block images
 *   blocks:FILE.csv      a CSV of `path,label`
 *   wdcd:DIR[:SPLIT]     the WDCD dataset layout (4-band TIFF blocks + `_bl.npy` labels), optionally one split
 *   wdcd:DIR:LIST.txt    the same, the blocks named in a list file
 * Scenes become block labels (cloudy if the block holds cloud); the masks never reach the model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { CODING_NAMES, isCodingName } from '../evaluate/mask-codings.js';
import { blockCsv, blockFolder } from './block-folder.js';
import type { BandOptions, BlockSource } from './blocks.js';
import { approxFigureLabels, gf1, l8biome, l8biomeRgb, landsat38cloud, type CatalogScene } from './catalog.js';
import type { DisplayRendering } from './display-rgb.js';
import { scenesBlocks, splitCsvLine, type SceneSpec } from './index.js';
import { wdcdLayout } from './wdcd-layout.js';

export const SOURCE_SPEC_HELP = 'l8biome:{train,val,test}, l8biome-rgb:{train,val,test}[:gamma+soft+linear], gf1:{train,test}, approx, 38cloud, scenes:LIST.csv, blocks:DIR|CSV, wdcd:DIR[:SPLIT|:LIST.txt]';

/** Scenes with masks named by a spec, or null when the spec names blocks rather than scenes. */
export async function scenesOf(spec: string): Promise<SceneSpec[] | null> {
  const [kind, ...rest] = spec.split(':');
  const arg = rest.join(':');
  switch (kind) {
    case 'l8biome':
      return l8biome(arg as 'train');
    case 'l8biome-rgb': {
      const [split, renderings] = rest;
      return l8biomeRgb(split as 'train', renderings ? (renderings.split('+') as DisplayRendering[]) : undefined);
    }
    case 'gf1':
      return gf1(arg as 'train');
    case 'approx':
    case '38cloud':
      // They name one catalogue set each: `approx:val` would otherwise read the whole set as if it were a split.
      if (rest.length > 0 && arg !== '') throw new InputError(`"${kind}" names one catalogue set and takes no split or path (got "${spec}")`);
      return kind === 'approx' ? approxFigureLabels() : landsat38cloud();
    case 'scenes':
      return sceneList(arg);
    case 'blocks':
    case 'wdcd':
      return null;
    default:
      throw new InputError(`unknown data source "${spec}" (one of ${SOURCE_SPEC_HELP})`);
  }
}

/** Whether a spec names the user's own data (stored values as they are), not a catalogue source with its own preset. */
export function isUserSource(spec: string): boolean {
  return /^(scenes|blocks|wdcd):/.test(spec);
}

/** Band names of a catalogue spec (for the model description), when the spec fixes them. */
export async function bandNamesOf(spec: string): Promise<string[] | undefined> {
  const scenes = await scenesOf(spec);
  return (scenes?.[0] as CatalogScene | undefined)?.bandNames;
}

function sceneList(csvPath: string): SceneSpec[] {
  let text: string;
  try {
    text = readFileSync(csvPath, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the scene list (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, csvPath);
  }
  const base = dirname(resolve(csvPath));
  const scenes: SceneSpec[] = [];
  text.split(/\r?\n/).forEach((line, n) => {
    if (!line.trim() || line.trim().startsWith('#')) return;
    const cells = splitCsvLine(line);
    if (scenes.length === 0 && (/^(images?|paths?|files?|scenes?)$/i.test(cells[0].trim()) || /^(masks?|truth)$/i.test(cells[1]?.trim() ?? ''))) return; // a header row
    if (cells.length < 2) throw new InputError(`line ${n + 1}: expected image[;image...],mask[,coding]`, csvPath);
    const coding = cells[2]?.trim() || 'auto';
    if (coding !== 'auto' && !isCodingName(coding)) {
      throw new InputError(`line ${n + 1}: unknown mask coding "${coding}"; use auto or one of: ${CODING_NAMES.join(', ')}`, csvPath);
    }
    const image = cells[0].split(';').map((p) => p.trim());
    const mask = cells[1].trim();
    // Said with the line: paths written relative to the working folder instead of the list's are the usual cause.
    for (const p of [...image, mask]) {
      if (!existsSync(resolve(base, p))) throw new InputError(`line ${n + 1}: no file ${p} (${resolve(base, p)}; paths are relative to the scene list's folder)`, csvPath);
    }
    scenes.push({ image: image.map((p) => resolve(base, p)), mask: resolve(base, mask), coding });
  });
  if (scenes.length === 0) throw new InputError('the scene list names no scenes', csvPath);
  return scenes;
}

/** Lazy labelled blocks of a spec. `bandOptions` override the catalogue's presets (band choice, scaling). */
export async function blocksOf(spec: string, blockSize: number, stride: number, bandOptions: BandOptions = {}, minCloudPixels?: number): Promise<BlockSource> {
  const [kind, ...rest] = spec.split(':');
  const arg = rest.join(':');
  const scenes = await scenesOf(spec);
  if (scenes) return scenesBlocks(scenes, { size: blockSize, stride, minCloudPixels, ...bandOptions });
  if (kind === 'blocks') return arg.toLowerCase().endsWith('.csv') ? blockCsv(arg, bandOptions) : blockFolder(arg, bandOptions);
  // The part after the folder is a split name, or a list file of block names (one that ends in .txt).
  const [root, split] = arg.split(':');
  return wdcdLayout(root, { ...bandOptions, ...(split?.toLowerCase().endsWith('.txt') ? { listFile: split } : { split }) });
}
