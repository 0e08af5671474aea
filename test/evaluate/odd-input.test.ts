// `wdcd eval` on odd but plausible masks, made with GDAL from a real L8 Biome mask. Each case scored wrong with no
// word before (or failed where the file was clear): palette PNGs read as their colours, a GeoTIFF named .png lost
// its grid, declared nodata was ignored, a file scored against itself, a pair counted twice, truth pixels without a
// prediction and pairs with no pixel scored passed in silence, and `auto` read class PNGs as mattes and binary masks
// under an L8 Biome folder with 0 as fill.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { evaluateFiles, readMask, reportToJson, renderReportJson, type EvaluateOptions, type EvaluationPair } from '../../src/evaluate/index.js';
import { dataRoot } from '../../src/datasets/catalog.js';
import { tempDir } from '../datasets/helpers.js';

const BIOME_MASK = join(dataRoot(), 'l8biome/test/masks/Forest_01_2715.tif'); // 64 shadow, 128 clear, 192 thin, 255 cloud
const CLOUD = 9973 + 30732;
const CLEAR = 10307 + 14524;
const noGdal = spawnSync('gdalinfo', ['--version']).status === 0 ? false : 'gdalinfo not installed';

const refused = (pattern: RegExp) => (e: unknown) => e instanceof InputError && pattern.test(e.message);

/** Evaluates and collects the warnings. */
async function evaluate(pairs: EvaluationPair[], options: EvaluateOptions = {}) {
  const warnings: string[] = [];
  const report = await evaluateFiles(pairs, { ...options, onWarning: (w) => warnings.push(w) });
  return { report, warnings, image: report.images[0]! };
}

describe('eval on odd input', { skip: noGdal }, () => {
  const { dir, cleanup } = tempDir('eval-odd');
  after(cleanup);
  const at = (name: string) => join(dir, name);

  before(() => {
    mkdirSync(at('l8biome_binary'));
    mkdirSync(at('s1'));
    mkdirSync(at('s2'));
    execFileSync('/usr/bin/python3', ['-c', [
      'from osgeo import gdal, osr',
      'import numpy as np',
      `a = gdal.Open('${BIOME_MASK}').ReadAsArray()`,
      'cloud = (a >= 192).astype("uint8")',
      'def write(path, b, type=gdal.GDT_Byte, nodata=None, palette=None, gt=None, driver="GTiff"):',
      "    m = gdal.GetDriverByName('MEM').Create('', b.shape[1], b.shape[0], 1, type)",
      '    m.GetRasterBand(1).WriteArray(b)',
      '    if nodata is not None: m.GetRasterBand(1).SetNoDataValue(nodata)',
      '    if palette:',
      '        ct = gdal.ColorTable()',
      '        for i, c in enumerate(palette): ct.SetColorEntry(i, c)',
      '        m.GetRasterBand(1).SetRasterColorTable(ct)',
      '    if gt:',
      '        m.SetGeoTransform(gt); s = osr.SpatialReference(); s.ImportFromEPSG(32618); m.SetProjection(s.ExportToWkt())',
      `    gdal.GetDriverByName(driver).CreateCopy('${dir}/' + path, m)`,
      'write("pred.tif", cloud)',
      // palette PNGs: the index is the class, the colour only how it is shown
      'write("pal01.png", cloud, palette=[(0, 0, 0, 255), (255, 255, 255, 255)], driver="PNG")',
      'write("grey-pal.png", np.where(cloud == 1, 5, 4).astype("uint8"), palette=[(i * 40, i * 40, i * 40, 255) for i in range(7)], driver="PNG")',
      't = cloud.copy(); t[:10] = 2',
      'write("pal-trns.png", t, palette=[(0, 0, 0, 255), (255, 255, 255, 255), (0, 0, 0, 0)], driver="PNG")',
      'write("pal-same.png", cloud, palette=[(0, 0, 0, 255), (0, 0, 0, 255)], driver="PNG")',
      'write("pal.gif", cloud, palette=[(0, 0, 0, 255), (255, 255, 255, 255)], driver="GIF")',
      // georeferenced truth and a prediction 5 px off, the latter named .png
      'write("truth-geo.tif", a, gt=(600000, 30, 0, 4500000, 0, -30))',
      'write("shifted-geotiff.png", cloud, gt=(600150, 30, 0, 4500000, 0, -30))',
      // declared nodata
      't = a.astype("uint16"); t[:20] = 65535',
      'write("truth16-nodata.tif", t, type=gdal.GDT_UInt16, nodata=65535)',
      'p = cloud.copy(); p[:10] = 2',
      'write("pred-nodata2.tif", p, nodata=2)',
      'write("pred-nodata0.tif", cloud, nodata=0)',
      'p = cloud.copy(); p[:10] = 255',
      'write("pred-border.tif", p, nodata=255)',
      // a clear wdcd mask: 0 and its nodata border, 255, as eval's 0/255 warning would have it read as 38cloud
      'p = cloud * 0; p[:10] = 255',
      'write("pred-clear-border.tif", p, nodata=255)',
      'p = cloud.copy(); p[:50] = 255',
      'write("pred-holes.tif", p)',
      'write("truth-fill.tif", np.zeros_like(a))',
      'write("s1/mask.tif", a)',
      'write("s2/mask.tif", a)',
      // class values in a PNG that no coding knows; a binarised Biome mask in a folder named after L8 Biome
      'write("landcover.png", np.where(cloud == 1, 7, (a == 64) * 2).astype("uint8"), driver="PNG")',
      'write("l8biome_binary/Forest_01.tif", cloud * 255)',
      'write("cam.tif", cloud.astype("float32") * 3 - 1.25, type=gdal.GDT_Float32)',
      'write("pred255.jpg", cloud * 255, driver="JPEG")',
    ].join('\n')], { stdio: ['ignore', 'ignore', 'pipe'] });
  });

  it('a palette PNG reads as its indices, not its colours', async () => {
    // index 1 drawn white read as 255: every cloud pixel excluded as wdcd nodata
    const { image } = await evaluate([{ prediction: at('pal01.png'), truth: BIOME_MASK }], { coding: 'l8biome' });
    assert.deepEqual([image.tp, image.fp, image.tn, image.fn, image.excluded], [CLOUD, 0, CLEAR, 0, 0]);
    // grey palette (index i drawn i * 40): read as colours, auto took it for a matte and 160 (land) for cloud
    const grey = await readMask(at('grey-pal.png'));
    assert.equal(grey.coding, 'sparcs');
    assert.deepEqual(grey.mask, (await readMask(at('pred.tif'), 'wdcd')).mask);
    // a transparent palette entry is excluded, as transparent grey + alpha pixels are
    const trns = await readMask(at('pal-trns.png'), 'wdcd');
    assert.equal(trns.mask.filter((v) => v === 255).length, 10 * 256);
    await assert.rejects(readMask(at('pal-same.png'), 'wdcd'), refused(/pal-same\.png: palette PNG: .*palette entries 0 and others share/));
    await assert.rejects(readMask(at('pal.gif'), 'wdcd'), refused(/pal\.gif: a palette GIF.*gdal_translate/));
  });

  it('a GeoTIFF named .png keeps its grid, so an offset one is refused', async () => {
    await assert.rejects(
      evaluateFiles([{ prediction: at('shifted-geotiff.png'), truth: at('truth-geo.tif') }], { coding: 'l8biome' }),
      refused(/shifted-geotiff\.png: does not lie on the pixel grid.*geotransform/),
    );
  });

  it('declared nodata outside the coding is excluded; nodata that the coding scores is warned about', async () => {
    for (const coding of ['l8biome', 'auto']) {
      const { image } = await evaluate([{ prediction: at('pred.tif'), truth: at('truth16-nodata.tif') }], { coding });
      assert.equal(image.excluded, 20 * 256, coding);
      assert.equal(image.fp + image.fn, 0);
    }
    const two = await evaluate([{ prediction: at('pred-nodata2.tif'), truth: BIOME_MASK }], { coding: 'l8biome' });
    assert.equal(two.image.excluded, 10 * 256);
    // 0 declared nodata in a 0/1 wdcd mask: scored as clear, as the coding says, but not in silence
    const zero = await evaluate([{ prediction: at('pred-nodata0.tif'), truth: BIOME_MASK }], { coding: 'l8biome' });
    assert.equal(zero.image.tn, CLEAR);
    assert.equal(zero.warnings.length, 1);
    assert.match(zero.warnings[0]!, /pred-nodata0\.tif: the prediction declares nodata 0, which the wdcd coding reads as clear: its 24831 pixels/);
    // a clear wdcd mask read as 38cloud: its nodata border scores as cloud
    const border = await evaluate([{ prediction: at('pred-clear-border.tif'), truth: BIOME_MASK }], { coding: 'l8biome', predictionCoding: '38cloud' });
    assert.equal(border.image.tp + border.image.fp, 2560);
    assert.ok(border.warnings.some((w) => /pred-clear-border\.tif: the prediction declares nodata 255, which the 38cloud coding reads as cloud: its 2560 pixels/.test(w)), border.warnings.join('\n'));
  });

  it('a file scored against itself, a pair given twice and a missing file anywhere are refused before reading', async () => {
    const pred = at('pred.tif');
    await assert.rejects(evaluateFiles([{ prediction: pred, truth: join(dir, '.', 'pred.tif') }], { coding: 'wdcd' }), refused(/pred\.tif: is given as both the prediction and its truth/));
    await assert.rejects(
      evaluateFiles([{ prediction: pred, truth: BIOME_MASK }, { prediction: pred, truth: BIOME_MASK }], { coding: 'l8biome' }),
      refused(/pairs 1 and 2 are the same prediction and truth/),
    );
    let read = 0;
    await assert.rejects(
      evaluateFiles([{ prediction: pred, truth: BIOME_MASK }, { prediction: at('missing.tif'), truth: BIOME_MASK }], { coding: 'l8biome', onImage: () => read++ }),
      refused(/missing\.tif: file not found/),
    );
    assert.equal(read, 0);
  });

  it('truth pixels left without a prediction are warned about and counted; a pair with nothing scored is warned about', async () => {
    const holes = await evaluate([{ prediction: at('pred-holes.tif'), truth: BIOME_MASK }], { coding: 'l8biome' });
    assert.equal(holes.image.unpredicted, 50 * 256);
    assert.equal(holes.report.pooled.unpredicted, 50 * 256);
    assert.match(holes.warnings.join('\n'), /pred-holes\.tif: 12800 pixels that the truth labels \(\d+ of them cloud\) are nodata in the prediction/);
    const json = reportToJson(holes.report) as { images: Record<string, unknown>[] };
    assert.equal(json.images[0]!['unpredicted'], 12800);
    assert.equal(json.images[0]!['prediction'], at('pred-holes.tif'));

    const fill = await evaluate([{ prediction: at('pred.tif'), truth: at('truth-fill.tif') }], { coding: 'l8biome' });
    assert.match(fill.warnings.join('\n'), /truth-fill\.tif: no pixel is scored against .*pred\.tif: all 65536 are fill/);
    const parsed = JSON.parse(renderReportJson(fill.report));
    assert.deepEqual([parsed.pooled.oa, parsed.pooled.kappa, parsed.images[0].f1], [null, null, null]);
  });

  it('rows of truths that share a file name are named by their paths; a truth shared by two predictions is warned about', async () => {
    const { report } = await evaluate([
      { prediction: at('pred.tif'), truth: at('s1/mask.tif') },
      { prediction: at('pred-border.tif'), truth: at('s2/mask.tif') },
    ], { coding: 'l8biome' });
    assert.deepEqual(report.images.map((r) => r.name), [at('s1/mask.tif'), at('s2/mask.tif')]);
    // one truth, two predictions (two methods): named by the predictions, and the pooled figures' double count said
    const twice = await evaluate([
      { prediction: at('pred.tif'), truth: at('s1/mask.tif') },
      { prediction: at('pred-border.tif'), truth: at('s1/mask.tif') },
    ], { coding: 'l8biome' });
    assert.deepEqual(twice.report.images.map((r) => r.name), [at('pred.tif'), at('pred-border.tif')]);
    assert.match(twice.warnings.join('\n'), /s1\/mask\.tif: is the truth of more than one prediction/);
  });

  it('auto refuses a class PNG it would read as a cloudless matte, and a 0/255 mask that an L8 Biome folder would read as fill', async () => {
    await assert.rejects(readMask(at('landcover.png')), refused(/landcover\.png: mask values \(0, 2, 7\) fit no known coding/));
    await assert.rejects(readMask(at('l8biome_binary/Forest_01.tif')), refused(/read as l8biome .* fill and cloud only.*38cloud/));
    // named, it is read as asked; named l8biome, every clear pixel is left out as fill, with a warning
    assert.equal((await readMask(at('l8biome_binary/Forest_01.tif'), '38cloud')).mask.filter((v) => v === 1).length, CLOUD);
    const asBiome = await evaluate([{ prediction: at('pred.tif'), truth: at('l8biome_binary/Forest_01.tif') }], { coding: 'l8biome' });
    assert.equal(asBiome.image.excluded, CLEAR);
    assert.match(asBiome.warnings.join('\n'), /Forest_01\.tif: read as l8biome, the truth holds fill and cloud only, not one clear pixel: its 24831 pixels .*--coding 38cloud/);
  });

  it('a CAM or a JPEG given as the prediction is refused with what it is', async () => {
    await assert.rejects(readMask(at('cam.tif'), 'wdcd'), refused(/cam\.tif: mask value -?[\d.]+ .*continuous map \(such as the CAM/));
    await assert.rejects(readMask(at('pred255.jpg'), '38cloud'), refused(/pred255\.jpg: .*JPEG compression is lossy/));
    // gf1-png thresholds the JPEG's blurred values at 128
    assert.equal((await readMask(at('pred255.jpg'), 'gf1-png')).mask.filter((v) => v === 1).length, CLOUD);
  });
});
