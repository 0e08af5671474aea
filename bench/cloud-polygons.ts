/**
 * What `detect --vector` adds: tracing a mask into polygons and writing their GeoJSON, on a 100 MP mask built by
 * mirrored tiling of the bundled sample's own mask (so regions continue across the seams), stated as such.
 *
 *   node --import tsx bench/cloud-polygons.ts [--side 10000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { detect } from '../src/detect/detect.js';
import { openRaster } from '../src/raster/open.js';
import { polygonizeMask } from '../src/raster/polygonize.js';
import { createCloudPolygonsWriter } from '../src/raster/write-cloud-polygons.js';

const { values } = parseArgs({ options: { side: { type: 'string', default: '10000' } } });
const side = Number(values.side);
const dir = mkdtempSync(join(tmpdir(), 'wdcd-bench-polygons-'));
try {
  const sample = join(import.meta.dirname, '..', 'samples', 'landsat8-longisland-120m');
  const bands = [2, 3, 4, 5].map((b) => join(sample, `LC80130312015295LGN00_B${b}_toa.tif`));
  await detect(bands, { mask: join(dir, 'sample-mask.tif') });
  const source = await openRaster([join(dir, 'sample-mask.tif')]);
  const [w0, h0] = [source.width, source.height];
  const [tile] = await source.readWindow({ x: 0, y: 0, width: w0, height: h0 });
  await source.close();
  const mask = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) {
    const ty = Math.floor(y / h0);
    const yy = ty % 2 ? h0 - 1 - (y % h0) : y % h0;
    for (let x = 0; x < side; x++) {
      const tx = Math.floor(x / w0);
      mask[y * side + x] = tile[yy * w0 + (tx % 2 ? w0 - 1 - (x % w0) : x % w0)];
    }
  }
  let cloud = 0;
  for (const v of mask) if (v === 1) cloud++;
  let t = performance.now();
  let polygons = 0;
  let corners = 0;
  for (const p of polygonizeMask(mask, side, side)) {
    polygons++;
    for (const ring of [p.outline, ...p.holes]) corners += ring.length / 2;
  }
  const trace = (performance.now() - t) / 1000;
  console.log(`${((side * side) / 1e6).toFixed(0)} MP mask (mirrored tiling of the sample's ${w0} x ${h0} mask), ${((100 * cloud) / mask.length).toFixed(2)} % cloud`);
  console.log(`${polygons} polygons, ${corners} corners; trace ${trace.toFixed(2)} s`);
  // A 30 m UTM grid where such a scene could lie (zone 18N, about 41.5 N).
  const georef = { geoTransform: [600000, 30, 0, 4600000, 0, -30] as [number, number, number, number, number, number], epsg: 32618 };
  for (const crs of ['native', 'wgs84'] as const) {
    const out = join(dir, `clouds-${crs}.geojson`);
    t = performance.now();
    const writer = await createCloudPolygonsWriter(out, { width: side, height: side, georef, crs });
    await writer.finish(mask);
    const both = (performance.now() - t) / 1000;
    console.log(`trace + write GeoJSON, ${crs === 'native' ? 'the mask\'s CRS' : 'WGS 84 (default)'}: ${both.toFixed(2)} s (${(statSync(out).size / 1e6).toFixed(0)} MB)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
