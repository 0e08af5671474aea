/**
 * Ready-made scene lists for the shared real data (see the data README). Each entry is a SceneSpec (image file(s),
 * mask, coding, band preset) for `sceneBlocks`/`evaluateFiles`, plus the band names of the preset.
 *
 * Data root: `$WDCD_DATA` when set, else `../shared/data` relative to the repository root.
 *
 * Band presets (the order every preset uses: blue, green, red[, NIR]):
 * - l8biome: bands 0..3 of the 8-band TIFF (blue, green, red, NIR), already TOA reflectance: no scaling.
 * - gf1: RGB JPEG reordered to blue, green, red (bands 2, 1, 0), scaled by 1/255 (display product, no NIR).
 * - l8biomeRgb: the L8 Biome scenes rendered as 8-bit display RGB PNGs (display-rgb.ts), one scene per rendering,
 *   with the gf1 preset (blue, green, red = bands 2, 1, 0, scaled by 1/255) and the L8 Biome masks.
 * - approxFigureLabels: RGB PNG reordered to blue, green, red, scaled by 1/255. Approximate labels: training and
 *   visual checks only, never reported accuracy (`trainingOnly: true`).
 * - landsat38cloud: the separate blue, green, red, NIR DN files stacked in that order; DN -> TOA reflectance
 *   (without sun-angle correction) with the Landsat 8 Collection 1 rescaling 2e-5 * DN - 0.1; DN 0 is fill.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { DISPLAY_RENDERINGS, displayRgbFile, type DisplayRendering } from './display-rgb.js';
import type { SceneSpec } from './scene-blocks.js';

export interface CatalogScene extends SceneSpec {
  name: string;
  /** Names of the output bands of the preset, in order. */
  bandNames: string[];
  /** Dataset and split, e.g. 'l8biome/train'. */
  dataset: string;
  /** Labels too approximate for reported accuracy. */
  trainingOnly?: boolean;
}

/** The shared data folder: $WDCD_DATA, else ../shared/data next to the repository. */
export function dataRoot(): string {
  const env = process.env['WDCD_DATA'];
  if (env) return resolve(env);
  // This file is src/datasets/catalog.ts (or dist/datasets/catalog.js): the repository root is two folders up.
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  return resolve(repo, '..', 'shared', 'data');
}

function folder(...parts: string[]): string {
  const dir = join(dataRoot(), ...parts);
  if (!existsSync(dir)) {
    throw new InputError('data folder not found; set WDCD_DATA to the shared data folder', dir);
  }
  return dir;
}

function files(dir: string, test: (name: string) => boolean): string[] {
  return readdirSync(dir)
    .filter(test)
    .sort();
}

export type L8BiomeSplit = 'train' | 'val' | 'test';

/** L8 Biome subsets: 13 train, 7 val, 5 test scenes of 256 x 256 px. */
export function l8biome(split: L8BiomeSplit): CatalogScene[] {
  if (!['train', 'val', 'test'].includes(split)) throw new InputError(`unknown L8 Biome split "${split}" (train, val, test)`);
  const images = folder('l8biome', split, 'images');
  const masks = folder('l8biome', split, 'masks');
  return files(images, (n) => /\.tif$/i.test(n)).map((n) => ({
    name: basename(n, '.tif'),
    image: [join(images, n)],
    mask: join(masks, n),
    coding: 'l8biome',
    bands: [0, 1, 2, 3],
    bandNames: ['blue', 'green', 'red', 'nir'],
    dataset: `l8biome/${split}`,
  }));
}

/**
 * L8 Biome subsets as 8-bit display RGB (red, green, blue PNGs, rendered once into a cache), one scene per
 * rendering (default all of DISPLAY_RENDERINGS), for the `rgb` model. Masks are the L8 Biome masks.
 */
export async function l8biomeRgb(split: L8BiomeSplit, renderings: readonly DisplayRendering[] = DISPLAY_RENDERINGS): Promise<CatalogScene[]> {
  for (const r of renderings) {
    if (!DISPLAY_RENDERINGS.includes(r)) throw new InputError(`unknown display rendering "${r}" (${DISPLAY_RENDERINGS.join(', ')})`);
  }
  const scenes = l8biome(split);
  const out: CatalogScene[] = [];
  for (const rendering of renderings) {
    for (const s of scenes) {
      out.push({
        name: `${s.name}_${rendering}`,
        // L8 Biome bands 0..3 are blue, green, red, NIR: the PNG stores red, green, blue.
        image: [await displayRgbFile(s.image[0]!, [2, 1, 0], rendering)],
        mask: s.mask,
        coding: 'l8biome' as const,
        bands: [2, 1, 0],
        scale: 1 / 255,
        bandNames: ['blue', 'green', 'red'],
        dataset: `l8biome-rgb/${split}/${rendering}`,
      });
    }
  }
  return out;
}

/** GF-1 CloudMattingGAN slices: 6 train, 6 test scenes of 512 x 512 px (clear, thick and thin cloud). */
export function gf1(split: 'train' | 'test'): CatalogScene[] {
  if (!['train', 'test'].includes(split)) throw new InputError(`unknown GF-1 split "${split}" (train, test)`);
  const root = folder('gf1', split);
  const out: CatalogScene[] = [];
  for (const kind of files(root, (n) => n.endsWith('_slice'))) {
    const dir = join(root, kind);
    for (const n of files(dir, (f) => /\.jpg$/i.test(f))) {
      const stem = basename(n, '.jpg');
      out.push({
        name: `${kind.replace('_slice', '')}/${stem}`,
        image: [join(dir, n)],
        mask: join(dir, `${stem}.png`),
        coding: 'gf1-png',
        bands: [2, 1, 0],
        scale: 1 / 255,
        bandNames: ['blue', 'green', 'red'],
        dataset: `gf1/${split}`,
      });
    }
  }
  return out;
}

/** The 24 approximate figure-label pairs (GF-1, GF-2, HRC_WHU renders, 693 x 693 px). Training/visual only. */
export function approxFigureLabels(): CatalogScene[] {
  const root = folder('approx-figure-labels');
  const out: CatalogScene[] = [];
  for (const group of files(root, (n) => existsSync(join(root, n)) && !n.includes('.'))) {
    const dir = join(root, group);
    for (const n of files(dir, (f) => f.endsWith('_img.png'))) {
      const stem = n.slice(0, -'_img.png'.length);
      out.push({
        name: `${group}/${stem}`,
        image: [join(dir, n)],
        mask: join(dir, `${stem}_mask.png`),
        coding: 'approx',
        bands: [2, 1, 0],
        scale: 1 / 255,
        bandNames: ['blue', 'green', 'red'],
        dataset: `approx-figure-labels/${group}`,
        trainingOnly: true,
      });
    }
  }
  return out;
}

/** The 38-Cloud patch: separate blue, green, red, NIR files stacked in that order, gt mask 0/255. */
export function landsat38cloud(): CatalogScene[] {
  const dir = folder('landsat8-38cloud');
  const gts = files(dir, (n) => /^gt_.*\.tif$/i.test(n));
  return gts.map((gt) => {
    const id = gt.slice('gt_'.length);
    const band = (b: string) => {
      const p = join(dir, `${b}_${id}`);
      if (!existsSync(p)) throw new InputError(`missing the ${b} band file of ${gt}`, p);
      return p;
    };
    return {
      name: id.replace(/\.tif$/i, ''),
      image: ['blue', 'green', 'red', 'nir'].map(band),
      mask: join(dir, gt),
      coding: '38cloud' as const,
      scale: 2e-5,
      offset: -0.1,
      nodataValue: 0,
      bandNames: ['blue', 'green', 'red', 'nir'],
      dataset: 'landsat8-38cloud',
    };
  });
}
