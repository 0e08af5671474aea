import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../src/errors.js';
import { decodeMask, guessCoding, histogram, parseCoding, readMask, readRawMask } from '../../src/evaluate/index.js';
import { dataRoot } from '../../src/datasets/catalog.js';
import { tempDir, writeTiff } from '../datasets/helpers.js';

const DATA = dataRoot();

function count(mask: Uint8Array): { clear: number; cloud: number; excluded: number } {
  const c = { clear: 0, cloud: 0, excluded: 0 };
  for (const v of mask) {
    if (v === 0) c.clear++;
    else if (v === 1) c.cloud++;
    else if (v === 255) c.excluded++;
    else assert.fail(`decoded value ${v}`);
  }
  return c;
}

test('L8 Biome mask: raw histogram (as gdalinfo -hist reports it) and its mapping', async () => {
  const path = join(DATA, 'l8biome/train/masks/Forest_05_0415.tif');
  const raw = await readRawMask(path);
  assert.equal(raw.width, 256);
  const h = histogram(raw.values);
  // gdalinfo -hist: 64: 4063, 128: 51845, 192: 5828, 255: 3800 (no fill)
  assert.deepEqual([h.counts[0], h.counts[64], h.counts[128], h.counts[192], h.counts[255]], [0, 4063, 51845, 5828, 3800]);
  const decoded = await readMask(path); // auto: the folder name says l8biome
  assert.equal(decoded.coding, 'l8biome');
  // shadow + clear -> clear; thin cloud + cloud -> cloud
  assert.deepEqual(count(decoded.mask), { clear: 4063 + 51845, cloud: 5828 + 3800, excluded: 0 });
  // pixel by pixel
  for (let i = 0; i < raw.values.length; i++) {
    const v = raw.values[i]!;
    assert.equal(decoded.mask[i], v >= 192 ? 1 : v === 0 ? 255 : 0);
  }
});

test('L8 Biome fill (0) becomes excluded', () => {
  assert.deepEqual([...decodeMask([0, 64, 128, 192, 255], 'l8biome')], [255, 0, 0, 1, 1]);
});

test('GF-1 CloudMattingGAN PNG: >= 128 is cloud, grey levels in between included', async () => {
  const path = join(DATA, 'gf1/train/thin_slice/GF1_PMS1_E105.8_N38.3_20160403_L1A0001502368-MSS1.png');
  const raw = await readRawMask(path);
  const h = histogram(raw.values);
  assert.equal(h.counts[0], 153709); // gdalinfo -hist
  assert.equal(h.counts[255], 107269);
  let cloud = 0;
  for (let v = 128; v < 256; v++) cloud += h.counts[v]!;
  assert.ok(cloud > 107269, 'intermediate grey values >= 128 count as cloud');
  const decoded = await readMask(path);
  assert.equal(decoded.coding, 'gf1-png');
  assert.deepEqual(count(decoded.mask), { clear: 512 * 512 - cloud, cloud, excluded: 0 });
});

test('38-Cloud gt and approximate figure labels, guessed from their names', async () => {
  const gt = await readMask(join(DATA, 'landsat8-38cloud/gt_patch_192_10_by_12_LC08_L1TP_002053_20160520_20170324_01_T1.TIF'));
  assert.equal(gt.coding, '38cloud');
  assert.deepEqual(count(gt.mask), { clear: 102123, cloud: 45333, excluded: 0 }); // gdalinfo -hist 0 / 255
  const approx = await readMask(join(DATA, 'approx-figure-labels/hrc_whu/0.00_urban_29_mask.png'));
  assert.equal(approx.coding, 'approx');
  assert.deepEqual(count(approx.mask), { clear: 315628, cloud: 164621, excluded: 0 }); // gdalinfo -hist 0 / 1
});

test('every coding maps its documented values', () => {
  assert.deepEqual([...decodeMask([0, 1, 128, 255], 'gf1-whu')], [255, 0, 0, 1]);
  assert.deepEqual([...decodeMask([0, 255], 'hrc-whu')], [0, 1]);
  assert.deepEqual([...decodeMask([0, 255], '38cloud')], [0, 1]);
  assert.deepEqual([...decodeMask([0, 1, 2, 3, 4, 5, 6], 'sparcs')], [0, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual([...decodeMask([0, 1, 2, 3], 'approx')], [0, 1, 1, 0]);
  assert.deepEqual([...decodeMask([0, 1, 255, NaN], 'wdcd')], [0, 1, 255, 255]);
  assert.deepEqual([...decodeMask([0, 127, 128, 255], 'gf1-png')], [0, 0, 1, 1]);
  assert.throws(() => decodeMask([0, 7], 'sparcs', 'x.png'), (e: unknown) => e instanceof InputError && /x\.png.*value 7/.test(e.message));
  assert.throws(() => decodeMask([2], 'wdcd'), InputError);
  assert.throws(() => parseCoding('nope'), /unknown mask coding "nope"/);
});

test('auto: names decide where they can, values where they are unambiguous, otherwise it asks for --coding', () => {
  assert.equal(guessCoding('/d/x_fixedmask.tif', [0, 128]), 'l8biome');
  assert.equal(guessCoding('/d/hrc_whu/x_ReferenceMask.tif', [0, 255]), 'hrc-whu');
  assert.equal(guessCoding('/d/GF1_WFV1_x_ReferenceMask.tif', [0, 1, 255]), 'gf1-whu');
  // values alone: only L8 Biome has 64/192; only GF1_WHU has 1 and 128 together with 0/255; 4-6 only SPARCS
  assert.equal(guessCoding('/d/a.tif', [0, 64, 128, 192, 255]), 'l8biome');
  assert.equal(guessCoding('/d/a.tif', [0, 1, 128, 255]), 'gf1-whu');
  assert.equal(guessCoding('/d/a.png', [0, 4, 5]), 'sparcs');
  // grey levels fit no class coding: a PNG of them is a CloudMattingGAN-style matte, a TIFF is refused
  assert.equal(guessCoding('/d/a.png', [0, 37, 200, 255]), 'gf1-png');
  assert.throws(() => guessCoding('/d/a.tif', [0, 37, 200, 255]), /fit no known coding/);
  // clear-only 0/128 masks read the same under every coding that allows them (L8 Biome, GF1_WHU): fine
  assert.equal(guessCoding('/d/a.tif', [128]), 'l8biome');
  // 0/1: wdcd/approx read 0 as clear and 1 as cloud, GF1_WHU reads 0 as fill and 1 as clear
  assert.throws(() => guessCoding('/d/a.tif', [0, 1]), /gf1-whu.*wdcd/);
  // 0/255: 38-Cloud/HRC read 0 as clear, GF1_WHU and L8 Biome read it as fill, wdcd reads 255 as nodata
  assert.throws(() => guessCoding('/d/a.tif', [0, 255]), (e: unknown) => e instanceof InputError && /--coding/.test(e.message) && /a\.tif/.test(e.message));
  assert.throws(() => guessCoding('/d/a_ReferenceMask.tif', [0, 255]), /gf1-whu, hrc-whu/);
  // the name says L8 Biome but the values do not fit
  assert.throws(() => guessCoding('/d/x_fixedmask.tif', [0, 3]), /do not fit/);
  assert.throws(() => guessCoding('/d/a.tif', [0.5]), /not an integer/);
});

test('colour-coded PNG masks are refused; grey PNG and TIFF masks are read', async () => {
  const { dir, cleanup } = tempDir('mask');
  try {
    const colour = join(dir, 'colour.png');
    await sharp(Buffer.from([255, 0, 0, 0, 0, 0]), { raw: { width: 2, height: 1, channels: 3 } }).png().toFile(colour);
    await assert.rejects(readMask(colour, 'gf1-png'), (e: unknown) => e instanceof InputError && /colour\.png.*differing colour channels/.test(e.message));
    const tif = join(dir, 'pred.tif');
    await writeTiff(tif, 3, 2, [Uint8Array.of(0, 1, 255, 1, 0, 0)]);
    const m = await readMask(tif, 'wdcd');
    assert.deepEqual([m.width, m.height, [...m.mask]], [3, 2, [0, 1, 255, 1, 0, 0]]);
    await assert.rejects(readMask(join(dir, 'missing.tif'), 'wdcd'), InputError);
  } finally {
    cleanup();
  }
});

test('auto reads every mask of the shared data with the coding its catalog entry names', async () => {
  const { l8biome, gf1, approxFigureLabels, landsat38cloud } = await import('../../src/datasets/index.js');
  const scenes = [...l8biome('train'), ...l8biome('val'), ...l8biome('test'), ...gf1('train'), ...gf1('test'), ...approxFigureLabels(), ...landsat38cloud()];
  assert.equal(scenes.length, 62);
  for (const s of scenes) {
    const raw = await readRawMask(s.mask);
    assert.equal(guessCoding(s.mask, raw.values), s.coding, s.mask);
  }
});

test('float masks with NaN: read as float, NaN excluded', async () => {
  const { dir, cleanup } = tempDir('mask');
  try {
    const tif = join(dir, 'f.tif');
    await writeTiff(tif, 2, 2, [Float32Array.of(0, 255, NaN, 255)]);
    const raw = await readRawMask(tif);
    assert.ok(raw.values instanceof Float32Array);
    const m = await readMask(tif, '38cloud');
    assert.deepEqual([...m.mask], [0, 1, 255, 1]);
  } finally {
    cleanup();
  }
});
