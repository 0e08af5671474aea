import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openRaster } from '../../src/raster/index.js';
import { DATA, L7, L8, assertSameValues, crop, gdal, gdalInfo, noGdal, readWithGdal, tempDir } from './helpers.js';

/** Fixture recipes: gdal_translate arguments from a real file; every sample type, compression and layout. */
const FIXTURES: { name: string; type: string; args: string[]; src: string }[] = [
  { name: 'uint8 striped uncompressed 6 bands', type: 'uint8', src: L7, args: [] },
  { name: 'uint8 tiled LZW', type: 'uint8', src: L7, args: ['-co', 'COMPRESS=LZW', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=64', '-co', 'BLOCKYSIZE=64'] },
  { name: 'uint8 band-interleaved deflate', type: 'uint8', src: L7, args: ['-co', 'COMPRESS=DEFLATE', '-co', 'INTERLEAVE=BAND'] },
  { name: 'uint8 tiled packbits', type: 'uint8', src: L7, args: ['-co', 'COMPRESS=PACKBITS', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=128', '-co', 'BLOCKYSIZE=32'] },
  { name: 'uint8 BigTIFF tiled deflate', type: 'uint8', src: L7, args: ['-co', 'BIGTIFF=YES', '-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE'] },
  { name: 'uint16 tiled LZW predictor 2', type: 'uint16', src: L7, args: ['-ot', 'UInt16', '-scale', '0', '255', '0', '65000', '-co', 'COMPRESS=LZW', '-co', 'PREDICTOR=2', '-co', 'TILED=YES'] },
  { name: 'int16 deflate', type: 'int16', src: L7, args: ['-ot', 'Int16', '-scale', '0', '255', '-32000', '32000', '-co', 'COMPRESS=DEFLATE'] },
  { name: 'uint32 tiled uncompressed', type: 'uint32', src: L7, args: ['-ot', 'UInt32', '-scale', '0', '255', '0', '4000000000', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=96', '-co', 'BLOCKYSIZE=48'] },
  { name: 'int32 LZW', type: 'int32', src: L7, args: ['-ot', 'Int32', '-scale', '0', '255', '-2000000000', '2000000000', '-co', 'COMPRESS=LZW'] },
  { name: 'float32 tiled deflate predictor 3', type: 'float32', src: `${L8}B2_toa.tif`, args: ['-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=3', '-co', 'TILED=YES'] },
  { name: 'int16 big-endian tiled (read through geotiff.js, not the direct copy)', type: 'int16', src: L7, args: ['-ot', 'Int16', '-scale', '0', '255', '-32000', '32000', '-co', 'ENDIANNESS=BIG', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=64', '-co', 'BLOCKYSIZE=64'] },
  { name: 'float64 LZW', type: 'float64', src: `${L8}B2_toa.tif`, args: ['-ot', 'Float64', '-co', 'COMPRESS=LZW'] },
  { name: 'uint8 RGB tiled WebP lossless (decoded by sharp)', type: 'uint8', src: L7, args: ['-b', '1', '-b', '2', '-b', '3', '-co', 'COMPRESS=WEBP', '-co', 'WEBP_LOSSLESS=YES', '-co', 'TILED=YES', '-co', 'BLOCKXSIZE=128', '-co', 'BLOCKYSIZE=128'] },
  { name: 'uint8 RGBA striped WebP lossy', type: 'uint8', src: L7, args: ['-b', '1', '-b', '2', '-b', '3', '-b', '4', '-co', 'COMPRESS=WEBP', '-co', 'WEBP_LEVEL=60'] },
  { name: 'uint16 ZSTD', type: 'uint16', src: `${DATA}/landsat8-38cloud/red_patch_192_10_by_12_LC08_L1TP_002053_20160520_20170324_01_T1.TIF`, args: ['-co', 'COMPRESS=ZSTD'] },
];

describe('openRaster reads GeoTIFFs like GDAL does', { skip: noGdal }, () => {
  const dir = tempDir();
  for (const [k, f] of FIXTURES.entries()) {
    it(f.name, async () => {
      const path = join(dir, `fixture-${k}.tif`);
      gdal('gdal_translate', '-q', ...f.args, f.src, path);
      const expected = readWithGdal(path, dir);
      const source = await openRaster([path]);
      try {
        assert.equal(source.sampleType, f.type);
        assert.equal(source.width, expected.width);
        assert.equal(source.height, expected.height);
        assert.equal(source.bandCount, expected.bands.length);
        // Whole image, all bands.
        const all = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height });
        all.forEach((band, b) => {
          assert.ok(band instanceof Float32Array);
          assertSameValues(band, Float32Array.from(expected.bands[b]), `band ${b + 1}`);
        });
        // An odd window crossing block edges, bands in a chosen order.
        const bands = source.bandCount > 1 ? [source.bandCount - 1, 0] : [0];
        const win = { x: 61, y: 29, width: 137, height: 71 };
        const part = await source.readWindow(win, bands);
        bands.forEach((b, i) => {
          assertSameValues(part[i], crop(expected.bands[b], expected.width, win.x, win.y, win.width, win.height).map(Math.fround), `window band ${b + 1}`);
        });
        // Read again into arrays that hold other values (a caller reusing its arrays): the same values.
        const stale = bands.map(() => new Float32Array(win.width * win.height + 50).fill(-7));
        const again = await source.readWindow(win, bands, stale);
        again.forEach((band, i) => assert.deepEqual(band, part[i], `window band ${bands[i] + 1}, read into used arrays`));
      } finally {
        await source.close();
      }
    });
  }

  it('reads the georeferencing and nodata GDAL reports', async () => {
    const path = join(dir, 'nodata.tif');
    gdal('gdal_translate', '-q', '-a_nodata', '-9999', `${L8}B2_toa.tif`, path);
    const info = gdalInfo(path);
    const source = await openRaster([path]);
    assert.deepEqual(source.georef?.geoTransform, info.geoTransform);
    assert.equal(source.georef?.epsg, 32618);
    assert.equal(source.nodata, -9999);
    assert.match(source.georef?.geoAsciiParams ?? '', /UTM zone 18N/);
    await source.close();
  });

  it('reads a ModelTransformation (rotated) geotransform', async () => {
    const path = join(dir, 'rotated.tif');
    gdal('gdal_translate', '-q', '-b', '1', L7, join(dir, 'plain.tif'));
    gdal('gdal_edit.py', '-a_srs', 'EPSG:32633', '-a_ullr', '0', '0', '1', '1', join(dir, 'plain.tif'));
    // A rotated transform can only be stored as ModelTransformation.
    gdal(
      '/usr/bin/python3', '-c',
      `from osgeo import gdal\nds=gdal.Open('${join(dir, 'plain.tif')}')\nout=gdal.GetDriverByName('GTiff').CreateCopy('${path}', ds)\nout.SetGeoTransform([500000, 30, 5, 4000000, 4, -30])\nout=None`,
    );
    const source = await openRaster([path]);
    assert.deepEqual(source.georef?.geoTransform, gdalInfo(path).geoTransform);
    assert.ok(source.georef?.modelTransformation);
    await source.close();
  });

  it('reads PNG (lossless) exactly as GDAL does, without georeferencing', async () => {
    const path = `${DATA}/hrc-whu-unlabelled/${(await import('node:fs')).readdirSync(`${DATA}/hrc-whu-unlabelled`).find((n) => n.endsWith('.png'))}`;
    const expected = readWithGdal(path, dir);
    const source = await openRaster([path]);
    assert.equal(source.georef, null);
    assert.equal(source.sampleType, 'uint8');
    const win = { x: 100, y: 50, width: 300, height: 200 };
    const got = await source.readWindow(win);
    assert.equal(got.length, expected.bands.length);
    got.forEach((band, b) => assert.deepEqual(Array.from(band), crop(expected.bands[b], expected.width, win.x, win.y, win.width, win.height)));
    await source.close();
  });

  it('reads JPEG within decoder rounding of GDAL', async () => {
    const path = `${DATA}/gf1/train/bg_slice/GF1_WFV1_E12.6_N9.6_20151220_L1A0001262038_0.jpg`;
    const expected = readWithGdal(path, dir);
    const source = await openRaster([path]);
    const [red] = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height }, [0]);
    let worst = 0;
    for (let i = 0; i < red.length; i++) worst = Math.max(worst, Math.abs(red[i] - expected.bands[0][i]));
    assert.ok(worst <= 3, `largest difference ${worst}`);
    await source.close();
  });

  it('reads JPEG-in-TIFF with YCbCr pixels (a GDAL orthophoto) as red, green, blue, as GDAL does', async () => {
    const path = join(dir, 'ycbcr.tif');
    const jpeg = `${DATA}/gf1/test/thick_slice/GF1_PMS2_E110.8_N40.7_20160325_L1A0001486729-MSS2.jpg`;
    gdal('gdal_translate', '-q', '-co', 'COMPRESS=JPEG', '-co', 'PHOTOMETRIC=YCBCR', '-co', 'TILED=YES', jpeg, path);
    const expected = readWithGdal(path, dir);
    const source = await openRaster([path]);
    const win = { x: 100, y: 200, width: 300, height: 250 };
    // Bands asked out of order: each must be the colour asked, not a stored Y, Cb or Cr plane.
    const got = await source.readWindow(win, [2, 0, 1]);
    [2, 0, 1].forEach((b, i) => {
      const want = crop(expected.bands[b], expected.width, win.x, win.y, win.width, win.height);
      let sum = 0;
      let worst = 0;
      for (let j = 0; j < want.length; j++) {
        const d = Math.abs(got[i][j] - want[j]);
        sum += d;
        worst = Math.max(worst, d);
      }
      // libjpeg (GDAL) and geotiff.js upsample chroma differently: about 0.3 DN on average, up to 9 where colour changes.
      assert.ok(sum / want.length < 1 && worst <= 16, `band ${b + 1}: mean difference ${sum / want.length}, largest ${worst}`);
    });
    await source.close();
  });

  it('pixels the file marks transparent (alpha 0) or masked (GDAL\'s internal or external mask) read as NaN, as GDAL masks them', async () => {
    // A real alpha: 0 where the L7 scene's NIR is dark (water), 255 elsewhere.
    const rgba = join(dir, 'rgba.tif');
    gdal('gdal_translate', '-q', '-b', '1', '-b', '2', '-b', '3', '-b', '4', '-scale_4', '40', '41', '0', '255', '-colorinterp', 'red,green,blue,alpha', L7, rgba);
    // The same bands as GDAL copies them from a 6-band stack (ExtraSamples says alpha, GDAL's own metadata says
    // "Undefined", and GDAL masks nothing): no pixel may be lost.
    const undeclared = join(dir, 'undeclared.tif');
    gdal('gdal_translate', '-q', '-b', '1', '-b', '2', '-b', '3', '-b', '4', '-scale_4', '40', '41', '0', '255', '-co', 'ALPHA=YES', L7, undeclared);
    const masked = join(dir, 'masked.tif');
    gdal('gdal_translate', '-q', '-b', '1', '-b', '2', '-b', '3', '-mask', '4', '-co', 'COMPRESS=JPEG', '--config', 'GDAL_TIFF_INTERNAL_MASK', 'YES', rgba, masked);
    // The mask in a file of its own beside the TIFF (masked.tif.msk), as GDAL writes it without the internal option.
    const external = join(dir, 'external.tif');
    gdal('gdal_translate', '-q', '-b', '1', '-b', '2', '-b', '3', '-mask', '4', '--config', 'GDAL_TIFF_INTERNAL_MASK', 'NO', rgba, external);
    assert.ok(existsSync(`${external}.msk`));
    const png = join(dir, 'rgba.png');
    gdal('gdal_translate', '-q', '-of', 'PNG', rgba, png);
    // [file, least share masked, largest difference in value from GDAL (JPEG decoders round differently)]
    for (const [path, share, tolerance] of [[rgba, 0.05, 0], [masked, 0.05, 3], [external, 0.05, 0], [png, 0.05, 0], [undeclared, 0, 0]] as const) {
      const maskPath = `${path}.gdal-mask.tif`;
      gdal('gdal_translate', '-q', '-of', 'GTiff', '-b', 'mask', path, maskPath);
      const gdalMask = readWithGdal(maskPath, dir).bands[0];
      const expected = readWithGdal(path, dir);
      const source = await openRaster([path]);
      const got = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height }, [0, 1, 2]);
      await source.close();
      let hidden = 0;
      for (let i = 0; i < gdalMask.length; i++) {
        for (let b = 0; b < 3; b++) {
          const want = gdalMask[i] === 0 ? NaN : Math.fround(expected.bands[b][i]);
          if (!(Object.is(got[b][i], want) || Math.abs(got[b][i] - want) <= tolerance)) assert.fail(`${path}: band ${b + 1} pixel ${i} is ${got[b][i]}, expected ${want} (GDAL mask ${gdalMask[i]})`);
        }
        if (gdalMask[i] === 0) hidden++;
      }
      assert.ok(share === 0 ? hidden === 0 : hidden > share * gdalMask.length && hidden < 0.5 * gdalMask.length, `${path}: ${hidden} of ${gdalMask.length} pixels masked`);
    }
  });

  it('stacks single-band files in the order given', async () => {
    const names = ['red', 'green', 'blue'].map(
      (c) => `${DATA}/landsat8-38cloud/${c}_patch_192_10_by_12_LC08_L1TP_002053_20160520_20170324_01_T1.TIF`,
    );
    const source = await openRaster(names);
    assert.equal(source.bandCount, 3);
    assert.deepEqual(source.paths, names);
    const win = { x: 10, y: 300, width: 50, height: 40 };
    const stacked = await source.readWindow(win, [2, 0]);
    const blue = readWithGdal(names[2], dir);
    const red = readWithGdal(names[0], dir);
    assert.deepEqual(Array.from(stacked[0]), crop(blue.bands[0], blue.width, win.x, win.y, win.width, win.height));
    assert.deepEqual(Array.from(stacked[1]), crop(red.bands[0], red.width, win.x, win.y, win.width, win.height));
    await source.close();
  });

  it('reads windows of a large (sparse) honest file without decoding it all', async () => {
    const path = join(dir, 'large.tif');
    gdal('gdal_create', '-q', '-outsize', '40000', '30000', '-ot', 'Byte', '-co', 'TILED=YES', '-co', 'COMPRESS=DEFLATE', '-co', 'SPARSE_OK=TRUE', path);
    const source = await openRaster([path]);
    assert.equal(source.width, 40000);
    const [band] = await source.readWindow({ x: 30000, y: 25000, width: 300, height: 200 });
    assert.equal(band.length, 60000);
    assert.ok(band.every((v) => v === 0));
    await source.close();
  });
});
