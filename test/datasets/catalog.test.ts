import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../../src/errors.js';
import { openRaster } from '../../src/raster/open.js';
import { approxFigureLabels, dataRoot, gf1, l8biome, landsat38cloud, loadBlocks, sceneBlocks } from '../../src/datasets/index.js';

test('catalog lists the shared data with existing files', () => {
  const counts = [l8biome('train'), l8biome('val'), l8biome('test'), gf1('train'), gf1('test'), approxFigureLabels(), landsat38cloud()].map((l) => l.length);
  assert.deepEqual(counts, [13, 7, 5, 6, 6, 24, 1]);
  for (const s of [...l8biome('test'), ...gf1('test'), ...approxFigureLabels(), ...landsat38cloud()]) {
    for (const p of [...s.image, s.mask]) assert.ok(existsSync(p), p);
  }
  const l8 = l8biome('val')[0]!;
  assert.deepEqual([l8.bands, l8.scale, l8.coding, l8.bandNames], [[0, 1, 2, 3], undefined, 'l8biome', ['blue', 'green', 'red', 'nir']]);
  const g = gf1('train').find((s) => s.name.startsWith('thick/'))!;
  assert.deepEqual([g.bands, g.scale, g.coding], [[2, 1, 0], 1 / 255, 'gf1-png']);
  assert.ok(g.image[0]!.endsWith('.jpg') && g.mask.endsWith('.png'));
  assert.ok(approxFigureLabels().every((s) => s.trainingOnly && s.coding === 'approx'));
  assert.throws(() => l8biome('dev' as 'val'), /unknown L8 Biome split/);
});

test('38-Cloud: band files stacked blue, green, red, NIR and scaled to reflectance', async () => {
  const [scene] = landsat38cloud();
  assert.deepEqual(scene!.image.map((p) => basename(p).split('_')[0]), ['blue', 'green', 'red', 'nir']);
  const source = await sceneBlocks(scene!, { size: 128 });
  assert.equal(source.bandCount, 4);
  assert.equal(source.blocks.length, 9); // 384 / 128 = 3 per axis
  const [block] = await loadBlocks([source.blocks[4]!]);
  const red = await openRaster([scene!.image[2]!]);
  const [dn] = await red.readWindow({ x: 128, y: 128, width: 128, height: 128 });
  await red.close();
  for (const i of [0, 777, 16383]) {
    assert.ok(Math.abs(block!.bands[2 * 16384 + i]! - (2e-5 * dn![i]! - 0.1)) < 1e-6);
  }
});

test('WDCD_DATA overrides the data root', () => {
  const saved = process.env['WDCD_DATA'];
  try {
    process.env['WDCD_DATA'] = '/nonexistent/wdcd-data';
    assert.equal(dataRoot(), '/nonexistent/wdcd-data');
    assert.throws(() => l8biome('train'), (e: unknown) => e instanceof InputError && /WDCD_DATA/.test(e.message));
  } finally {
    if (saved === undefined) delete process.env['WDCD_DATA'];
    else process.env['WDCD_DATA'] = saved;
  }
});
