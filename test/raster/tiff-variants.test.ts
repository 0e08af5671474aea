// TIFF layouts GDAL writes and reads that the reader once got wrong: big-endian (Motorola) files (refused as
// "truncated": geotiff.js read their StripOffsets byte-swapped), packed samples (NBITS=12 read 35330 for GDAL's
// 394; 1-bit in more than one band), and georeferencing outside the usual tags (GCPs, an .aux.xml or world file)
// that was dropped. GDAL makes every variant from real data and is the reference reader.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGeoTiffWriter, openRaster } from '../../src/raster/index.js';
import { L7, assertSameValues, gdal, gdalInfo, noGdal, readWithGdal, tempDir } from './helpers.js';

const SAMPLE = 'samples/landsat8-longisland-120m/LC80130312015295LGN00_';
const B2 = `${SAMPLE}B2_toa.tif`;

async function readAll(path: string) {
  const source = await openRaster([path]);
  try {
    const bands = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height });
    return { source, bands };
  } finally {
    await source.close();
  }
}

/** Writes `input` through gdal_translate with `args`, then asserts that wdcd reads every band as GDAL does. */
async function assertReadsAsGdal(dir: string, name: string, input: string, args: string[], sampleType: string): Promise<void> {
  const path = join(dir, name);
  gdal('gdal_translate', '-q', ...args, input, path);
  const expected = readWithGdal(path, dir);
  const { source, bands } = await readAll(path);
  assert.equal(source.sampleType, sampleType, name);
  assert.equal(bands.length, expected.bands.length, name);
  bands.forEach((band, b) => assertSameValues(band, Float32Array.from(expected.bands[b]!), `${name} band ${b + 1}`));
  assert.ok(expected.bands[0]!.some((v) => v !== expected.bands[0]![0]), `${name}: not a constant image`);
}

describe('big-endian TIFFs read as GDAL reads them', { skip: noGdal }, () => {
  const dir = tempDir();
  // uint8 (6-band L7, pixel-interleaved), uint16 and float32 (L8 reflectance), striped and tiled, plain,
  // LZW, PackBits, Deflate with each predictor, band-interleaved.
  const types = [
    ['u8', L7, [], 'uint8'],
    ['u16', B2, ['-ot', 'UInt16', '-scale', '0', '1', '0', '40000'], 'uint16'],
    ['f32', B2, [], 'float32'],
  ] as const;
  const layouts = [
    ['strips', []],
    ['tiles', ['-co', 'TILED=YES', '-co', 'BLOCKXSIZE=128', '-co', 'BLOCKYSIZE=128']],
    ['lzw-strips', ['-co', 'COMPRESS=LZW']],
    ['packbits-strips', ['-co', 'COMPRESS=PACKBITS']],
    ['deflate-tiles', ['-co', 'COMPRESS=DEFLATE', '-co', 'TILED=YES']],
    ['deflate-pred2', ['-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=2']],
    ['band-interleaved', ['-co', 'INTERLEAVE=BAND', '-co', 'COMPRESS=ZSTD']],
  ] as const;
  for (const [type, input, typeArgs, sampleType] of types) {
    it(`${type}: every layout`, async () => {
      for (const [layout, args] of layouts) {
        await assertReadsAsGdal(dir, `${type}-${layout}.tif`, input, ['-co', 'ENDIANNESS=BIG', ...typeArgs, ...args], sampleType);
      }
      if (type === 'f32') await assertReadsAsGdal(dir, 'f32-pred3.tif', input, ['-co', 'ENDIANNESS=BIG', '-co', 'COMPRESS=DEFLATE', '-co', 'PREDICTOR=3'], sampleType);
    });
  }

  it('the offsets are the file\'s: the header of a striped big-endian file is not "truncated"', async () => {
    const path = join(dir, 'be-strips.tif');
    gdal('gdal_translate', '-q', '-co', 'ENDIANNESS=BIG', '-co', 'COMPRESS=DEFLATE', B2, path);
    assert.match(readFileSync(path).subarray(0, 2).toString('latin1'), /MM/);
    const { source } = await readAll(path);
    assert.deepEqual(source.georef?.geoTransform, [696345, 120, 0, 4563375, 0, -120]);
  });

  it('big-endian LERC, which geotiff.js decodes in the wrong byte order, is refused with the conversion', async () => {
    const path = join(dir, 'be-lerc.tif');
    gdal('gdal_translate', '-q', '-co', 'ENDIANNESS=BIG', '-co', 'COMPRESS=LERC', '-co', 'TILED=YES', B2, path);
    await assert.rejects(openRaster([path]), /big-endian \(Motorola\).*gdal_translate -co ENDIANNESS=LITTLE/);
  });
});

describe('packed samples (NBITS) read as GDAL reads them', { skip: noGdal }, () => {
  const dir = tempDir();
  for (const endian of ['LITTLE', 'BIG']) {
    it(`1, 2, 4 and 6-bit uint8 in six pixel-interleaved bands (${endian})`, async () => {
      for (const bits of [1, 2, 4, 6]) {
        const scale = ['-scale', '0', '255', '0', String(2 ** bits - 1)];
        await assertReadsAsGdal(dir, `u8-${bits}-${endian}.tif`, L7, ['-co', `ENDIANNESS=${endian}`, '-co', `NBITS=${bits}`, ...scale], 'uint8');
        await assertReadsAsGdal(dir, `u8-${bits}-${endian}-band.tif`, L7, ['-co', `ENDIANNESS=${endian}`, '-co', `NBITS=${bits}`, '-co', 'INTERLEAVE=BAND', ...scale], 'uint8');
      }
    });

    it(`10, 12 and 14-bit uint16 and 24-bit uint32, striped and deflate-tiled (${endian})`, async () => {
      for (const bits of [10, 12, 14, 24]) {
        const type = bits > 16 ? ['-ot', 'UInt32'] : ['-ot', 'UInt16'];
        const args = ['-co', `ENDIANNESS=${endian}`, '-co', `NBITS=${bits}`, ...type, '-scale', '0', '1', '0', String(bits === 12 ? 4000 : 2 ** bits - 1)];
        const sampleType = bits > 16 ? 'uint32' : 'uint16';
        await assertReadsAsGdal(dir, `n${bits}-${endian}.tif`, B2, args, sampleType);
        await assertReadsAsGdal(dir, `n${bits}-${endian}-tiled.tif`, B2, [...args, '-co', 'COMPRESS=DEFLATE', '-co', 'TILED=YES'], sampleType);
      }
    });
  }
});

describe('georeferencing outside the usual GeoTIFF tags', { skip: noGdal }, () => {
  const dir = tempDir();
  const gcps = ['-gcp', '0', '0', '696345', '4563375', '-gcp', '508', '0', '757305', '4563375', '-gcp', '0', '458', '696345', '4508415'];

  it('GCPs: fitted geotransform, and a mask written from the source carries the same GCPs and CRS', async () => {
    const path = join(dir, 'gcp.tif');
    gdal('gdal_translate', '-q', ...gcps, '-a_srs', 'EPSG:32618', B2, path);
    const { source } = await readAll(path);
    assert.ok(source.georef, 'GCPs are georeferencing');
    const expected = [696345, 120, 0, 4563375, 0, -120];
    source.georef.geoTransform.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `geotransform ${source.georef!.geoTransform}`));
    assert.equal(source.georef.epsg, 32618);
    const mask = join(dir, 'gcp-mask.tif');
    const w = await createGeoTiffWriter(mask, { width: source.width, height: source.height, sampleType: 'uint8', georef: source.georef });
    await w.writeRows(0, source.height, new Uint8Array(source.width * source.height));
    await w.finish();
    const [inInfo, outInfo] = [gdalInfo(path), gdalInfo(mask)];
    assert.deepEqual(outInfo.gcps.gcpList, inInfo.gcps.gcpList);
    assert.match(outInfo.gcps.coordinateSystem.wkt, /ID\["EPSG",32618\]\]$/);
    assert.equal(outInfo.geoTransform, undefined, 'GCPs, not a geotransform, as in the input');
  });

  it('a baseline TIFF with its georeferencing in .aux.xml, and with a .tfw world file', async () => {
    const aux = join(dir, 'baseline.tif');
    gdal('gdal_translate', '-q', '-co', 'PROFILE=BASELINE', B2, aux);
    const tfw = join(dir, 'worldfile.tif');
    gdal('gdal_translate', '-q', '-co', 'PROFILE=BASELINE', '-co', 'TFW=YES', '-of', 'GTiff', B2, tfw);
    writeFileSync(`${tfw}.aux.xml`, '<PAMDataset></PAMDataset>'); // the world file alone
    for (const [path, epsg] of [[aux, 32618], [tfw, undefined]] as const) {
      const info = gdalInfo(path);
      const { source } = await readAll(path);
      assert.deepEqual(source.georef?.geoTransform, info.geoTransform, path);
      assert.equal(source.georef?.epsg, epsg, path);
      assert.deepEqual(source.warnings, []);
    }
    // Stacked with the GeoTIFF band files of the same grid, a sidecar band is no "other grid".
    const stack = await openRaster([`${SAMPLE}B5_toa.tif`, aux]);
    await stack.close();
  });

  it('an .aux.xml CRS without an EPSG code, which cannot be carried, leaves a warning on the source, which detect prints', async () => {
    const path = join(dir, 'nocode.tif');
    gdal('gdal_translate', '-q', '-co', 'PROFILE=BASELINE', B2, join(dir, 'tmp.tif'));
    copyFileSync(join(dir, 'tmp.tif'), path);
    const xml = readFileSync(join(dir, 'tmp.tif.aux.xml'), 'utf8').replace(/,AUTHORITY\["EPSG","32618"\]\]<\/SRS>/, ']</SRS>');
    writeFileSync(`${path}.aux.xml`, xml);
    const { source } = await readAll(path);
    assert.deepEqual(source.georef?.geoTransform, gdalInfo(path).geoTransform);
    assert.match(source.warnings?.join() ?? '', /nocode\.tif\.aux\.xml has no EPSG code/);
  });
});
