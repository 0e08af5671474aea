// Cloud polygons (`detect --vector`, `-O ... --with vector`) on real scenes, read back by GDAL/OGR and compared
// with gdal_polygonize run on the mask wdcd wrote: the same regions, valid geometries, the mask's CRS.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detect } from '../../src/detect/detect.js';
import { createCloudPolygonsWriter } from '../../src/raster/write-cloud-polygons.js';
import { REPO, show, wdcd } from '../cli/helpers.js';
import { noGdal, SYSTEM_PYTHON, tempDir } from './helpers.js';

const SAMPLE = join(REPO, 'samples', 'landsat8-longisland-120m');
const BANDS = [2, 3, 4, 5].map((b) => join(SAMPLE, `LC80130312015295LGN00_B${b}_toa.tif`));
const BIOME_TEST = '/work/shared/data/l8biome/test/images';

/**
 * OGR's view of our GeoJSON against gdal_polygonize's polygons of value 1 in the mask: feature counts, validity,
 * the area of the symmetric difference, the layer's EPSG code and the area sum.
 */
function compareWithGdal(geojson: string, mask: string, dir: string): { ours: number; gdal: number; valid: boolean; symDiff: number; epsg: string | null; area: number; areaM2: number | null } {
  const ref = join(dir, `gdal-${Math.random().toString(36).slice(2)}.geojson`);
  const script = `
import json, subprocess, sys
from osgeo import ogr, osr
subprocess.run(['gdal_polygonize.py', '-q', sys.argv[2], '-f', 'GeoJSON', sys.argv[3], 'ref', 'DN'], check=True)
def union(path, only_cloud):
    ds = ogr.Open(path); lyr = ds.GetLayer(0)
    geoms = [f.GetGeometryRef().Clone() for f in lyr if not only_cloud or f.GetField('DN') == 1]
    m = ogr.Geometry(ogr.wkbMultiPolygon)
    for g in geoms: m.AddGeometry(g)
    srs = lyr.GetSpatialRef()
    return geoms, m.UnionCascaded() if geoms else m, srs
ours, ua, srs = union(sys.argv[1], False)
ref, ub, _ = union(sys.argv[3], True)
ds = ogr.Open(sys.argv[1]); lyr = ds.GetLayer(0)
m2 = [f.GetField('area_m2') if f.GetFieldIndex('area_m2') >= 0 else None for f in lyr]
print(json.dumps({'ours': len(ours), 'gdal': len(ref), 'valid': all(g.IsValid() for g in ours),
  'symDiff': ua.SymDifference(ub).GetArea() if ours or ref else 0.0,
  'epsg': srs.GetAuthorityCode(None) if srs else None, 'area': sum(g.GetArea() for g in ours),
  'areaM2': sum(m2) if m2 and None not in m2 else None}))
`;
  const r = spawnSync(SYSTEM_PYTHON, ['-c', script, geojson, mask, ref], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('cloud polygons', { skip: noGdal }, () => {
  it('detect --vector on the bundled Landsat scene: gdal_polygonize\'s regions, valid, in EPSG:32618, areas in m2', async () => {
    const dir = tempDir();
    const mask = join(dir, 'mask.tif');
    const vector = join(dir, 'clouds.geojson');
    const summary = await detect(BANDS, { mask, vector });
    assert.equal(summary.outputs.vector, vector);
    const c = compareWithGdal(vector, mask, dir);
    assert.ok(c.ours > 10, `${c.ours} polygons`);
    assert.equal(c.ours, c.gdal);
    assert.equal(summary.cloudPolygons, c.ours);
    assert.ok(c.valid, 'every polygon is a valid simple feature');
    assert.equal(c.symDiff, 0);
    assert.equal(c.epsg, '32618');
    const cloudPixels = Math.round(summary.cloudFraction * summary.width * summary.height);
    assert.equal(c.area, cloudPixels * 120 * 120);
    assert.equal(c.areaM2, c.area);
    // Outlines counter-clockwise on the map (RFC 7946): the first ring's signed area is positive.
    const first = JSON.parse(readFileSync(vector, 'utf8')).features[0].geometry.coordinates[0] as number[][];
    let doubled = 0;
    for (let i = 0; i + 1 < first.length; i++) doubled += first[i][0] * first[i + 1][1] - first[i + 1][0] * first[i][1];
    assert.ok(doubled > 0, 'outline counter-clockwise');
  });

  it('with -O and --with vector: NAME_clouds.geojson per scene; without georeferencing, pixel corners', async () => {
    const dir = tempDir();
    const scenes = ['Barren_07_2524', 'Urban_11_1326'].map((n) => join(BIOME_TEST, `${n}.tif`));
    const r = await wdcd(['detect', ...scenes, '--sensor', 'landsat8-biome', '-O', dir, '--with', 'vector', '-q', '--json']);
    assert.equal(r.code, 0, show(r));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.geojson')).sort(), ['Barren_07_2524_clouds.geojson', 'Urban_11_1326_clouds.geojson']);
    for (const name of ['Barren_07_2524', 'Urban_11_1326']) {
      const geojson = join(dir, `${name}_clouds.geojson`);
      const c = compareWithGdal(geojson, join(dir, `${name}_mask.tif`), dir);
      assert.equal(c.ours, c.gdal);
      assert.equal(c.symDiff, 0);
      assert.ok(c.valid);
      assert.equal(c.areaM2, null, 'no area in m2 without a CRS in metres');
      const doc = JSON.parse(readFileSync(geojson, 'utf8'));
      assert.equal(doc.crs, undefined);
      for (const f of doc.features) {
        for (const [x, y] of f.geometry.coordinates.flat()) assert.ok(Number.isInteger(x) && Number.isInteger(y) && x >= 0 && x <= 256 && y >= 0 && y <= 256);
      }
    }
    const r2 = await wdcd(['detect', scenes[0], '-O', dir, '--vector', join(dir, 'x.geojson')]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /--with cam,png,heatmap,vector/);
  });

  it('an existing file is refused before the run without --overwrite; a failed write leaves nothing behind', async () => {
    const dir = tempDir();
    const vector = join(dir, 'clouds.geojson');
    writeFileSync(vector, 'keep me');
    await assert.rejects(detect(BANDS, { mask: join(dir, 'mask.tif'), vector }), /clouds\.geojson.*already exists/);
    assert.equal(readFileSync(vector, 'utf8'), 'keep me');
    assert.ok(!existsSync(join(dir, 'mask.tif')), 'no mask from a refused run');
    // A wrong-sized mask fails while tracing: the temporary file is removed and the target untouched.
    const writer = await createCloudPolygonsWriter(vector, { width: 4, height: 4, georef: null, overwrite: true });
    await assert.rejects(writer.finish(new Uint8Array(3)), /expected 4 x 4/);
    assert.deepEqual(readdirSync(dir), ['clouds.geojson']);
    assert.equal(readFileSync(vector, 'utf8'), 'keep me');
  });

  it('EPSG:4326 needs no crs member and has no area in m2; a flipped grid still gives counter-clockwise outlines', async () => {
    const dir = tempDir();
    const m = new Uint8Array(16);
    m[5] = 1;
    const path = join(dir, 'geo.geojson');
    const w = await createCloudPolygonsWriter(path, { width: 4, height: 4, georef: { geoTransform: [10, 0.5, 0, 50, 0, -0.5], epsg: 4326 }, overwrite: false });
    assert.equal(await w.finish(m), 1);
    const doc = JSON.parse(readFileSync(path, 'utf8'));
    assert.equal(doc.crs, undefined);
    assert.deepEqual(doc.features[0].properties, { id: 1, class: 'cloud', pixels: 1 });
    assert.deepEqual(doc.features[0].geometry.coordinates[0], [[10.5, 49], [11, 49], [11, 49.5], [10.5, 49.5], [10.5, 49]]);
  });
});
