// An alpha band marks transparency: it is counted as a band (band numbers match GDAL's) but is never read as data.
// Before, an RGBA PNG trained its alpha as a fourth band (and the model recorded reflectance), the 4-band default
// model took it for NIR, and a transparent pixel of a PNG truth mask was scored as the class value under it.
// Real GF-1 slices with an alpha made here (transparent on a band of rows).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { InputError } from '../../src/errors.js';
import { blockFolder, loadBlocks } from '../../src/datasets/index.js';
import { detect } from '../../src/detect/detect.js';
import { readMask } from '../../src/evaluate/index.js';
import { openRaster } from '../../src/raster/index.js';
import { DATA, noGdal, readWithGdal, tempDir } from './helpers.js';

const SLICE = `${DATA}/gf1/train/thick_slice/GF1_PMS1_E104.0_N41.1_20160314_L1A0001467562-MSS1`;
const SIDE = 512;
/** Rows 100-139 transparent. */
const transparentRow = (y: number): boolean => y >= 100 && y < 140;

/** The slice's pixels (RGB, or a grey mask) with an alpha channel added, as a PNG. */
async function withAlpha(from: string, to: string): Promise<Buffer> {
  const { data, info } = await sharp(from).raw().toBuffer({ resolveWithObject: true });
  const c = info.channels;
  const out = Buffer.alloc(info.width * info.height * (c + 1));
  for (let i = 0; i < info.width * info.height; i++) {
    for (let b = 0; b < c; b++) out[i * (c + 1) + b] = data[i * c + b]!;
    out[i * (c + 1) + c] = transparentRow(Math.floor(i / info.width)) ? 0 : 255;
  }
  await sharp(out, { raw: { width: info.width, height: info.height, channels: (c + 1) as 2 | 4 } }).png().toFile(to);
  return data;
}

describe('an alpha band is transparency, not data', () => {
  const dir = tempDir();
  const rgba = join(dir, 'slice-rgba.png');
  const rgb = join(dir, 'slice-rgb.png');
  let pixels: Buffer;

  it('reads as a band GDAL numbers, marked as alpha, its transparent pixels NaN', async () => {
    pixels = await withAlpha(`${SLICE}.jpg`, rgba);
    await sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toFile(rgb);
    const source = await openRaster([rgba]);
    assert.deepEqual([source.bandCount, source.alphaBand], [4, 3]);
    const [red] = await source.readWindow({ x: 0, y: 99, width: SIDE, height: 2 }, [0]);
    await source.close();
    assert.equal(red![0], pixels[99 * SIDE * 3]);
    assert.ok(Number.isNaN(red![SIDE]));
  });

  it('block folders of RGBA PNGs give 3 bands, transparent pixels as no data; --bands naming the alpha is refused', async () => {
    for (const label of ['cloudy', 'clear']) mkdirSync(join(dir, 'blocks', label), { recursive: true });
    // two 64 px blocks cut from the RGBA slice: one opaque, one crossing the transparent rows
    await sharp(rgba).extract({ left: 0, top: 0, width: 64, height: 64 }).png().toFile(join(dir, 'blocks', 'clear', 'a.png'));
    await sharp(rgba).extract({ left: 0, top: 90, width: 64, height: 64 }).png().toFile(join(dir, 'blocks', 'cloudy', 'b.png'));
    const source = await blockFolder(join(dir, 'blocks'));
    assert.equal(source.bandCount, 3);
    const [a, b] = await loadBlocks(source.blocks);
    assert.equal(a!.bands.length, 3 * 64 * 64);
    assert.deepEqual([a!.bands[0], a!.bands[64 * 64], a!.bands[2 * 64 * 64]], [...pixels.subarray(0, 3)]);
    assert.equal(a!.validFraction, 1);
    assert.equal(b!.validFraction, (64 - 40) / 64); // rows 100-139 of 90-153
    await assert.rejects(
      blockFolder(join(dir, 'blocks'), { bands: [0, 1, 3] }),
      (e: unknown) => e instanceof InputError && /band 4 is the file's alpha/.test(e.message) && e.message.includes('a.png'),
    );
  });

  it('detection: the 4-band model refuses the alpha as NIR; the rgb model masks transparent pixels as nodata', { skip: noGdal }, async () => {
    await assert.rejects(
      detect([rgba], { mask: join(dir, 'default.tif') }),
      (e: unknown) => e instanceof InputError && /band 4 is the input's alpha/.test(e.message) && /--model rgb/.test(e.message) && e.message.includes(rgba),
    );
    await detect([rgba], { mask: join(dir, 'rgba.tif'), model: 'rgb' });
    await detect([rgb], { mask: join(dir, 'rgb.tif'), model: 'rgb' });
    const [withAlphaMask, plainMask] = ['rgba.tif', 'rgb.tif'].map((name) => readWithGdal(join(dir, name), dir).bands[0]!);
    let differ = 0;
    for (let i = 0; i < SIDE * SIDE; i++) {
      const transparent = transparentRow(Math.floor(i / SIDE));
      if (transparent) assert.equal(withAlphaMask[i], 255, `pixel ${i}`);
      else {
        assert.notEqual(withAlphaMask[i], 255, `pixel ${i}`);
        if (withAlphaMask[i] !== plainMask[i]) differ++;
      }
    }
    // Blocks near the transparent rows see fewer valid pixels; the rest of the mask is the RGB image's.
    assert.ok(differ < 0.05 * SIDE * SIDE, `${differ} opaque pixels differ`);
  });

  it('a PNG truth mask: transparent pixels are excluded, not scored as the class value under them', async () => {
    const mask = join(dir, 'mask-alpha.png');
    await withAlpha(`${SLICE}.png`, mask);
    const plain = await readMask(`${SLICE}.png`, 'gf1-png');
    const got = await readMask(mask, 'gf1-png');
    for (let i = 0; i < SIDE * SIDE; i++) {
      const want = transparentRow(Math.floor(i / SIDE)) ? 255 : plain.mask[i];
      if (got.mask[i] !== want) assert.fail(`pixel ${i}: ${got.mask[i]}, expected ${want}`);
    }
  });
});
