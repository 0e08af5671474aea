import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detect, sceneCam } from '../../src/detect/detect.js';
import { InputError } from '../../src/errors.js';
import { createGeoTiffWriter, openRaster } from '../../src/raster/index.js';
import sharp from 'sharp';
import { readRawMask } from '../../src/evaluate/index.js';
import { DATA, L7, L8, craftTiff, gdal, noGdal, tempDir } from './helpers.js';

/** Asserts that `work` rejects with an InputError naming `path` and matching `pattern`. */
async function rejectsNaming(work: () => Promise<unknown>, path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.ok(err.message.includes(path), `message does not name ${path}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('bad input gives an InputError naming the file', () => {
  const dir = tempDir();

  it('missing file', async () => {
    const path = join(dir, 'nope.tif');
    await rejectsNaming(() => openRaster([path]), path, /not found/);
  });

  it('text file', async () => {
    const path = join(dir, 'notes.tif');
    writeFileSync(path, 'this is not an image\n');
    await rejectsNaming(() => openRaster([path]), path, /not a raster/);
  });

  it('a ZIP archive (a zipped Sentinel-2 SAFE) is named as such, with what to do', async () => {
    const path = join(dir, 'S2A_MSIL1C_20250101T000000_N0511_R001_T31TDH_20250101T000000.SAFE.zip');
    const made = spawnSync('/usr/bin/python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("S2A.SAFE/MTD_MSIL1C.xml", "<x/>")', path]);
    assert.equal(made.status, 0, String(made.stderr));
    await rejectsNaming(() => openRaster([path]), path, /is a ZIP archive.*unzip it/);
  });

  it('a damaged ZSTD tile is refused at once (the stream decoder spun on it for ever)', { skip: noGdal }, async () => {
    const clean = join(dir, 'zstd.tif');
    const path = join(dir, 'zstd-damaged.tif');
    gdal('gdal_translate', '-q', '-co', 'COMPRESS=ZSTD', '-co', 'PREDICTOR=3', '-co', 'TILED=YES', `${L8}B2_toa.tif`, clean);
    // The first tile's frame header and the bytes after it flipped, where GDAL says the tile starts.
    const offset = Number(gdal('/usr/bin/python3', '-c', 'import sys; from osgeo import gdal; ds = gdal.Open(sys.argv[1]); print(ds.GetRasterBand(1).GetMetadataItem("BLOCK_OFFSET_0_0", "TIFF"))', clean));
    const bytes = readFileSync(clean);
    for (let i = offset + 4; i < offset + 68; i++) bytes[i] ^= 0xa5;
    writeFileSync(path, bytes);
    const raster = await openRaster([path]);
    try {
      await rejectsNaming(() => raster.readWindow({ x: 0, y: 0, width: 64, height: 64 }, [0]), path, /damaged ZSTD data/);
    } finally {
      await raster.close();
    }
  });

  it('empty file', async () => {
    const path = join(dir, 'empty.tif');
    writeFileSync(path, '');
    await rejectsNaming(() => openRaster([path]), path, /empty/);
  });

  it('a folder', async () => {
    await rejectsNaming(() => openRaster([dir]), dir, /folder/);
  });

  it('TIFF truncated in the pixel data', async () => {
    const path = join(dir, 'truncated.tif');
    const bytes = readFileSync(`${L8}B2_toa.tif`);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await rejectsNaming(() => openRaster([path]), path, /truncated/);
  });

  it('TIFF truncated in the header', async () => {
    const path = join(dir, 'header-only.tif');
    writeFileSync(path, readFileSync(L7).subarray(0, 12));
    await rejectsNaming(() => openRaster([path]), path, /corrupt|truncated/);
  });

  it('zero-width header', async () => {
    const path = join(dir, 'zero.tif');
    craftTiff(path, 0, 10);
    await rejectsNaming(() => openRaster([path]), path, /0 x 10/);
  });

  it('header claiming 10^6 x 10^6 pixels is refused before allocating', async () => {
    const path = join(dir, 'huge.tif');
    craftTiff(path, 1_000_000, 1_000_000);
    await rejectsNaming(() => openRaster([path]), path, /1000000 x 1000000/);
  });

  it('a single strip too large to decode at once', async () => {
    const path = join(dir, 'one-strip.tif');
    craftTiff(path, 100_000, 20_000);
    await rejectsNaming(() => openRaster([path]), path, /re-tile/);
  });

  for (const [compression, name] of [['LZMA', /LZMA/]] as const) {
    it(`unsupported compression ${compression}`, { skip: noGdal }, async () => {
      const path = join(dir, `${compression}.tif`);
      gdal('gdal_translate', '-q', '-b', '1', '-b', '2', '-b', '3', '-co', `COMPRESS=${compression}`, L7, path);
      await rejectsNaming(() => openRaster([path]), path, name);
    });
  }

  it('a CMYK JPEG (print colours) is named as such, as an image and as a mask, not called corrupt', async () => {
    const path = join(dir, 'cmyk.jpg');
    await sharp(`${DATA}/gf1/train/thick_slice/GF1_PMS1_E104.0_N41.1_20160314_L1A0001467562-MSS1.jpg`).toColourspace('cmyk').jpeg().toFile(path);
    assert.equal((await sharp(path).metadata()).space, 'cmyk');
    await rejectsNaming(() => openRaster([path]), path, /CMYK/);
    await rejectsNaming(() => readRawMask(path), path, /CMYK/);
  });

  it('a JPEG damaged mid-file is read with a warning naming the file and the damage; a clean one has none', async () => {
    const clean = `${DATA}/gf1/train/thick_slice/GF1_PMS1_E104.0_N41.1_20160314_L1A0001467562-MSS1.jpg`;
    const bytes = readFileSync(clean);
    // Garbage in the entropy-coded data halfway through: libjpeg decodes past it and only warns.
    for (let i = bytes.length >> 1; i < (bytes.length >> 1) + 400; i++) bytes[i] = i % 7 === 0 ? 0xff : bytes[i] ^ 0x5a;
    const path = join(dir, 'damaged.jpg');
    writeFileSync(path, bytes);
    const damaged = await openRaster([path]);
    assert.equal(damaged.warnings?.length, 1);
    assert.match(damaged.warnings![0], /damaged\.jpg: damaged image data, decoded past it \(VipsJpeg: Corrupt JPEG data/);
    const [band] = await damaged.readWindow({ x: 0, y: 0, width: damaged.width, height: damaged.height }, [0]);
    assert.equal(band.length, damaged.width * damaged.height);
    await damaged.close();
    const good = await openRaster([clean]);
    assert.deepEqual(good.warnings ?? [], []);
    await good.close();
  });

  it('band files of different size', { skip: noGdal }, async () => {
    const small = join(dir, 'small.tif');
    gdal('gdal_translate', '-q', '-srcwin', '0', '0', '100', '100', `${L8}B3_toa.tif`, small);
    await rejectsNaming(() => openRaster([`${L8}B2_toa.tif`, small]), small, /100 x 100/);
  });

  it('band files with different georeferencing', { skip: noGdal }, async () => {
    const shifted = join(dir, 'shifted.tif');
    gdal('gdal_translate', '-q', '-a_ullr', '696465', '4563375', '757425', '4508415', `${L8}B3_toa.tif`, shifted);
    await rejectsNaming(() => openRaster([`${L8}B2_toa.tif`, shifted]), shifted, /geotransform/);
    const otherCrs = join(dir, 'other-crs.tif');
    gdal('gdal_translate', '-q', '-a_srs', 'EPSG:32617', `${L8}B3_toa.tif`, otherCrs);
    await rejectsNaming(() => openRaster([`${L8}B2_toa.tif`, otherCrs]), otherCrs, /EPSG 32617/);
  });
});

describe('writer refuses bad targets and leaves nothing behind', () => {
  const dir = tempDir();
  const options = { width: 40, height: 30, sampleType: 'uint8' as const };

  it('unwritable folder (a path under a regular file)', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    const path = join(file, 'mask.tif');
    await rejectsNaming(() => createGeoTiffWriter(path, options), path, /cannot create/);
  });

  it('existing file without overwrite', async () => {
    const path = join(dir, 'exists.tif');
    copyFileSync(L7, path);
    await rejectsNaming(() => createGeoTiffWriter(path, options), path, /already exists/);
    assert.deepEqual(readFileSync(path), readFileSync(L7));
  });

  it('detect refuses an existing output before it reads the input', async () => {
    const path = join(dir, 'earlier-mask.tif');
    copyFileSync(L7, path);
    const input = join(dir, 'unread.tif');
    writeFileSync(input, 'not read: the output is refused first\n');
    await rejectsNaming(() => detect([input], { mask: path }), path, /already exists/);
    assert.deepEqual(readFileSync(path), readFileSync(L7));
  });

  for (const cog of [false, true]) {
    it(`abort and failed writes remove every temporary file (cog: ${cog})`, async () => {
      const sub = join(dir, `abort-${cog}`);
      (await import('node:fs')).mkdirSync(sub);
      const path = join(sub, 'mask.tif');
      const w = await createGeoTiffWriter(path, { width: 1200, height: 900, sampleType: 'uint8', cog });
      await w.writeRows(0, 600, new Uint8Array(1200 * 600));
      assert.ok(readdirSync(sub).length > 0, 'temporary files exist while writing');
      await w.abort();
      assert.deepEqual(readdirSync(sub), []);

      const w2 = await createGeoTiffWriter(path, { width: 1200, height: 900, sampleType: 'uint8', cog });
      await w2.writeRows(0, 10, new Uint8Array(1200 * 10));
      await assert.rejects(() => w2.writeRows(20, 10, new Uint8Array(1200 * 10)), /in order/);
      assert.deepEqual(readdirSync(sub), []);
      await w2.abort();
    });
  }

  it('finish with rows missing fails and leaves nothing', async () => {
    const path = join(dir, 'short.tif');
    const w = await createGeoTiffWriter(path, options);
    await w.writeRows(0, 10, new Uint8Array(400));
    await assert.rejects(() => w.finish(), /only 400 of 1200 pixels/);
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('short')), []);
  });

  it('detect and sceneCam refuse numeric options out of range, naming the option, and write nothing', async () => {
    const mask = join(dir, 'numbers.tif');
    // A NaN k or threshold made every pixel clear without a word; the rest would be taken as some default.
    const cases: [Record<string, number>, string][] = [[{ k: NaN }, '--k'], [{ threshold: Infinity }, '--threshold'], [{ threads: 0 }, '--threads'], [{ minSize: 1.5 }, '--min-size'], [{ darkGuard: -1 }, '--dark-guard'], [{ stripeThreads: 0 }, '--stripe-threads']];
    for (const [options, option] of cases) {
      await rejectsNaming(() => detect([L7], { mask, ...options }), option, /expected /);
    }
    await rejectsNaming(() => sceneCam([L7], { chunkRows: 0 }), 'chunkRows', /expected a whole number, got 0/);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('numbers')), []);
  });
});
