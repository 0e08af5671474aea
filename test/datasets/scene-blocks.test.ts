import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InputError } from '../../src/errors.js';
import { readRawMask } from '../../src/evaluate/index.js';
import { openRaster } from '../../src/raster/open.js';
import { blockOffsets, l8biome, loadBlocks, sceneBlocks, type SceneBlockStats } from '../../src/datasets/index.js';
import { dataRoot } from '../../src/datasets/catalog.js';
import { scenesOf } from '../../src/datasets/source-spec.js';
import { sceneCams } from '../../src/detect/tune-k.js';
import { createGeoTiffWriter } from '../../src/raster/write-geotiff.js';
import { tinyModel } from '../model/tiny-model.js';
import { tempDir, writeTiff } from './helpers.js';

test('blockOffsets covers the axis; the last block is shifted to end at the edge', () => {
  assert.deepEqual(blockOffsets(256, 64, 64), [0, 64, 128, 192]);
  assert.deepEqual(blockOffsets(256, 64, 50), [0, 50, 100, 150, 192]);
  assert.deepEqual(blockOffsets(250, 250, 125), [0]);
  assert.deepEqual(blockOffsets(251, 250, 125), [0, 1]);
  assert.deepEqual(blockOffsets(10, 20, 5), []);
});

test('real L8 Biome train scene: labels agree with the mask, last blocks touch the edges, values are the image', async () => {
  const scene = l8biome('train').find((s) => s.name === 'Forest_05_0415')!;
  const size = 64;
  const stats: SceneBlockStats[] = [];
  const source = await sceneBlocks(scene, { size, stride: 50 }, stats);
  assert.deepEqual([source.size, source.bandCount, source.blocks.length], [64, 4, 25]);
  const raw = await readRawMask(scene.mask); // 64 shadow, 128 clear, 192 thin cloud, 255 cloud
  let clear = 0;
  let cloudy = 0;
  for (const b of source.blocks) {
    let cloudPixels = 0;
    for (let y = b.window.y; y < b.window.y + size; y++) {
      for (let x = b.window.x; x < b.window.x + size; x++) if (raw.values[y * 256 + x]! >= 192) cloudPixels++;
    }
    if (b.label === 0) {
      assert.equal(cloudPixels, 0, `${b.id} is labelled clear but has cloud`);
      clear++;
    } else {
      assert.ok(cloudPixels > 0, `${b.id} is labelled cloudy but has no cloud`);
      cloudy++;
    }
    assert.equal(b.validFraction, 1);
  }
  assert.ok(clear > 0 && cloudy > 0, `both labels occur (clear ${clear}, cloudy ${cloudy})`);
  assert.deepEqual(stats, [{ scene: 'Forest_05_0415', clear, cloudy, droppedNodata: 0, droppedAmbiguous: 0 }]);
  assert.equal(Math.max(...source.blocks.map((b) => b.window.x + size)), 256);
  assert.equal(Math.max(...source.blocks.map((b) => b.window.y + size)), 256);
  assert.deepEqual([...new Set(source.blocks.map((b) => b.window.x))], [0, 50, 100, 150, 192]);

  // The block refs carry no pixel data (the mask never leaves sceneBlocks).
  for (const b of source.blocks) {
    for (const v of Object.values(b)) assert.ok(!ArrayBuffer.isView(v), `${b.id} holds an array`);
  }

  // Loaded values are bands 0..3 of the image window.
  const last = source.blocks[source.blocks.length - 1]!;
  assert.equal(last.id, 'Forest_05_0415/x192_y192');
  const [block] = await loadBlocks([last]);
  const image = await openRaster(scene.image);
  const direct = await image.readWindow({ x: 192, y: 192, width: 64, height: 64 }, [0, 1, 2, 3]);
  await image.close();
  for (let b = 0; b < 4; b++) assert.deepEqual(block!.bands.subarray(b * 4096, (b + 1) * 4096), direct[b]);
  assert.equal(block!.label, last.label);
});

test('nodata: blocks over 50 % fill/NaN are dropped, exactly 50 % kept; cloud under NaN is not counted; minCloudPixels', async () => {
  const { dir, cleanup } = tempDir('scene');
  try {
    const W = 8;
    const image = new Float32Array(W * W).fill(0.3);
    const mask = new Uint8Array(W * W).fill(128); // L8 Biome clear
    const at = (x: number, y: number) => y * W + x;
    // block (0,0): all image NaN -> dropped
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) image[at(x, y)] = NaN;
    // block (4,0): 7 fill + 1 cloud pixel under image NaN -> 50 % nodata, kept, no countable cloud -> clear
    for (let i = 0; i < 7; i++) mask[at(4 + (i % 4), Math.floor(i / 4))] = 0;
    mask[at(7, 1)] = 255;
    image[at(7, 1)] = NaN;
    // block (0,4): 9 fill -> 56 % -> dropped
    for (let i = 0; i < 9; i++) mask[at(i % 4, 4 + Math.floor(i / 4))] = 0;
    // block (4,4): one thin-cloud pixel -> cloudy
    mask[at(6, 6)] = 192;
    const imagePath = join(dir, 'scene.tif');
    const maskPath = join(dir, 'scene_fixedmask.tif');
    await writeTiff(imagePath, W, W, [image]);
    await writeTiff(maskPath, W, W, [mask]);
    const stats: SceneBlockStats[] = [];
    const source = await sceneBlocks({ image: [imagePath], mask: maskPath, coding: 'l8biome' }, { size: 4, nodataFill: -1 }, stats);
    assert.deepEqual(source.blocks.map((b) => [b.id, b.label, b.validFraction]), [
      ['scene/x4_y0', 0, 0.5],
      ['scene/x4_y4', 1, 1],
    ]);
    assert.equal(stats[0]!.droppedNodata, 2);
    const [b0] = await loadBlocks(source.blocks);
    assert.equal(b0!.bands[3 + 4], -1); // (7,1) is NaN in the image -> nodataFill
    // fill pixels of the mask are not image nodata: the image value is kept
    assert.ok(Math.abs(b0!.bands[0]! - 0.3) < 1e-6);
    // a single cloud pixel is not enough when two are required: dropped, not called clear
    const strict = await sceneBlocks({ image: [imagePath], mask: maskPath, coding: 'auto' }, { size: 4, minCloudPixels: 2 }, stats);
    assert.deepEqual(strict.blocks.map((b) => b.id), ['scene/x4_y0']);
    assert.equal(stats[1]!.droppedAmbiguous, 1);
    // errors
    await assert.rejects(sceneBlocks({ image: [imagePath], mask: maskPath }, { size: 9 }), (e: unknown) => e instanceof InputError && /smaller than the 9 px/.test(e.message));
    const small = join(dir, 'small_fixedmask.tif');
    await writeTiff(small, 4, 4, [new Uint8Array(16).fill(128)]);
    await assert.rejects(sceneBlocks({ image: [imagePath], mask: small }, { size: 4 }), /8 x 8 px but its mask/);
  } finally {
    cleanup();
  }
});

test('a scene list (scenes:LIST.csv): paths relative to it, a header, an unknown coding named with its line', async () => {
  const { dir, cleanup } = tempDir('scene-list');
  try {
    const biome = join(dataRoot(), 'l8biome/train');
    const list = join(dir, 'scenes.csv');
    writeFileSync(list, `image,mask,coding\n${relative(dir, join(biome, 'images/Barren_00_0214.tif'))},${join(biome, 'masks/Barren_00_0214.tif')},l8biome\n`);
    const [scene] = (await scenesOf(`scenes:${list}`))!;
    assert.deepEqual(scene, { image: [join(biome, 'images/Barren_00_0214.tif')], mask: join(biome, 'masks/Barren_00_0214.tif'), coding: 'l8biome' });
    // other header words, after a comment and a blank line
    writeFileSync(list, `# my scenes\n\npath,truth\n${join(biome, 'images/Barren_00_0214.tif')},${join(biome, 'masks/Barren_00_0214.tif')}\n`);
    assert.equal((await scenesOf(`scenes:${list}`))!.length, 1);
    writeFileSync(list, `${join(biome, 'images/Barren_00_0214.tif')},${join(biome, 'masks/Barren_00_0214.tif')},fmask\n`);
    await assert.rejects(scenesOf(`scenes:${list}`), (e: unknown) => e instanceof InputError && /scenes\.csv: line 1: unknown mask coding "fmask"/.test(e.message));
  } finally {
    cleanup();
  }
});

test('a georeferenced mask on another grid than its image is refused, for training blocks and for tuning k', async () => {
  const { dir, cleanup } = tempDir('scene-grid');
  try {
    // The real Landsat 8 scene (UTM 18N, 120 m) and a mask of its size, on its grid and one pixel east of it.
    const bands = [2, 3, 4, 5].map((b) => join(dataRoot(), `landsat8-scene-120m/LC80130312015295LGN00_B${b}_toa.tif`));
    const image = await openRaster(bands);
    const { width, height } = image;
    const georef = image.georef!;
    await image.close();
    const writeMask = async (name: string, x0: number) => {
      const path = join(dir, name);
      const w = await createGeoTiffWriter(path, { width, height, sampleType: 'uint8', nodata: 255, georef: { geoTransform: [x0, 120, 0, georef.geoTransform[3], 0, -120], epsg: georef.epsg } });
      await w.writeRows(0, height, new Uint8Array(width * height).map((_, i) => (i % width < width / 2 ? 1 : 0)));
      await w.finish();
      return path;
    };
    const aligned = await writeMask('aligned.tif', georef.geoTransform[0]);
    const shifted = await writeMask('shifted.tif', georef.geoTransform[0] + 120);
    const blocks = await sceneBlocks({ image: bands, mask: aligned, coding: 'wdcd' }, { size: 64 });
    assert.ok(blocks.blocks.some((b) => b.label === 1) && blocks.blocks.some((b) => b.label === 0));
    const refused = (e: unknown) => e instanceof InputError && /B2_toa\.tif.*: its mask \S*shifted\.tif lies on another grid: geotransform/.test(e.message);
    await assert.rejects(sceneBlocks({ image: bands, mask: shifted, coding: 'wdcd' }, { size: 64 }), refused);
    await assert.rejects(sceneCams(tinyModel(), [{ image: bands, mask: shifted, coding: 'wdcd' }]), refused);
  } finally {
    cleanup();
  }
});
