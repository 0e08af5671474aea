// Test helpers (not a test file): small block folders cut from real L8 Biome training scenes, labelled from their
// masks the way a person would (cloudy if the block holds cloud or thin cloud), written as block TIFFs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readMask } from '../../src/evaluate/mask-codings.js';
import { openRaster } from '../../src/raster/open.js';
import { writeTiff } from '../datasets/helpers.js';

export const BIOME = '/work/shared/data/l8biome/train';
const SCENES = ['Barren_00_0214', 'Barren_01_0213', 'Forest_03_0209', 'GrassCrops_02_0608'];

export interface RealBlock {
  path: string;
  label: 0 | 1;
}

/**
 * Writes `perClass` cloudy and `perClass` clear blocks of `size` px (blue, green, red, NIR) under `dir/cloudy` and
 * `dir/clear`: float32 reflectance as stored, or uint16 DN (reflectance x 10000) with `dn`.
 */
export async function writeRealBlocks(dir: string, options: { size?: number; perClass?: number; dn?: boolean } = {}): Promise<RealBlock[]> {
  const size = options.size ?? 48;
  const perClass = options.perClass ?? 3;
  const out: RealBlock[] = [];
  const count = [0, 0];
  for (const sub of ['cloudy', 'clear']) mkdirSync(join(dir, sub), { recursive: true });
  for (const name of SCENES) {
    const truth = await readMask(join(BIOME, 'masks', `${name}.tif`), 'l8biome');
    const source = await openRaster([join(BIOME, 'images', `${name}.tif`)]);
    try {
      for (let y = 0; y + size <= source.height; y += size) {
        for (let x = 0; x + size <= source.width; x += size) {
          let fill = false;
          let cloud = false;
          for (let r = y; r < y + size; r++) {
            for (let c = x; c < x + size; c++) {
              const v = truth.mask[r * truth.width + c];
              if (v === 255) fill = true;
              else if (v === 1) cloud = true;
            }
          }
          const label = cloud ? 1 : 0;
          if (fill || count[label]! >= perClass) continue;
          count[label]!++;
          const planes = await source.readWindow({ x, y, width: size, height: size }, [0, 1, 2, 3]);
          const path = join(dir, label ? 'cloudy' : 'clear', `${name}_${x}_${y}.tif`);
          await writeTiff(path, size, size, options.dn ? planes.map((p) => Uint16Array.from(p, (v) => Math.round(v * 10_000))) : planes);
          out.push({ path, label });
        }
      }
    } finally {
      await source.close();
    }
    if (count[0] === perClass && count[1] === perClass) return out;
  }
  throw new Error(`found only ${count[1]} cloudy and ${count[0]} clear blocks`);
}
