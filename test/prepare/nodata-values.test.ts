// No data is never called clear, whichever way it is declared. The bundled Landsat scene marks it NaN; here the
// NaN is replaced by a fill value that the file declares (GDAL_NODATA), or that only --nodata names. Before, a
// declared value was ignored whenever the sensor preset had a fill of its own (every preset but rgb), so the
// footprint's outside came out clear; float values never matched (a float32 sample against a double), and
// --nodata replaced the preset's fill instead of adding to it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detect } from '../../src/detect/detect.js';
import { noGdal, readWithGdal, SYSTEM_PYTHON, tempDir } from '../raster/helpers.js';

const SAMPLE = join(import.meta.dirname, '../../samples/landsat8-longisland-120m/LC80130312015295LGN00_');
const BANDS = [2, 3, 4, 5].map((b) => `${SAMPLE}B${b}_toa.tif`);

/** The four sample bands as one float32 GeoTIFF, NaN replaced by `fill`, declaring `declared` (or nothing). */
function stack(path: string, fill: string, declared: string | null): void {
  execFileSync(SYSTEM_PYTHON, ['-c', [
    'from osgeo import gdal',
    'import numpy as np',
    `names = ${JSON.stringify(BANDS)}`,
    'first = gdal.Open(names[0])',
    `out = gdal.GetDriverByName('GTiff').Create('${path}', first.RasterXSize, first.RasterYSize, 4, gdal.GDT_Float32)`,
    'out.SetGeoTransform(first.GetGeoTransform()); out.SetProjection(first.GetProjection())',
    'for i, n in enumerate(names):',
    '    a = gdal.Open(n).ReadAsArray().astype(np.float32)',
    `    a[np.isnan(a)] = np.float32(${fill})`,
    '    b = out.GetRasterBand(i + 1); b.WriteArray(a)',
    ...(declared === null ? [] : [`    b.SetNoDataValue(${declared})`]),
    'out = None',
  ].join('\n')], { stdio: ['ignore', 'ignore', 'pipe'] });
}

describe('declared and given nodata values', { skip: noGdal }, () => {
  const dir = tempDir();

  it('a file-declared -9999 or float32 minimum, or --nodata naming a float, gives the NaN scene\'s mask', async () => {
    await detect(BANDS, { mask: join(dir, 'reference.tif') });
    const reference = readWithGdal(join(dir, 'reference.tif'), dir).bands[0]!;
    const outside = reference.filter((v) => v === 255).length;
    assert.ok(outside > 0.1 * reference.length, `${outside} nodata pixels in the reference`);
    const cases: [string, string, string | null, number | undefined][] = [
      ['declared-9999', '-9999', '-9999', undefined],
      // gdalinfo prints the float32 minimum as -3.4028235e+38, which is not the double the sample reads as
      ['declared-min', '-3.4028235e+38', '-3.4028235e+38', undefined],
      ['given-0.1', '0.1', null, 0.1],
    ];
    for (const [name, fill, declared, given] of cases) {
      const input = join(dir, `${name}.tif`);
      stack(input, fill, declared);
      const summary = await detect([input], { mask: join(dir, `${name}-mask.tif`), ...(given === undefined ? {} : { nodata: given }) });
      assert.equal(summary.nodataFraction, outside / reference.length, name);
      const mask = readWithGdal(join(dir, `${name}-mask.tif`), dir).bands[0]!;
      for (let i = 0; i < mask.length; i++) if (mask[i] !== reference[i]) assert.fail(`${name}: pixel ${i} is ${mask[i]}, ${reference[i]} with NaN`);
    }
  });

  it('--nodata adds to the preset\'s fill: 0 outside the footprint stays no data with --nodata 5', async () => {
    const input = join(dir, 'zero.tif');
    stack(input, '0', null);
    const summary = await detect([input], { mask: join(dir, 'zero-mask.tif'), nodata: 5 });
    const reference = await detect(BANDS, { mask: join(dir, 'reference2.tif') });
    assert.equal(summary.nodataFraction, reference.nodataFraction);
  });
});
