import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRaster } from '../../src/raster/open.js';
import { displayValue, l8biome, l8biomeRgb, loadBlocks, sceneBlocks } from '../../src/datasets/index.js';
import { blocksOf, scenesOf } from '../../src/datasets/source-spec.js';

function withCache<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-display-rgb-'));
  const saved = process.env['WDCD_CACHE'];
  process.env['WDCD_CACHE'] = dir;
  return fn(dir).finally(() => {
    if (saved === undefined) delete process.env['WDCD_CACHE'];
    else process.env['WDCD_CACHE'] = saved;
    rmSync(dir, { recursive: true, force: true });
  });
}

test('tone curves: fixed points, monotone, clipped to 0..255', () => {
  assert.equal(displayValue(0, 'gamma'), 0);
  assert.equal(displayValue(Number.NaN, 'soft'), 0);
  assert.equal(displayValue(-0.01, 'linear'), 0);
  assert.equal(displayValue(1.2, 'gamma'), 255);
  assert.equal(displayValue(0.5, 'linear'), 255);
  assert.equal(displayValue(0.25, 'linear'), 128);
  assert.equal(displayValue(0.1, 'gamma'), Math.round(255 * Math.pow(0.1, 1 / 2.2))); // 90
  for (const r of ['gamma', 'soft', 'linear'] as const) {
    let last = -1;
    for (let x = 0; x <= 1.2; x += 0.01) {
      const v = displayValue(x, r);
      assert.ok(v >= last && v <= 255, `${r} at ${x}`);
      last = v;
    }
  }
});

test('l8biome-rgb: display PNGs of red, green, blue with the gf1 preset and the L8 Biome masks', () =>
  withCache(async (cache) => {
    const scenes = await l8biomeRgb('val');
    assert.equal(scenes.length, 7 * 3);
    assert.deepEqual((await scenesOf('l8biome-rgb:val:linear'))!.map((s) => s.name), l8biome('val').map((s) => `${s.name}_linear`));
    assert.equal((await scenesOf('l8biome-rgb:train:gamma+soft'))!.length, 13 * 2);
    await assert.rejects(scenesOf('l8biome-rgb:val:sepia'), /unknown display rendering/);
    await assert.rejects(scenesOf('l8biome-rgb:dev'), /unknown L8 Biome split/);

    const s = scenes.find((x) => x.name === 'Urban_03_0619_soft')!;
    assert.ok(s.image[0]!.startsWith(cache) && s.image[0]!.endsWith('.png'));
    assert.deepEqual([s.bands, s.scale, s.coding, s.bandNames], [[2, 1, 0], 1 / 255, 'l8biome', ['blue', 'green', 'red']]);
    assert.equal(s.mask, l8biome('val').find((x) => x.name === 'Urban_03_0619')!.mask);

    const png = await openRaster(s.image);
    const [r, g, b] = await png.readWindow({ x: 0, y: 0, width: 256, height: 256 }, [0, 1, 2]);
    await png.close();
    const tif = await openRaster(l8biome('val').find((x) => x.name === 'Urban_03_0619')!.image);
    const refl = await tif.readWindow({ x: 0, y: 0, width: 256, height: 256 }, [0, 1, 2]);
    await tif.close();
    for (const i of [0, 1000, 30000, 65535]) {
      assert.deepEqual([r![i], g![i], b![i]], [displayValue(refl[2]![i]!, 'soft'), displayValue(refl[1]![i]!, 'soft'), displayValue(refl[0]![i]!, 'soft')]);
    }
    // Rendered once: a second listing finds the same file untouched.
    const mtime = statSync(s.image[0]!).mtimeMs;
    assert.equal((await l8biomeRgb('val', ['soft'])).find((x) => x.name === s.name)!.image[0], s.image[0]);
    assert.equal(statSync(s.image[0]!).mtimeMs, mtime);

    // Blocks: same labels as the reflectance scene (same mask), values are display values / 255 in blue, green, red.
    const rgbBlocks = await blocksOf('l8biome-rgb:val:soft', 48, 48, {}, 1);
    const ref = await sceneBlocks(l8biome('val').find((x) => x.name === 'Urban_03_0619')!, { size: 48, stride: 48 });
    const mine = rgbBlocks.blocks.filter((x) => x.id.startsWith('Urban_03_0619_soft/'));
    assert.equal(rgbBlocks.bandCount, 3);
    assert.deepEqual(mine.map((x) => [x.id.split('/')[1], x.label]), ref.blocks.map((x) => [x.id.split('/')[1], x.label]));
    const [block] = await loadBlocks([mine[7]!]);
    const { x, y } = mine[7]!.window;
    const i = 5 * 48 + 9;
    const p = (y + 5) * 256 + x + 9;
    assert.ok(Math.abs(block!.bands[i]! - b![p]! / 255) < 1e-6); // band 0 = blue
    assert.ok(Math.abs(block!.bands[2 * 48 * 48 + i]! - r![p]! / 255) < 1e-6); // band 2 = red
  }));
