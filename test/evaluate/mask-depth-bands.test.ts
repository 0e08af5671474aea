// Truth masks as stored: 16-bit PNG masks keep their values (they were read as 8-bit: 1 -> 0, 255 -> 0, 1000 -> 3,
// silently wrong scores), grey + alpha PNGs read as grey, and a multi-band TIFF whose bands differ (a colour mask) is
// refused as a PNG one is, instead of being read as its band 1. Masks are made with GDAL from a real L8 Biome mask.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { evaluateFiles, readMask, readRawMask } from '../../src/evaluate/index.js';
import { dataRoot } from '../../src/datasets/catalog.js';
import { tempDir } from '../datasets/helpers.js';

const BIOME_MASK = join(dataRoot(), 'l8biome/test/masks/Forest_01_2715.tif'); // 64 shadow, 128 clear, 192 thin, 255 cloud
const noGdal = spawnSync('gdalinfo', ['--version']).status === 0 ? false : 'gdalinfo not installed';

/** Runs GDAL's Python with `a` = the Biome mask (uint16 array) and `write(path, bands, type, alpha=False)`. */
function gdalPython(script: string): void {
  execFileSync('/usr/bin/python3', ['-c', [
    'from osgeo import gdal',
    'import numpy as np',
    `a = gdal.Open('${BIOME_MASK}').ReadAsArray().astype('uint16')`,
    'def write(path, bands, type, alpha=False):',
    "    driver = 'PNG' if path.endswith('.png') else 'GTiff'",
    "    m = gdal.GetDriverByName('MEM').Create('', a.shape[1], a.shape[0], len(bands), type)",
    '    for i, b in enumerate(bands): m.GetRasterBand(i + 1).WriteArray(b)',
    '    if alpha: m.GetRasterBand(len(bands)).SetColorInterpretation(gdal.GCI_AlphaBand)',
    '    gdal.GetDriverByName(driver).CreateCopy(path, m)',
    script,
  ].join('\n')], { stdio: ['ignore', 'ignore', 'pipe'] });
}

describe('16-bit and multi-band masks', { skip: noGdal }, () => {
  const { dir, cleanup } = tempDir('mask-depth');
  after(cleanup);
  let cloud = 0; // cloud pixels of the Biome mask (192 and 255)

  it('16-bit PNG masks keep their values: 0/255 and 0/1 score as the truth they came from; 0/1000 is refused', async () => {
    gdalPython([
      `write('${dir}/gt255.png', [(a >= 192) * 255], gdal.GDT_UInt16)`,
      `write('${dir}/approx01.png', [(a >= 192) * 1], gdal.GDT_UInt16)`,
      `write('${dir}/cloud1000.png', [(a >= 192) * 1000], gdal.GDT_UInt16)`,
      `write('${dir}/pred.tif', [(a >= 192) * 1], gdal.GDT_Byte)`,
    ].join('\n'));
    const biome = await readMask(BIOME_MASK, 'l8biome');
    cloud = biome.mask.filter((v) => v === 1).length;
    assert.equal(cloud, 9973 + 30732);
    for (const [name, coding] of [['gt255.png', '38cloud'], ['approx01.png', 'approx']] as const) {
      const m = await readMask(join(dir, name), coding);
      assert.deepEqual(m.mask, biome.mask, name);
      // eval of a perfect prediction against it: every cloud pixel found
      const report = await evaluateFiles([{ prediction: join(dir, 'pred.tif'), truth: join(dir, name) }], { coding });
      assert.deepEqual([report.pooled.tp, report.pooled.fn, report.pooled.fp], [cloud, 0, 0], name);
    }
    const raw = await readRawMask(join(dir, 'cloud1000.png'));
    assert.equal(raw.values.filter((v) => v === 1000).length, cloud);
    for (const coding of ['approx', 'auto']) {
      await assert.rejects(
        readMask(join(dir, 'cloud1000.png'), coding),
        (e: unknown) => e instanceof InputError && e.message.includes('cloud1000.png') && /1000/.test(e.message),
        coding,
      );
    }
  });

  it('a grey + alpha PNG mask reads as its grey values', async () => {
    gdalPython(`write('${dir}/grey-alpha.png', [a, np.full_like(a, 255)], gdal.GDT_Byte, alpha=True)`);
    const m = await readMask(join(dir, 'grey-alpha.png'), 'l8biome');
    assert.deepEqual(m.mask, (await readMask(BIOME_MASK, 'l8biome')).mask);
  });

  it('a multi-band TIFF mask whose bands differ is refused (as a colour PNG is); equal bands read as one', async () => {
    gdalPython([
      // a colour mask: cloud red (255, 0, 0), clear black
      `write('${dir}/colour.tif', [(a >= 192) * 255, a * 0, a * 0], gdal.GDT_Byte)`,
      `write('${dir}/colour.png', [(a >= 192) * 255, a * 0, a * 0], gdal.GDT_Byte)`,
      `write('${dir}/same3.tif', [a, a, a], gdal.GDT_Byte)`,
      // grey + alpha, as gdalwarp -dstalpha writes it: alpha 0 on the shadow pixels
      `write('${dir}/grey-alpha.tif', [a, (a != 64) * 255], gdal.GDT_Byte, alpha=True)`,
      // a second band that is no alpha (0 on the shadow pixels, no alpha colour interpretation)
      `write('${dir}/two.tif', [a, (a != 64) * 255], gdal.GDT_Byte)`,
    ].join('\n'));
    for (const name of ['colour.tif', 'colour.png']) {
      for (const use of [() => readMask(join(dir, name), '38cloud'), () => evaluateFiles([{ prediction: BIOME_MASK, truth: join(dir, name) }], { coding: '38cloud', predictionCoding: 'l8biome' })]) {
        await assert.rejects(use(), (e: unknown) => e instanceof InputError && e.message.includes(name) && /differing (bands|colour channels) at pixel/.test(e.message), name);
      }
    }
    await assert.rejects(readMask(join(dir, 'two.tif'), 'l8biome'), (e: unknown) => e instanceof InputError && /two\.tif.*differing bands at pixel/.test(e.message));
    const biome = await readMask(BIOME_MASK, 'l8biome');
    assert.deepEqual((await readMask(join(dir, 'same3.tif'), 'l8biome')).mask, biome.mask);
    // the transparent (shadow) pixels are excluded, the rest read as band 1
    const alpha = await readMask(join(dir, 'grey-alpha.tif'), 'l8biome');
    const raw = (await readRawMask(BIOME_MASK)).values;
    assert.deepEqual(alpha.mask, biome.mask.map((v, i) => (raw[i] === 64 ? 255 : v)));
    assert.equal(alpha.mask.filter((v) => v === 255).length, 10307);
  });
});
