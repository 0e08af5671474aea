// `trainModel` (what `wdcd train` runs) on the user's own data, made from real L8 Biome scenes and GF-1 slices:
// the network must learn the values detection will give it. A `wdcd:` folder of 10-bit DN blocks and a folder of
// RGB PNG blocks are read through the sensor preset the model records, and `scenes:` tuning scenes with the
// training's --scale, so that k is chosen on the same values.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { tuneK } from '../../src/detect/tune-k.js';
import { readMask } from '../../src/evaluate/mask-codings.js';
import { openRaster } from '../../src/raster/open.js';
import { trainModel } from '../../src/train/train-model.js';
import { npyBytes, tempDir, writeTiff } from '../datasets/helpers.js';

const BIOME = '/work/shared/data/l8biome/train';
const SCENES = ['Barren_00_0214', 'Forest_03_0209', 'GrassCrops_02_0608', 'Urban_00_0515'];

/** Blue, green, red and NIR reflectance of an L8 Biome scene (256 x 256). */
async function reflectance(name: string): Promise<{ planes: Float32Array[]; width: number; height: number }> {
  const source = await openRaster([join(BIOME, 'images', `${name}.tif`)]);
  try {
    const { width, height } = source;
    return { planes: await source.readWindow({ x: 0, y: 0, width, height }, [0, 1, 2, 3]), width, height };
  } finally {
    await source.close();
  }
}

describe('trainModel on user sources', () => {
  const { dir, cleanup } = tempDir('train-model');
  after(cleanup);

  it('a wdcd: folder of 10-bit DN is learnt through the gf1-wfv preset: DN / 1023, recorded with the sensor and band names', { timeout: 120_000 }, async () => {
    const data = join(dir, 'WDCD');
    mkdirSync(data);
    const size = 64;
    const sums = [0, 0, 0, 0];
    let labels = 0;
    for (const [i, name] of SCENES.entries()) {
      const { planes, width } = await reflectance(name);
      const truth = await readMask(join(BIOME, 'masks', `${name}.tif`), 'l8biome');
      // One 64 px block per scene, from its top-left corner; cloudy if it holds cloud.
      let cloudy = 0;
      const dn = planes.map((plane, b) => {
        const out = new Uint16Array(size * size);
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) {
            out[y * size + x] = Math.min(1023, Math.max(1, Math.round(plane[y * width + x]! * 1023)));
            sums[b] += Math.fround(out[y * size + x]! / 1023);
            if (b === 0 && truth.mask[y * width + x] === 1) cloudy = 1;
          }
        }
        return out;
      });
      labels += cloudy;
      await writeTiff(join(data, `GF1_WFV_${i}.tif`), size, size, dn);
      writeFileSync(join(data, `GF1_WFV_${i}_bl.npy`), npyBytes('<i8', [], new Uint8Array(new BigInt64Array([BigInt(cloudy)]).buffer)));
    }
    assert.ok(labels > 0 && labels < SCENES.length, 'both classes');

    const { model } = await trainModel({ output: join(dir, 'gf-model'), train: [`wdcd:${data}`], architecture: 'wdcd-lean', blockSize: size, epochs: 1, threads: 1 });
    const d = model.description;
    assert.equal(d.sensor, 'gf1-wfv');
    assert.match(d.units, /gf1-wfv values scaled to 0-1, not calibrated/);
    assert.deepEqual(d.bands, ['blue', 'green', 'red', 'nir']);
    // The normalisation is the mean of the values the network saw: DN / 1023, not DN.
    const count = SCENES.length * size * size;
    d.normalization.mean.forEach((m, b) => assert.ok(Math.abs(m - sums[b]! / count) < 1e-6, `band ${b + 1}: mean ${m}, DN / 1023 gives ${sums[b]! / count}`));
  });

  it('3-band blocks as stored (8-bit RGB PNGs, with or without alpha) are read through the rgb preset: blue, green, red over 255', { timeout: 120_000 }, async () => {
    const slice = '/work/shared/data/gf1/train/thick_slice';
    const jpeg = join(slice, readdirSync(slice).find((n) => n.endsWith('.jpg'))!);
    const blocks = join(dir, 'rgb-blocks');
    const sums = [0, 0, 0]; // stored red, green, blue
    for (const [label, left] of [['cloudy', 0], ['clear', 200], ['clear', 400]] as const) {
      mkdirSync(join(blocks, label), { recursive: true });
      const block = sharp(jpeg).extract({ left, top: 100, width: 48, height: 48 });
      // the first block read (clear/200.png) has an alpha channel, which is no band of its own
      await (left === 200 ? block.clone().ensureAlpha() : block.clone()).png().toFile(join(blocks, label, `${left}.png`));
      const pixels = await block.clone().raw().toBuffer();
      for (let i = 0; i < pixels.length; i++) sums[i % 3] += Math.fround(pixels[i]! / 255);
    }
    const { model } = await trainModel({ output: join(dir, 'rgb-model'), train: [`blocks:${blocks}`], architecture: 'wdcd-lean', blockSize: 48, epochs: 1, threads: 1 });
    const d = model.description;
    assert.deepEqual([d.sensor, d.units, d.bands], ['rgb', 'display values (0-1)', ['blue', 'green', 'red']]);
    const count = 3 * 48 * 48;
    [2, 1, 0].forEach((stored, b) => assert.ok(Math.abs(d.normalization.mean[b]! - sums[stored]! / count) < 1e-6, `${d.bands[b]}: ${d.normalization.mean[b]} against ${sums[stored]! / count}`));
  });

  it('scenes: tuning scenes are read with --scale, as the training blocks are', { timeout: 180_000 }, async () => {
    const lines: string[] = [];
    for (const name of SCENES.slice(0, 2)) {
      const { planes, width, height } = await reflectance(name);
      const image = join(dir, `${name}_x10000.tif`);
      await writeTiff(image, width, height, planes.map((p) => Uint16Array.from(p, (v) => Math.round(v * 10_000))));
      lines.push(`${image},${join(BIOME, 'masks', `${name}.tif`)},l8biome`);
    }
    const list = join(dir, 'scenes.csv');
    writeFileSync(list, lines.join('\n') + '\n');
    const result = await trainModel({
      output: join(dir, 'scaled-model'),
      train: [`scenes:${list}`],
      tune: [`scenes:${list}`],
      bandOptions: { scale: 1e-4 },
      architecture: 'wdcd-lean',
      blockSize: 48,
      trainStride: 48,
      epochs: 1,
      threads: 1,
    });
    assert.ok(result.kScores.length > 0);
    // The same model tuned on the original reflectance scenes scores every k alike (the copies are rounded to 1e-4).
    const original = SCENES.slice(0, 2).map((name) => ({ image: [join(BIOME, 'images', `${name}.tif`)], mask: join(BIOME, 'masks', `${name}.tif`), coding: 'l8biome' as const, bands: [0, 1, 2, 3] }));
    const { scores } = await tuneK(result.model, original, 'image-kappa', { threads: 1 });
    assert.equal(scores.length, result.kScores.length);
    scores.forEach((s, i) => assert.ok(Math.abs(s.tuning - result.kScores[i]!.tuning) < 2e-3, `k ${s.k}: ${s.tuning} on reflectance, ${result.kScores[i]!.tuning} on the scaled copies`));
  });
});
