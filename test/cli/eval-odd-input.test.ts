// `wdcd eval` from the command line on odd input: a palette PNG prediction (index 1 drawn white) scores as its
// indices, a pair with nothing scored gives a warning and nulls in valid JSON, and a file given as its own truth is
// refused with exit 2 and nothing on stdout. The library cases are in test/evaluate/odd-input.test.ts.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { show, wdcd } from './helpers.js';

const TRUTH = '/work/shared/data/l8biome/test/masks/Forest_01_2715.tif'; // 40705 cloud, 24831 clear pixels
const noGdal = spawnSync('gdalinfo', ['--version']).status === 0 ? false : 'gdalinfo not installed';

describe('wdcd eval on odd input', { skip: noGdal }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-eval-odd-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const [palette, fill, pred] = ['pal01.png', 'fill.tif', 'pred.tif'].map((n) => join(dir, n)) as [string, string, string];
  if (!noGdal) {
    execFileSync('/usr/bin/python3', ['-c', [
      'from osgeo import gdal',
      `a = gdal.Open('${TRUTH}').ReadAsArray()`,
      'def write(path, b, driver, palette=None):',
      "    m = gdal.GetDriverByName('MEM').Create('', 256, 256, 1, gdal.GDT_Byte)",
      '    m.GetRasterBand(1).WriteArray(b)',
      '    if palette:',
      '        ct = gdal.ColorTable()',
      '        for i, c in enumerate(palette): ct.SetColorEntry(i, c)',
      '        m.GetRasterBand(1).SetRasterColorTable(ct)',
      '    gdal.GetDriverByName(driver).CreateCopy(path, m)',
      `write('${palette}', (a >= 192).astype('uint8'), 'PNG', [(0, 0, 0, 255), (255, 255, 255, 255)])`,
      `write('${pred}', (a >= 192).astype('uint8'), 'GTiff')`,
      `write('${fill}', a * 0, 'GTiff')`,
    ].join('\n')]);
  }

  it('a palette PNG scores as its indices; an all-fill truth warns and gives nulls in valid JSON', async () => {
    const run = await wdcd(['eval', palette, TRUTH, pred, fill, '--coding', 'l8biome', '--json']);
    assert.equal(run.code, 0, show(run));
    const report = JSON.parse(run.stdout);
    assert.deepEqual([report.images[0].tp, report.images[0].fp, report.images[0].tn, report.images[0].excluded], [40705, 0, 24831, 0]);
    assert.deepEqual([report.images[1].oa, report.images[1].kappa, report.images[1].excluded], [null, null, 65536]);
    assert.equal(report.pooled.tp, 40705);
    assert.match(run.stderr, /^warning: .*fill\.tif: no pixel is scored against .*pred\.tif/m);
  });

  it('a file given as its own truth is refused with exit 2, nothing on stdout', async () => {
    const run = await wdcd(['eval', pred, join(dir, '.', 'pred.tif'), '--coding', 'wdcd']);
    assert.equal(run.code, 2, show(run));
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /pred\.tif: is given as both the prediction and its truth/);
  });
});
