// `wdcd eval --prediction-coding`: a prediction written 0 clear / 255 cloud (as many tools do) read in the default
// wdcd coding has every cloud pixel excluded as nodata (recall 0 or undefined). eval warns about it, naming the option,
// and scores it right under --prediction-coding 38cloud. The truth is a real L8 Biome test mask.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { show, wdcd } from './helpers.js';

const TRUTH = '/work/shared/data/l8biome/test/masks/Forest_01_2715.tif'; // 192 thin + 255 cloud: 40705 cloud pixels
const CLOUD = 9973 + 30732;

describe('wdcd eval --prediction-coding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-eval-coding-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const pred255 = join(dir, 'pred255.tif');
  const clearWithBorder = join(dir, 'clear-border.tif');
  execFileSync('/usr/bin/python3', ['-c', [
    'from osgeo import gdal',
    `src = gdal.Open('${TRUTH}')`,
    'a = src.ReadAsArray()',
    'def write(path, b):',
    "    m = gdal.GetDriverByName('GTiff').Create(path, a.shape[1], a.shape[0], 1, gdal.GDT_Byte)",
    '    m.GetRasterBand(1).WriteArray(b)',
    // the truth's cloud as 255, clear as 0: a perfect prediction in another tool's coding
    `write('${pred255}', (a >= 192).astype('uint8') * 255)`,
    // a legitimate wdcd mask: all clear, a nodata border of 10 px
    'b = (a * 0).astype("uint8"); b[:10, :] = 255; b[-10:, :] = 255',
    `write('${clearWithBorder}', b)`,
  ].join('\n')]);

  it('warns on a 0/255 prediction under the default coding, naming --prediction-coding; 38cloud scores it right', async () => {
    const plain = await wdcd(['eval', pred255, TRUTH, '--json']);
    assert.equal(plain.code, 0, show(plain));
    assert.match(plain.stderr, /warning: .*pred255\.tif.*only the values 0 and 255.*--prediction-coding 38cloud/s);
    const excluded = JSON.parse(plain.stdout).images[0];
    assert.equal(excluded.tp, 0);
    assert.equal(excluded.excluded, CLOUD);
    assert.equal(excluded.predictionCoding, 'wdcd');

    const coded = await wdcd(['eval', pred255, TRUTH, '--prediction-coding', '38cloud', '--json']);
    assert.equal(coded.code, 0, show(coded));
    assert.doesNotMatch(coded.stderr, /warning/);
    const image = JSON.parse(coded.stdout).images[0];
    assert.deepEqual([image.tp, image.fn, image.fp, image.excluded, image.recall, image.precision], [CLOUD, 0, 0, 0, 1, 1]);
    assert.equal(image.coding, 'l8biome');
    assert.equal(image.predictionCoding, '38cloud');
  });

  it('a clear wdcd mask with a nodata border is scored (with the warning); an explicit --prediction-coding wdcd silences it', async () => {
    // The border covers labelled truth pixels: with the 0/255 warning silenced, the warning that they are left out stays.
    const warned = await wdcd(['eval', clearWithBorder, TRUTH, '--json']);
    assert.equal(warned.code, 0, show(warned));
    assert.match(warned.stderr, /warning: .*clear-border\.tif.*--prediction-coding/s);
    const image = JSON.parse(warned.stdout).images[0];
    assert.deepEqual([image.tp, image.fp, image.excluded], [0, 0, 20 * 256]);
    assert.doesNotMatch(warned.stderr, /pixels that the truth labels/); // the 0/255 warning has said it
    const quiet = await wdcd(['eval', clearWithBorder, TRUTH, '--prediction-coding', 'wdcd']);
    assert.equal(quiet.code, 0, show(quiet));
    assert.doesNotMatch(quiet.stderr, /--prediction-coding 38cloud/);
    assert.match(quiet.stderr, /^warning: .*clear-border\.tif: 5120 pixels that the truth labels \(\d+ of them cloud\) are nodata in the prediction and are left out of every measure\n$/);
  });

  it('an unknown prediction coding is refused with exit 2, naming the option', async () => {
    const bad = await wdcd(['eval', pred255, TRUTH, '--prediction-coding', 'cloud255']);
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /--prediction-coding.*unknown mask coding "cloud255"/);
  });
});
