// No data is never called clear, whichever way it is declared. The bundled Landsat scene marks it 0 (the preset's
// fill; its source's README says NaN); here the 0 is replaced by a fill value that the file declares (GDAL_NODATA, or
// the .aux.xml beside it), or that only --nodata names. Before, a declared value was ignored whenever the sensor
// preset had a fill of its own (every preset but rgb), so the footprint's outside came out clear; float values never
// matched (a float32 sample against a double), and --nodata replaced the preset's fill instead of adding to it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detect } from '../../src/detect/detect.js';
import { noGdal, readWithGdal, SYSTEM_PYTHON, tempDir } from '../raster/helpers.js';

const SAMPLE = join(import.meta.dirname, '../../samples/landsat8-longisland-120m/LC80130312015295LGN00_');
const BANDS = [2, 3, 4, 5].map((b) => `${SAMPLE}B${b}_toa.tif`);

/**
 * The four sample bands as one float32 GeoTIFF, their no data (0 outside the footprint) replaced by `fill`, declaring `declared` (or nothing): in the
 * GDAL_NODATA tag, or with PROFILE=GeoTIFF in the PAM sidecar `.aux.xml`.
 */
function stack(path: string, fill: string, declared: string | null, profile?: string): void {
  const made = profile ? `${path}.tag.tif` : path;
  execFileSync(SYSTEM_PYTHON, ['-c', [
    'from osgeo import gdal',
    'import numpy as np',
    `names = ${JSON.stringify(BANDS)}`,
    'first = gdal.Open(names[0])',
    `out = gdal.GetDriverByName('GTiff').Create('${made}', first.RasterXSize, first.RasterYSize, 4, gdal.GDT_Float32)`,
    'out.SetGeoTransform(first.GetGeoTransform()); out.SetProjection(first.GetProjection())',
    'for i, n in enumerate(names):',
    '    a = gdal.Open(n).ReadAsArray().astype(np.float32)',
    `    a[np.isnan(a) | (a == 0)] = np.float32(${fill})`,
    '    b = out.GetRasterBand(i + 1); b.WriteArray(a)',
    ...(declared === null ? [] : [`    b.SetNoDataValue(${declared})`]),
    'out = None',
    // GDAL writes the tag on Create whatever the profile; translating moves the value into the sidecar.
    ...(profile ? [`gdal.Translate('${path}', '${made}', creationOptions=['PROFILE=${profile}'])`] : []),
  ].join('\n')], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (profile) assert.match(readFileSync(`${path}.aux.xml`, 'utf8'), /<NoDataValue>/, 'the value is in the sidecar');
}

describe('declared and given nodata values', { skip: noGdal }, () => {
  const dir = tempDir();

  it('a file-declared -9999 or float32 minimum, or --nodata naming a float, gives the sample\'s own mask', async () => {
    await detect(BANDS, { mask: join(dir, 'reference.tif') });
    const reference = readWithGdal(join(dir, 'reference.tif'), dir).bands[0]!;
    const outside = reference.filter((v) => v === 255).length;
    assert.ok(outside > 0.1 * reference.length, `${outside} nodata pixels in the reference`);
    const cases: [string, string, string | null, number | undefined, string?][] = [
      ['declared-9999', '-9999', '-9999', undefined],
      // Read from the .aux.xml beside the file: before, those pixels came out clear.
      ['declared-9999-aux', '-9999', '-9999', undefined, 'GeoTIFF'],
      // gdalinfo prints the float32 minimum as -3.4028235e+38, which is not the double the sample reads as
      ['declared-min', '-3.4028235e+38', '-3.4028235e+38', undefined],
      ['given-0.1', '0.1', null, 0.1],
    ];
    for (const [name, fill, declared, given, profile] of cases) {
      const input = join(dir, `${name}.tif`);
      stack(input, fill, declared, profile);
      const summary = await detect([input], { mask: join(dir, `${name}-mask.tif`), ...(given === undefined ? {} : { nodata: given }) });
      assert.equal(summary.nodataFraction, outside / reference.length, name);
      const mask = readWithGdal(join(dir, `${name}-mask.tif`), dir).bands[0]!;
      for (let i = 0; i < mask.length; i++) if (mask[i] !== reference[i]) assert.fail(`${name}: pixel ${i} is ${mask[i]}, ${reference[i]} in the sample`);
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
