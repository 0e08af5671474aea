// Cloud polygons (`detect --vector`, `-O ... --with vector`) on real scenes, read back by GDAL/OGR and compared
// with gdal_polygonize run on the mask wdcd wrote: the same regions, valid geometries, the mask's CRS; and in WGS 84,
// every vertex where GDAL's own transformation puts it, over a range of CRSs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detect } from '../../src/detect/detect.js';
import { openRaster } from '../../src/raster/open.js';
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
  it('detect --vector --vector-crs native on the bundled Landsat scene: gdal_polygonize\'s regions, valid, in EPSG:32618, areas in m2', async () => {
    const dir = tempDir();
    const mask = join(dir, 'mask.tif');
    const vector = join(dir, 'clouds.geojson');
    const summary = await detect(BANDS, { mask, vector, vectorCrs: 'native' });
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
    assert.equal(r.stderr.match(/the mask has no georeferencing, so the cloud polygons are in pixel coordinates/g)?.length, 2, r.stderr);
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
    const r3 = await wdcd(['detect', scenes[0], '-O', dir, '--vector-crs', 'native']);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /--vector-crs: applies to the cloud polygons: give --with vector too/);
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

  it('by default in WGS 84 (RFC 7946): the same regions as gdal_polygonize reprojected by OGR, valid, no crs member', async () => {
    const dir = tempDir();
    const mask = join(dir, 'mask.tif');
    const vector = join(dir, 'clouds.geojson');
    const r = await wdcd(['detect', ...BANDS, '-o', mask, '--vector', vector, '-q']);
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stderr, '', 'no warning for a CRS with a known path to WGS 84');
    const doc = JSON.parse(readFileSync(vector, 'utf8'));
    assert.equal(doc.crs, undefined);
    const script = `
import json, subprocess, sys
from osgeo import ogr, osr
subprocess.run(['gdal_polygonize.py', '-q', sys.argv[2], '-f', 'GeoJSON', sys.argv[3], 'ref', 'DN'], check=True)
ref = ogr.Open(sys.argv[3]); rl = ref.GetLayer(0)
wgs = osr.SpatialReference(); wgs.ImportFromEPSG(4326); wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
ct = osr.CoordinateTransformation(rl.GetSpatialRef(), wgs)
def union(geoms):
    m = ogr.Geometry(ogr.wkbMultiPolygon)
    for g in geoms: m.AddGeometry(g)
    return m.UnionCascaded()
theirs = []
for f in rl:
    if f.GetField('DN') != 1: continue
    g = f.GetGeometryRef().Clone(); g.Transform(ct); theirs.append(g)
ds = ogr.Open(sys.argv[1]); lyr = ds.GetLayer(0)
ours = [f.GetGeometryRef().Clone() for f in lyr]
ua, ub = union(ours), union(theirs)
print(json.dumps({'ours': len(ours), 'gdal': len(theirs), 'valid': all(g.IsValid() for g in ours),
  'symDiff': ua.SymDifference(ub).GetArea(), 'area': ub.GetArea(), 'perimeter': ub.Boundary().Length(), 'epsg': lyr.GetSpatialRef().GetAuthorityCode(None)}))
`;
    const out = spawnSync(SYSTEM_PYTHON, ['-c', script, vector, mask, join(dir, 'ref.geojson')], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const c = JSON.parse(out.stdout);
    assert.ok(c.ours > 10);
    assert.equal(c.ours, c.gdal);
    assert.ok(c.valid, 'every polygon is a valid simple feature');
    assert.equal(c.epsg, '4326');
    // Vertices rounded to 1e-7 degrees: the regions differ by slivers narrower than that along the outlines only.
    assert.ok(c.symDiff < 1e-7 * c.perimeter, `symmetric difference ${c.symDiff} square degrees, outlines ${c.perimeter} degrees`);
  });

  it('a scene across the antimeridian: polygons crossing it cut into MultiPolygons, valid, each part on one side; joined, OGR\'s reprojection', async () => {
    // The sample scene placed on 180 degrees east at 65 degrees north, in UTM zone 60 (Chukotka): 61 km wide, the
    // antimeridian down its middle, so some of its clouds straddle it.
    const dir = tempDir();
    const bands = BANDS.map((band, i) => {
      const path = join(dir, `B${i + 2}.tif`);
      const x0 = 641428 - 254 * 120;
      const r = spawnSync('gdal_translate', ['-q', '-a_srs', 'EPSG:32660', '-a_ullr', `${x0}`, '7239000', `${x0 + 508 * 120}`, `${7239000 - 458 * 120}`, band, path], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return path;
    });
    const mask = join(dir, 'mask.tif');
    const vector = join(dir, 'clouds.geojson');
    const summary = await detect(bands, { mask, vector });
    const doc = JSON.parse(readFileSync(vector, 'utf8'));
    assert.equal(doc.features.length, summary.cloudPolygons);
    const cut = doc.features.filter((f: any) => f.geometry.type === 'MultiPolygon');
    assert.ok(cut.length >= 2, `${cut.length} polygons cut`);
    const signedArea = (ring: number[][]): number => {
      let doubled = 0;
      for (let i = 0; i + 1 < ring.length; i++) doubled += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
      return doubled / 2;
    };
    for (const f of doc.features) {
      const parts: number[][][][] = f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates : [f.geometry.coordinates];
      if (f.geometry.type === 'MultiPolygon') {
        const sides = parts.map((part) => Math.sign(part[0].reduce((sum, p) => sum + p[0], 0)));
        assert.deepEqual([...new Set(sides)].sort(), [-1, 1], `feature ${f.properties.id}: parts on both sides`);
      }
      for (const part of parts) {
        const lons = part.flat().map((p) => p[0]);
        // No edge runs the long way round the globe: each part lies within 180 degrees of longitude.
        assert.ok(Math.max(...lons) - Math.min(...lons) < 1, `feature ${f.properties.id}: a part spans ${Math.min(...lons)} to ${Math.max(...lons)}`);
        assert.ok(lons.every((lon) => lon >= -180 && lon <= 180));
        assert.ok(signedArea(part[0]) > 0, 'outline counter-clockwise');
        part.slice(1).forEach((hole) => assert.ok(signedArea(hole) < 0, 'holes clockwise'));
      }
    }
    // OGR reads every polygon as valid; moved to 0..360 degrees of longitude, the parts join into the regions of
    // gdal_polygonize reprojected vertex by vertex by OGR. (GDAL 3.6's own RFC 7946 cut is not the reference: it
    // left one of these polygons invalid, with a part round the globe.)
    const script = `
import json, subprocess, sys
from osgeo import ogr, osr
subprocess.run(['gdal_polygonize.py', '-q', sys.argv[2], '-f', 'GeoJSON', sys.argv[3], 'ref', 'DN'], check=True)
def east(g):
    j = json.loads(g.ExportToJson())
    def move(c):
        return [c[0] + 360 if c[0] < 0 else c[0], c[1]] if isinstance(c[0], (int, float)) else [move(x) for x in c]
    j['coordinates'] = move(j['coordinates'])
    return ogr.CreateGeometryFromJson(json.dumps(j))
def union(geoms):
    m = ogr.Geometry(ogr.wkbMultiPolygon)
    for g in geoms:
        for i in range(g.GetGeometryCount()) if g.GetGeometryName() == 'MULTIPOLYGON' else [None]:
            m.AddGeometry(g if i is None else g.GetGeometryRef(i))
    return m.UnionCascaded()
ref = ogr.Open(sys.argv[3]); rl = ref.GetLayer(0)
wgs = osr.SpatialReference(); wgs.ImportFromEPSG(4326); wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
ct = osr.CoordinateTransformation(rl.GetSpatialRef(), wgs)
theirs = []
for f in rl:
    if f.GetField('DN') != 1: continue
    g = f.GetGeometryRef().Clone(); g.Transform(ct); theirs.append(east(g))
ds = ogr.Open(sys.argv[1])
ours = [f.GetGeometryRef().Clone() for f in ds.GetLayer(0)]
ua, ub = union([east(g) for g in ours]), union(theirs)
print(json.dumps({'ours': len(ours), 'gdal': len(theirs), 'valid': all(g.IsValid() for g in ours),
  'symDiff': ua.SymDifference(ub).GetArea(), 'perimeter': ub.Boundary().Length()}))
`;
    const out = spawnSync(SYSTEM_PYTHON, ['-c', script, vector, mask, join(dir, 'ref.geojson')], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const c = JSON.parse(out.stdout);
    assert.equal(c.ours, c.gdal);
    assert.ok(c.valid, 'every polygon, cut or not, is a valid simple feature');
    assert.ok(c.symDiff < 1e-7 * c.perimeter, `symmetric difference ${c.symDiff} square degrees, outlines ${c.perimeter} degrees`);
  });

  it('WGS 84 vertices where GDAL transforms them, for EPSG and user-defined CRSs; a datum without a shift keeps its CRS with a warning', async () => {
    const dir = tempDir();
    // A region with a hole, and a single pixel.
    const [w, h] = [6, 5];
    const m = new Uint8Array(w * h);
    for (const [x, y] of [[1, 1], [2, 1], [3, 1], [1, 2], [3, 2], [1, 3], [2, 3], [3, 3], [5, 4]]) m[y * w + x] = 1;
    const cases: { name: string; srs: string; gt: number[]; shifted?: boolean }[] = [
      { name: 'utm18n', srs: 'EPSG:32618', gt: [696345, 120, 0, 4563375, 0, -120] },
      { name: 'utm50s', srs: 'EPSG:32750', gt: [300000, 30, 0, 7000000, 0, -30] },
      { name: 'cgcs2000-gk', srs: 'EPSG:4547', gt: [400000, 16, 0, 3000000, 0, -16] },
      { name: 'web-mercator', srs: 'EPSG:3857', gt: [-8000000, 100, 0, 5000000, 0, -100] },
      { name: 'etrs89-laea', srs: 'EPSG:3035', gt: [4321000, 100, 0, 3210000, 0, -100] },
      { name: 'ny-us-feet', srs: 'EPSG:2263', gt: [1000000, 100, 0, 200000, 0, -100] },
      { name: 'wgs84', srs: 'EPSG:4326', gt: [-72, 0.001, 0, 41, 0, -0.001] },
      { name: 'cgcs2000', srs: 'EPSG:4490', gt: [110, 0.0001, 0, 30, 0, -0.0001] },
      { name: 'rotated', srs: 'EPSG:32650', gt: [400000, 16, 2, 3000000, 2, -16] },
      { name: 'user-tmerc-feet', srs: '+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=us-ft +no_defs', gt: [1400000, 50, 0, 9000000, 0, -50] },
      { name: 'user-albers', srs: '+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs', gt: [400000, 30, 0, 3000000, 0, -30] },
      { name: 'user-krassowsky-towgs84', srs: '+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=krass +towgs84=15.8,-154.4,-82.3,0,0,0,0 +units=m +no_defs', gt: [400000, 30, 0, 3000000, 0, -30], shifted: true },
      { name: 'osgb36', srs: 'EPSG:27700', gt: [400000, 30, 0, 300000, 0, -30] },
      { name: 'nad27', srs: 'EPSG:26718', gt: [696345, 120, 0, 4563375, 0, -120] },
    ];
    const make = `
import json, sys
from osgeo import gdal, osr
for c in json.loads(sys.argv[1]):
    ds = gdal.GetDriverByName('GTiff').Create(c['path'], ${w}, ${h}, 1, gdal.GDT_Byte)
    ds.SetGeoTransform(c['gt'])
    srs = osr.SpatialReference(); srs.SetFromUserInput(c['srs']); ds.SetSpatialRef(srs)
    ds = None
`;
    const tifs = cases.map((c) => ({ ...c, path: join(dir, `${c.name}.tif`) }));
    const made = spawnSync(SYSTEM_PYTHON, ['-c', make, JSON.stringify(tifs)], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const jobs: { path: string; srs?: string; points: number[][] }[] = [];
    const results: { name: string; native: number[][]; wgs84: number[][]; warning?: string; crs?: unknown; shifted?: boolean }[] = [];
    for (const c of tifs) {
      const { georef } = await openRaster([c.path]);
      assert.ok(georef, c.name);
      const write = async (crs: 'wgs84' | 'native') => {
        const path = join(dir, `${c.name}-${crs}.geojson`);
        const writer = await createCloudPolygonsWriter(path, { width: w, height: h, georef, crs });
        assert.equal(await writer.finish(m), 2);
        const doc = JSON.parse(readFileSync(path, 'utf8'));
        return { warning: writer.warning, crs: doc.crs, points: doc.features.flatMap((f: any) => f.geometry.coordinates.flat()) as number[][] };
      };
      const native = await write('native');
      assert.equal(native.warning, undefined);
      const wgs84 = await write('wgs84');
      results.push({ name: c.name, native: native.points, wgs84: wgs84.points, warning: wgs84.warning, crs: wgs84.crs, shifted: c.shifted });
      jobs.push({ path: c.path, points: native.points });
    }
    // The same points on the Krassowsky ellipsoid with no datum shift, to see that the shift was applied.
    const shiftedAt = tifs.findIndex((c) => c.shifted);
    jobs.push({ path: tifs[shiftedAt].path, srs: tifs[shiftedAt].srs.replace(/ \+towgs84=\S+/, ''), points: results[shiftedAt].native });
    const transform = `
import json, sys
from osgeo import gdal, osr
out = []
for j in json.loads(sys.argv[1]):
    src = gdal.Open(j['path']).GetSpatialRef()
    if 'srs' in j: src = osr.SpatialReference(); src.SetFromUserInput(j['srs'])
    wgs = osr.SpatialReference(); wgs.ImportFromEPSG(4326)
    for s in (src, wgs): s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(src, wgs)
    out.append([list(ct.TransformPoint(x, y)[:2]) for x, y in j['points']])
print(json.dumps(out))
`;
    const t = spawnSync(SYSTEM_PYTHON, ['-c', transform, JSON.stringify(jobs)], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr);
    const gdalPoints = JSON.parse(t.stdout) as number[][][];
    results.forEach((r, i) => {
      if (r.name === 'osgb36' || r.name === 'nad27') {
        assert.match(r.warning ?? '', /not WGS 84: its datum .* has no known shift to WGS 84/, r.name);
        assert.deepEqual(r.wgs84, r.native, `${r.name}: kept in its own CRS`);
        assert.ok(r.crs, `${r.name}: its CRS named`);
        return;
      }
      assert.equal(r.warning, undefined, r.name);
      assert.equal(r.crs, undefined, r.name);
      assert.equal(r.wgs84.length, r.native.length);
      let worst = 0;
      r.wgs84.forEach(([lon, lat], k) => {
        worst = Math.max(worst, Math.abs(lon - gdalPoints[i][k][0]), Math.abs(lat - gdalPoints[i][k][1]));
      });
      assert.ok(worst <= 1e-7, `${r.name}: ${worst} degrees from GDAL`);
      if (r.shifted) {
        // The datum shift is applied: without it the points lie some 50 m away.
        const [lon, lat] = r.wgs84[0];
        const [lon0, lat0] = gdalPoints[gdalPoints.length - 1][0];
        const metres = Math.hypot((lon - lon0) * 111e3 * Math.cos((lat * Math.PI) / 180), (lat - lat0) * 111e3);
        assert.ok(metres > 30, `${metres} m from the unshifted position`);
      }
    });
  });
});
