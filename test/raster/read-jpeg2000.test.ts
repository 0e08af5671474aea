// JPEG 2000 read by tile: every sample as GDAL reads it (GDAL's JP2OpenJPEG driver writes the files and reads
// them back), the georeferencing of its GeoJP2 or GMLJP2 box, and a mask equal to the one from GeoTIFF bands.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detect } from '../../src/detect/detect.js';
import { InputError } from '../../src/errors.js';
import { openRaster } from '../../src/raster/index.js';
import * as decoders from '../../src/raster/jpeg2000-decoders.js';
import { DATA, L8, assertSameValues, gdal, gdalInfo, noGdal, readWithGdal, tempDir } from './helpers.js';

const GF1 = `${DATA}/gf1/test/bg_slice/GF1_WFV1_E4.4_N9.5_20141201_L1A0000489018_0.jpg`;

/** Writes `from` as JPEG 2000 with GDAL (`options` are JP2OpenJPEG creation options). */
function jp2(from: string, to: string, options: string[], extra: string[] = []): string {
  gdal('gdal_translate', '-q', ...extra, '-of', 'JP2OpenJPEG', ...options.flatMap((o) => ['-co', o]), from, to);
  return to;
}

/** Reads the whole image in 100-row windows (not the tiles' rows), as float32 per band. */
async function readAll(path: string): Promise<{ bands: Float32Array[]; source: Awaited<ReturnType<typeof openRaster>> }> {
  const source = await openRaster([path]);
  const bands = Array.from({ length: source.bandCount }, () => new Float32Array(source.width * source.height));
  for (let y = 0; y < source.height; y += 100) {
    const height = Math.min(100, source.height - y);
    const x = 37; // and columns cut away from the tile grid, then the rest
    for (const [x0, width] of [[0, x], [x, source.width - x]]) {
      const planes = await source.readWindow({ x: x0, y, width, height });
      planes.forEach((plane, b) => {
        for (let r = 0; r < height; r++) bands[b].set(plane.subarray(r * width, (r + 1) * width), (y + r) * source.width + x0);
      });
    }
  }
  await source.close();
  return { bands, source };
}

describe('JPEG 2000', { skip: noGdal }, () => {
  const dir = tempDir();
  // Sentinel-2 style: uint16 DN, one band per file.
  const dn = join(dir, 'b2-dn.tif');
  gdal('gdal_translate', '-q', '-ot', 'UInt16', '-scale', '0', '1', '0', '10000', `${L8}B2_toa.tif`, dn);

  const variants: [string, string, string[], string[]][] = [
    ['reversible (lossless), 128 px tiles, GMLJP2 box and TLM markers only', dn, ['REVERSIBLE=YES', 'QUALITY=100', 'BLOCKXSIZE=128', 'BLOCKYSIZE=128', 'RESOLUTIONS=4', 'TLM=YES', 'GeoJP2=NO', 'GMLJP2=YES'], []],
    ['irreversible (lossy), 200 x 96 px tiles, GeoJP2 box only, precincts and LRCP', dn, ['QUALITY=20', 'BLOCKXSIZE=200', 'BLOCKYSIZE=96', 'PROGRESSION=LRCP', 'PRECINCTS={64,64},{32,32}', 'GeoJP2=YES', 'GMLJP2=NO'], []],
    ['signed 16-bit', `${L8}B3_toa.tif`, ['REVERSIBLE=YES', 'QUALITY=100', 'BLOCKXSIZE=256', 'BLOCKYSIZE=256'], ['-ot', 'Int16', '-scale', '0', '1', '-5000', '5000']],
    ['one tile of the whole image', dn, ['REVERSIBLE=YES', 'QUALITY=100', 'BLOCKXSIZE=1024', 'BLOCKYSIZE=1024'], []],
  ];
  for (const [label, from, options, extra] of variants) {
    it(`${label}: every sample and the georeferencing as GDAL reads them`, async () => {
      const path = jp2(from, join(dir, `${label.split(' ')[0]}.jp2`), options, extra);
      const { bands, source } = await readAll(path);
      const expected = readWithGdal(path, dir);
      assert.equal(source.width, expected.width);
      assert.equal(source.height, expected.height);
      assertSameValues(bands[0], expected.bands[0], label);
      const info = gdalInfo(path);
      assert.deepEqual(source.georef?.geoTransform, info.geoTransform);
      assert.equal(source.georef?.epsg, 32618);
      assert.equal(source.sampleType, extra.includes('Int16') ? 'int16' : 'uint16');
    });
  }

  it('three bands (8-bit RGB, pixel-interleaved by the decoder) and no georeferencing', async () => {
    const path = jp2(GF1, join(dir, 'rgb.jp2'), ['REVERSIBLE=YES', 'QUALITY=100', 'BLOCKXSIZE=256', 'BLOCKYSIZE=256']);
    const { bands, source } = await readAll(path);
    const expected = readWithGdal(path, dir);
    assert.equal(source.bandCount, 3);
    assert.equal(source.sampleType, 'uint8');
    bands.forEach((band, b) => assertSameValues(band, expected.bands[b], `band ${b + 1}`));
    assert.equal(source.georef, null);
  });

  it('Sentinel-2-like band files: the same mask as the same bands in GeoTIFF, georeferenced as the input', async () => {
    const tifs = ['B2', 'B3', 'B4', 'B5'].map((b) => {
      const tif = join(dir, `dn-${b}.tif`);
      gdal('gdal_translate', '-q', '-ot', 'UInt16', '-scale', '0', '1', '0', '10000', `${L8}${b}_toa.tif`, tif);
      return tif;
    });
    const jp2s = tifs.map((tif) => jp2(tif, tif.replace(/\.tif$/, '.jp2'), ['REVERSIBLE=YES', 'QUALITY=100', 'BLOCKXSIZE=128', 'BLOCKYSIZE=128', 'GeoJP2=NO', 'GMLJP2=YES']));
    const fromTiff = await detect(tifs, { mask: join(dir, 'mask-tif.tif'), sensor: 'sentinel2' });
    const fromJp2 = await detect(jp2s, { mask: join(dir, 'mask-jp2.tif'), sensor: 'sentinel2' });
    assert.ok(fromTiff.cloudFraction > 0.01, `some cloud: ${fromTiff.cloudFraction}`);
    assert.equal(fromJp2.cloudFraction, fromTiff.cloudFraction);
    // The files' geo keys differ (the GML box gives an EPSG code, the GeoTIFF its own keys); the pixels may not.
    assertSameValues(readWithGdal(join(dir, 'mask-jp2.tif'), dir).bands[0], readWithGdal(join(dir, 'mask-tif.tif'), dir).bands[0], 'mask');
    const info = gdalInfo(join(dir, 'mask-jp2.tif'));
    assert.deepEqual(info.geoTransform, gdalInfo(jp2s[0]).geoTransform);
    assert.match(info.coordinateSystem.wkt, /UTM zone 18N/);
  });

  it('a sweep of overlapping column ranges decodes each tile once, with the same samples', async () => {
    // 64 px tiles, 8 x 8 of them: a range three tiles wide and all rows is more than the cache holds, so the
    // second range's tiles on the first range's side are the parts kept when the cache let them go.
    const small = jp2(dn, join(dir, 'small-tiles.jp2'), ['REVERSIBLE=YES', 'QUALITY=100', 'BLOCKXSIZE=64', 'BLOCKYSIZE=64']);
    const expected = readWithGdal(small, dir).bands[0];
    const ranges: [number, number][] = [[0, 150], [100, 330], [300, 508]];
    const sweep = async (declare: boolean) => {
      const source = await openRaster([small]);
      if (declare) source.sweep!(ranges);
      const before = decoders.tilesDecoded;
      for (const [from, to] of ranges) {
        for (let y = 0; y < source.height; y += 24) {
          const window = { x: from, y, width: to - from, height: Math.min(24, source.height - y) };
          const [plane] = await source.readWindow(window);
          const want = new Float32Array(plane.length);
          for (let r = 0; r < window.height; r++) for (let c = 0; c < window.width; c++) want[r * window.width + c] = expected[(y + r) * source.width + from + c];
          assertSameValues(plane, want, `range ${from}..${to}, rows ${y}..`);
        }
      }
      await source.close();
      return decoders.tilesDecoded - before;
    };
    assert.equal(await sweep(true), 64);
    assert.ok((await sweep(false)) > 64, 'without the sweep declared, tiles at the range edges are decoded again');
  });

  it('refuses a truncated file, four bands in one codestream, a tile too large to decode, naming the file', async () => {
    const whole = jp2(dn, join(dir, 'whole.jp2'), ['REVERSIBLE=YES', 'QUALITY=100', 'BLOCKXSIZE=128', 'BLOCKYSIZE=128']);
    const cut = join(dir, 'cut.jp2');
    copyFileSync(whole, cut);
    truncateSync(cut, Math.floor(statSync(cut).size * 0.7));
    const refused = async (path: string, pattern: RegExp) => assert.rejects(async () => {
      const source = await openRaster([path]);
      try {
        await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height });
      } finally {
        await source.close();
      }
    }, (err: unknown) => err instanceof InputError && err.message.includes(path) && pattern.test(err.message));
    await refused(cut, /truncated|cut short|corrupt/);
    // A tile-part whose data does not start with SOD. OpenJPEG does not throw on it: it logs the error and leaves
    // the tile it decoded before in place, so tile 0 is read first (one tile at a time goes to the same thread).
    // Then the thread that failed is replaced, and the intact file reads on.
    const bytes = readFileSync(whole);
    const sots = [...bytes.keys()].filter((i) => bytes[i] === 0xff && bytes[i + 1] === 0x90);
    const broken = join(dir, 'broken.jp2');
    bytes.writeUInt16BE(0, sots[1] + 12);
    writeFileSync(broken, bytes);
    const source = await openRaster([broken]);
    await source.readWindow({ x: 0, y: 0, width: 128, height: 128 });
    await assert.rejects(source.readWindow({ x: 128, y: 0, width: 128, height: 128 }), (err: unknown) => err instanceof InputError && err.message.includes(broken) && /cannot decode JPEG 2000 tile 1 \(corrupt data\)/.test(err.message));
    await source.close();
    await refused(broken, /cannot decode JPEG 2000 tile 1 \(corrupt data\)/);
    assertSameValues((await readAll(whole)).bands[0], readWithGdal(whole, dir).bands[0], 'the intact file after the failure');
    const stack = join(dir, 'stack.tif');
    gdal('gdal_translate', '-q', '-b', '1', '-b', '1', '-b', '1', '-b', '1', dn, stack);
    await refused(jp2(stack, join(dir, 'four.jp2'), ['REVERSIBLE=YES', 'QUALITY=100']), /4 bands in one codestream.*gdal_translate -of COG/);
    await assert.rejects(openRaster([whole], { maxBlockBytes: 128 * 128 * 4 - 1 }), (err: unknown) => err instanceof InputError && err.message.includes(whole) && /one JPEG 2000 tile of 128 x 128 pixels, too large.*gdal_translate -of COG/.test(err.message));
    await (await openRaster([whole], { maxBlockBytes: 128 * 128 * 4 })).close();
  });
});
