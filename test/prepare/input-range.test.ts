// The look at the input's units before detection (input-range.ts), on real scenes: L8 Biome reflectance and the
// 38-Cloud patch's Landsat 8 DN pass when scaled as their products say, and are called wrong when the DN are
// given unscaled or the reflectance is scaled again. The sample windows never overlap and stay in the scene.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { landsat38cloud } from '../../src/datasets/index.js';
import { checkInputRange, sampleWindows } from '../../src/prepare/input-range.js';
import { openRaster } from '../../src/raster/open.js';
import { resolveBands } from '../../src/raster/sensors.js';

const BIOME = '/work/shared/data/l8biome/val/images/Forest_00_1008.tif';

async function rangeOf(paths: string[], sensor: string, options: { scale?: number[]; offset?: number[] } = {}) {
  const raster = await openRaster(paths);
  try {
    return await checkInputRange(raster, { ...resolveBands(sensor, raster.bandCount, options), nodata: [0] });
  } finally {
    await raster.close();
  }
}

describe('input units check', () => {
  it('passes L8 Biome TOA reflectance as the default model takes it', async () => {
    const r = await rangeOf([BIOME], 'landsat8-biome');
    assert.equal(r.problem, undefined);
    assert.ok(r.sampled > 100_000, `${r.sampled} values sampled`);
    assert.ok(r.max! > 0.1 && r.max! < 2, `max ${r.max}`);
  });

  it('calls Landsat 8 DN given unscaled digital numbers, and passes them scaled', async () => {
    const patch = landsat38cloud()[0];
    const raw = await rangeOf(patch.image, 'landsat8-biome');
    assert.match(raw.problem ?? '', /digital numbers.*--scale/);
    assert.ok(raw.outsideShare > 0.9 && raw.max! > 5000, `${raw.outsideShare} outside, max ${raw.max}`);
    const scaled = await rangeOf(patch.image, 'landsat8-biome', { scale: [2e-5, 2e-5, 2e-5, 2e-5], offset: [-0.1, -0.1, -0.1, -0.1] });
    assert.equal(scaled.problem, undefined);
  });

  it('calls reflectance scaled a second time too dark', async () => {
    const r = await rangeOf([BIOME], 'landsat8-biome', { scale: [1e-4, 1e-4, 1e-4, 1e-4] });
    assert.match(r.problem ?? '', /scaled twice/);
  });

  it('samples windows that stay inside the scene and never overlap', () => {
    for (const [w, h] of [[1, 1], [100, 30], [192, 192], [193, 500], [10980, 10980]]) {
      const windows = sampleWindows(w, h);
      const seen = new Uint8Array(w * h);
      for (const win of windows) {
        assert.ok(win.x >= 0 && win.y >= 0 && win.x + win.width <= w && win.y + win.height <= h, `${JSON.stringify(win)} outside ${w} x ${h}`);
        for (let y = win.y; y < win.y + win.height; y++) for (let x = win.x; x < win.x + win.width; x++) assert.equal(seen[y * w + x]++, 0, `pixel ${x},${y} of ${w} x ${h} sampled twice`);
      }
      assert.ok(windows.length >= 1 && windows.length <= 9);
    }
  });
});
