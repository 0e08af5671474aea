import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { InputError } from '../../src/errors.js';
import { createHeatmapQuicklook, createOverlayQuicklook, openRaster } from '../../src/raster/index.js';
import { L8, tempDir } from './helpers.js';

async function pixels(path: string) {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { info, at: (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x + 1) * info.channels)) };
}

describe('quicklooks', () => {
  const dir = tempDir();

  it('overlay of the real Landsat scene: decimated, clouds tinted, nodata transparent', async () => {
    const source = await openRaster([`${L8}B4_toa.tif`, `${L8}B3_toa.tif`, `${L8}B2_toa.tif`]);
    const path = join(dir, 'overlay.png');
    const q = await createOverlayQuicklook(path, { width: source.width, height: source.height, maxSize: 200 });
    // Column stripes, as detection writes wide scenes; one stripe edge (256) is not on the 3 px block lattice.
    for (let x = 0; x < source.width; x += 256) {
      for (let y = 0; y < source.height; y += 45) {
        const window = { x, y, width: Math.min(256, source.width - x), height: Math.min(45, source.height - y) };
        const [r, g, b] = await source.readWindow(window);
        // Fake mask: bright blue is cloud; the zero fill outside the footprint is nodata.
        const mask = Uint8Array.from(b, (v) => (v === 0 ? 255 : v > 0.25 ? 1 : 0));
        q.write(window, [r, g, b], mask);
      }
    }
    await q.finish();
    await source.close();
    const { info, at } = await pixels(path);
    assert.deepEqual([info.width, info.height, info.channels], [170, 153, 4]); // factor ceil(508 / 200) = 3
    assert.equal(at(0, 152)[3], 0, 'outside the footprint is transparent');
    assert.equal(at(100, 80)[3], 255, 'inside is opaque');
    // A bright cumulus field top centre (found by the fake mask): magenta tint means red and blue well above green.
    let tinted = 0;
    for (let y = 0; y < 40; y++) for (let x = 40; x < 90; x++) { const [r, g, b] = at(x, y); if (r - g > 60 && b - g > 60) tinted++; }
    assert.ok(tinted > 20, `${tinted} tinted pixels`);
  });

  it('heat map: viridis colours, legend strip below, transparent nodata', async () => {
    const [w, h] = [300, 100];
    const values = Float32Array.from({ length: w * h }, (_, i) => ((i % w) < 10 ? NaN : (i % w) / (w - 1)));
    const path = join(dir, 'heat.png');
    const q = await createHeatmapQuicklook(path, { width: w, height: h, threshold: 0.4, range: [0, 1] });
    q.write({ x: 0, y: 60, width: w, height: 40 }, values.subarray(60 * w));
    q.write({ x: 0, y: 0, width: w, height: 60 }, values.subarray(0, 60 * w));
    await q.finish();
    const { info, at } = await pixels(path);
    assert.equal(info.height, 100 + 60);
    assert.equal(info.width, 320, 'legend keeps a readable minimum width');
    assert.equal(at(5, 50)[3], 0);
    assert.deepEqual(at(299, 50), [253, 231, 37, 255], 'viridis top');
    assert.deepEqual(at(150, 50).slice(0, 3), [33, 145, 140], 'viridis middle');
    // The mark sits at 14 + 0.4 * (320 - 28) = 130.8 px on the bar (legend rows 118..138).
    assert.ok(at(131, 130).slice(0, 3).every((v) => v > 200), 'white threshold mark on the legend bar');
    assert.ok(!at(150, 130).slice(0, 3).every((v) => v > 200), 'bar colour beside the mark');
  });

  it('refuses to replace a file, windows outside the image, and a picture with pixels missing', async () => {
    const path = join(dir, 'heat.png');
    await assert.rejects(() => createHeatmapQuicklook(path, { width: 10, height: 10 }), InputError);
    const q = await createHeatmapQuicklook(join(dir, 'other.png'), { width: 10, height: 10 });
    assert.throws(() => q.write({ x: 5, y: 8, width: 5, height: 5 }, new Float32Array(25)), /outside/);
    q.write({ x: 0, y: 0, width: 10, height: 5 }, new Float32Array(50));
    await assert.rejects(() => q.finish(), /50 pixels were given for a 10 x 10 image/);
  });
});
