import assert from 'node:assert/strict';
import { openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createGeoTiffWriter, openRaster, type GeoReference } from '../../src/raster/index.js';
import { L8, SYSTEM_PYTHON, assertSameValues, gdal, gdalInfo, noGdal, readWithGdal, tempDir } from './helpers.js';

async function georefOf(path: string): Promise<GeoReference | null> {
  const source = await openRaster([path]);
  await source.close();
  return source.georef;
}

const VALIDATOR = '/usr/share/doc/python3-gdal/examples/validate_cloud_optimized_geotiff.py';

/** Writes `data` (full image) in strips of `strip` rows: full width, or column stripes `columns` wide one after another. */
async function writeImage(
  path: string, width: number, height: number, data: Uint8Array | Float32Array, strip: number,
  options: { georef?: GeoReference | null; nodata?: number | null; cog?: boolean; tileSize?: number; compression?: 'deflate' | 'none'; bigTiff?: boolean },
  columns?: number,
): Promise<void> {
  const w = await createGeoTiffWriter(path, { width, height, sampleType: data instanceof Uint8Array ? 'uint8' : 'float32', ...options });
  for (let x = 0; x < width; x += columns ?? width) {
    const cols = Math.min(columns ?? width, width - x);
    for (let y = 0; y < height; y += strip) {
      const rows = Math.min(strip, height - y);
      const window = data instanceof Uint8Array ? new Uint8Array(rows * cols) : new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) window.set(data.subarray((y + r) * width + x, (y + r) * width + x + cols), r * cols);
      if (columns === undefined) await w.writeRows(y, rows, window);
      else await w.writeWindow({ x, y, width: cols, height: rows }, window);
    }
  }
  await w.finish();
}

function validCog(path: string): void {
  const out = gdal(SYSTEM_PYTHON, VALIDATOR, path);
  assert.match(out, /is a valid cloud optimized GeoTIFF/, out);
}

describe('GeoTIFF writer, checked with GDAL', { skip: noGdal }, () => {
  const dir = tempDir();
  const input = `${L8}B2_toa.tif`;

  it('copies CRS and geotransform exactly; values round-trip (odd strips, partial tiles)', async () => {
    const source = await openRaster([input]);
    const [b2] = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height });
    const mask = Uint8Array.from(b2, (v) => (v === 0 ? 255 : v > 0.2 ? 1 : 0));
    const path = join(dir, 'mask.tif');
    await writeImage(path, source.width, source.height, mask, 37, { georef: source.georef, nodata: 255, tileSize: 256 });
    await source.close();
    const inInfo = gdalInfo(input);
    const outInfo = gdalInfo(path);
    assert.equal(outInfo.coordinateSystem.wkt, inInfo.coordinateSystem.wkt);
    assert.deepEqual(outInfo.geoTransform, inInfo.geoTransform);
    assert.match(outInfo.coordinateSystem.wkt, /ID\["EPSG",32618\]\]$/);
    assert.equal(outInfo.bands[0].noDataValue, 255);
    assert.deepEqual(outInfo.bands[0].block, [256, 256]);
    assert.equal(outInfo.metadata?.IMAGE_STRUCTURE?.COMPRESSION, 'DEFLATE');
    assertSameValues(readWithGdal(path, dir).bands[0], mask, 'read back by GDAL');
    // Our own reader agrees too.
    const back = await openRaster([path]);
    assertSameValues((await back.readWindow({ x: 0, y: 0, width: back.width, height: back.height }))[0], mask, 'read back by openRaster');
    assert.deepEqual(back.georef?.geoKeyDirectory, (await georefOf(input))?.geoKeyDirectory);
    await back.close();
  });

  it('writes a georef given only as geotransform + EPSG', async () => {
    const path = join(dir, 'synth.tif');
    const data = Float32Array.from({ length: 70 * 50 }, (_, i) => i / 7);
    await writeImage(path, 70, 50, data, 50, { georef: { geoTransform: [300000, 20, 0, 5000000, 0, -20], epsg: 32633 }, compression: 'none', tileSize: 16 });
    const info = gdalInfo(path);
    assert.deepEqual(info.geoTransform, [300000, 20, 0, 5000000, 0, -20]);
    assert.match(info.coordinateSystem.wkt, /UTM zone 33N/);
    assertSameValues(readWithGdal(path, dir).bands[0], data, 'read back by GDAL');
  });

  it('COG, uint8 mask: validates; overviews are nearest-neighbour', async () => {
    const [w, h] = [2100, 1300];
    const data = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = x < 50 && y < 40 ? 255 : ((x >> 5) + (y >> 5)) % 2;
    const path = join(dir, 'cog-mask.tif');
    await writeImage(path, w, h, data, 300, { georef: { geoTransform: [500000, 10, 0, 4000000, 0, -10], epsg: 32633 }, nodata: 255, cog: true });
    validCog(path);
    const info = gdalInfo(path);
    assert.deepEqual(info.bands[0].block, [512, 512]);
    assert.deepEqual(info.bands[0].overviews.map((o: { size: number[] }) => o.size), [[1050, 650], [525, 325], [263, 163]]);
    assertSameValues(readWithGdal(path, dir).bands[0], data, 'read back by GDAL');
    const overview = gdal(SYSTEM_PYTHON, '-c',
      `from osgeo import gdal\nds=gdal.Open('${path}')\nprint(ds.GetRasterBand(1).GetOverview(0).ReadAsArray()[::97, ::89].tolist())`);
    const expected: number[][] = [];
    for (let y = 0; y < 650; y += 97) {
      const row: number[] = [];
      for (let x = 0; x < 1050; x += 89) row.push(data[2 * y * w + 2 * x]);
      expected.push(row);
    }
    assert.deepEqual(JSON.parse(overview), expected);
  });

  it('column stripes, one after another, give the image rows give: plain (stripes cutting tiles) and COG (validates, same overviews)', async () => {
    const [w, h] = [2100, 1300];
    const data = Float32Array.from({ length: w * h }, (_, i) => (i % 11 === 0 ? NaN : Math.sin(i / 977) + (i % w) * 1e-3));
    const plain = join(dir, 'stripes-plain.tif');
    await writeImage(plain, w, h, data, 77, { nodata: NaN, tileSize: 256 }, 300);
    assertSameValues(readWithGdal(plain, dir).bands[0], data, 'plain, 300 px stripes, read back by GDAL');
    const byRows = join(dir, 'rows-cog.tif');
    const byStripes = join(dir, 'stripes-cog.tif');
    await writeImage(byRows, w, h, data, 300, { cog: true });
    await writeImage(byStripes, w, h, data, 200, { cog: true }, 512);
    validCog(byStripes);
    assertSameValues(readWithGdal(byStripes, dir).bands[0], data, 'COG, 512 px stripes, read back by GDAL');
    const overviews = (path: string) => gdal(SYSTEM_PYTHON, '-c',
      `from osgeo import gdal\nimport numpy\nds=gdal.Open('${path}')\nb=ds.GetRasterBand(1)\nprint([float(numpy.nansum(b.GetOverview(i).ReadAsArray())) for i in range(b.GetOverviewCount())])`);
    const fromStripes = JSON.parse(overviews(byStripes));
    assert.equal(fromStripes.length, 3);
    assert.deepEqual(fromStripes, JSON.parse(overviews(byRows)));
  });

  it('COG, float32 CAM: validates; overviews average valid pixels; odd sizes', async () => {
    const [w, h] = [1031, 777];
    const data = Float32Array.from({ length: w * h }, (_, i) => (i % 13 === 0 ? NaN : (i % w) * 0.001 + Math.floor(i / w) * 0.01));
    const path = join(dir, 'cog-cam.tif');
    await writeImage(path, w, h, data, 100, { georef: await georefOf(input), cog: true });
    validCog(path);
    const back = readWithGdal(path, dir).bands[0];
    assertSameValues(back, data, 'read back by GDAL');
    const overview = JSON.parse(gdal(SYSTEM_PYTHON, '-c',
      `from osgeo import gdal\nimport json\nds=gdal.Open('${path}')\na=ds.GetRasterBand(1).GetOverview(0).ReadAsArray()\nprint(json.dumps([a.shape[1], a.shape[0], float(a[3, 5])]))`));
    assert.deepEqual(overview.slice(0, 2), [516, 389]);
    const block = [data[6 * w + 10], data[6 * w + 11], data[7 * w + 10], data[7 * w + 11]].filter((v) => !Number.isNaN(v));
    assert.ok(Math.abs(overview[2] - block.reduce((a, b) => a + b, 0) / block.length) < 1e-6);
  });

  it('BigTIFF (forced) is read by GDAL', async () => {
    const path = join(dir, 'big.tif');
    const data = Uint8Array.from({ length: 600 * 520 }, (_, i) => i % 251);
    await writeImage(path, 600, 520, data, 512, { bigTiff: true, cog: true });
    const fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    assert.deepEqual([...head], [0x49, 0x49, 0x2b, 0x00]);
    validCog(path);
    assertSameValues(readWithGdal(path, dir).bands[0], data, 'read back by GDAL');
  });
});
