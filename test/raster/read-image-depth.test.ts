// PNG samples as stored: 16-bit PNGs keep their 16-bit values (sharp's plain raw output is 8-bit sRGB: 1 read 0,
// 1000 read 3), grey PNGs read as one band and grey + alpha as one band with its transparent pixels NaN (sharp
// expands grey to three channels, which the reader reported as "corrupt"). GDAL is the independent reader.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openRaster } from '../../src/raster/index.js';
import { DATA, assertSameValues, gdal, noGdal, readWithGdal, tempDir, SYSTEM_PYTHON } from './helpers.js';

const BIOME_MASK = `${DATA}/l8biome/test/masks/Forest_01_2715.tif`;
const CLOUD38 = `${DATA}/landsat8-38cloud`;
const PATCH = 'patch_192_10_by_12_LC08_L1TP_002053_20160520_20170324_01_T1.TIF';

async function readAll(path: string) {
  const source = await openRaster([path]);
  try {
    const bands = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height });
    return { bandCount: source.bandCount, sampleType: source.sampleType, bands };
  } finally {
    await source.close();
  }
}

describe('PNG sample depth and grey channels', { skip: noGdal }, () => {
  const dir = tempDir();

  it('a 16-bit grey PNG (an L8 Biome mask as 0/1 and 0/1000) keeps its values', async () => {
    for (const [name, scale] of [['cloud01.png', 1], ['cloud1000.png', 1000]] as const) {
      const path = join(dir, name);
      // cloud (192 thin, 255 thick) -> scale, everything else 0, written as UInt16 PNG by GDAL
      gdal('gdal_calc.py', '--quiet', '-A', BIOME_MASK, '--type', 'UInt16', '--format', 'GTiff', '--outfile', `${path}.tif`, '--calc', `(A>=192)*${scale}`);
      gdal('gdal_translate', '-q', '-a_nodata', 'none', '-of', 'PNG', `${path}.tif`, path); // no tRNS (alpha)
      const expected = readWithGdal(path, dir);
      const got = await readAll(path);
      assert.equal(got.bandCount, 1);
      assert.equal(got.sampleType, 'uint16');
      assertSameValues(got.bands[0]!, expected.bands[0]!, name);
      assert.ok(expected.bands[0]!.includes(scale) && expected.bands[0]!.includes(0));
    }
  });

  it('a 16-bit RGB PNG (the 38-Cloud red, green, blue DN bands) reads as GDAL reads it', async () => {
    const path = join(dir, 'rgb16.png');
    const vrt = join(dir, 'rgb16.vrt');
    gdal('gdalbuildvrt', '-q', '-separate', vrt, ...['red', 'green', 'blue'].map((b) => `${CLOUD38}/${b}_${PATCH}`));
    gdal('gdal_translate', '-q', '-of', 'PNG', vrt, path);
    const expected = readWithGdal(path, dir);
    assert.ok(expected.bands[0]!.some((v) => v > 255), 'the DN need 16 bits');
    const got = await readAll(path);
    assert.equal(got.sampleType, 'uint16');
    assert.equal(got.bandCount, 3);
    got.bands.forEach((band, b) => assertSameValues(band, expected.bands[b]!, `band ${b + 1}`));
  });

  it('a grey PNG of the shared data reads as one band, as GDAL reads it', async () => {
    const path = `${DATA}/approx-figure-labels/hrc_whu/0.01_snow_10_mask.png`;
    const expected = readWithGdal(path, dir);
    assert.equal(expected.bands.length, 1);
    const got = await readAll(path);
    assert.equal(got.bandCount, 1);
    assert.equal(got.sampleType, 'uint8');
    assertSameValues(got.bands[0]!, expected.bands[0]!);
  });

  it('grey + alpha PNGs (8 and 16 bit) read as grey and alpha, transparent pixels NaN', async () => {
    for (const type of ['Byte', 'UInt16'] as const) {
      const path = join(dir, `grey-alpha-${type}.png`);
      // the Biome mask as grey, and an alpha that is 0 on the mask's shadow pixels (64)
      const max = type === 'Byte' ? 255 : 65535;
      gdal(SYSTEM_PYTHON, '-c', [
        'from osgeo import gdal',
        `a = gdal.Open('${BIOME_MASK}').ReadAsArray().astype('uint16')`,
        `m = gdal.GetDriverByName('MEM').Create('', a.shape[1], a.shape[0], 2, gdal.GDT_${type})`,
        'm.GetRasterBand(1).WriteArray(a)',
        `m.GetRasterBand(2).WriteArray((a != 64) * ${max})`,
        'm.GetRasterBand(2).SetColorInterpretation(gdal.GCI_AlphaBand)',
        `gdal.GetDriverByName('PNG').CreateCopy('${path}', m)`,
      ].join('\n'));
      const expected = readWithGdal(path, dir);
      const got = await readAll(path);
      assert.equal(got.bandCount, 2, type);
      assert.equal(got.sampleType, type === 'Byte' ? 'uint8' : 'uint16');
      let hidden = 0;
      for (let i = 0; i < expected.bands[0]!.length; i++) {
        const transparent = expected.bands[1]![i] === 0;
        const want = transparent ? NaN : expected.bands[0]![i]!;
        if (!Object.is(got.bands[0]![i], want)) assert.fail(`${type} pixel ${i}: ${got.bands[0]![i]}, expected ${want}`);
        if (transparent) hidden++;
      }
      assert.equal(hidden, 10307, 'the shadow pixels');
    }
  });
});
