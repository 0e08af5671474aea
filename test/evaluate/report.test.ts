import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import {
  buildReport,
  evaluateFiles,
  readMask,
  renderReportJson,
  renderReportTable,
  reportToJson,
} from '../../src/evaluate/index.js';
import { dataRoot } from '../../src/datasets/catalog.js';
import { tempDir, writeTiff } from '../datasets/helpers.js';
import { createGeoTiffWriter } from '../../src/raster/write-geotiff.js';
import type { GeoReference } from '../../src/raster/types.js';

const a = { tp: 40, fp: 10, tn: 45, fn: 5, excluded: 3 };
const b = { tp: 0, fp: 0, tn: 20, fn: 0, excluded: 0 };

test('report: per-image rows, pooled from the summed matrix, JSON field names and NaN -> null', () => {
  const report = buildReport([
    { name: 'a', confusion: a, coding: 'l8biome' },
    { name: 'b', confusion: b },
  ]);
  // pooled: TP 40, FP 10, TN 65, FN 5 -> OA 105/120 = 0.875
  assert.deepEqual(
    [report.pooled.tp, report.pooled.fp, report.pooled.tn, report.pooled.fn, report.pooled.excluded, report.pooled.images],
    [40, 10, 65, 5, 3, 2],
  );
  assert.equal(report.pooled.oa, 105 / 120);
  const json = reportToJson(report) as { images: Record<string, unknown>[]; pooled: Record<string, unknown> };
  assert.deepEqual(Object.keys(json.images[0]!), [
    'name', 'coding', 'oa', 'precision', 'recall', 'f1', 'iou', 'kappa', 'tp', 'fp', 'tn', 'fn', 'excluded',
  ]);
  assert.deepEqual(Object.keys(json.pooled), [
    'images', 'oa', 'precision', 'recall', 'f1', 'iou', 'kappa', 'tp', 'fp', 'tn', 'fn', 'excluded',
  ]);
  assert.equal(json.images[0]!['kappa'], 0.7);
  assert.equal(json.images[1]!['precision'], null); // no cloud predicted: undefined
  assert.equal(json.images[1]!['oa'], 1);
  // round trip through text
  const parsed = JSON.parse(renderReportJson(report));
  assert.equal(parsed.images[1].f1, null);
  assert.equal(parsed.pooled.tn, 65);
});

test('report table: fixed width, percentages, n/a for undefined, pooled row last', () => {
  const text = renderReportTable(buildReport([{ name: 'scene-with-a-long-name', confusion: a }, { name: 'b', confusion: b }]));
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.length, 6); // header, rule, 2 rows, rule, pooled
  assert.match(lines[0]!, /^image\s+OA%\s+prec%/);
  assert.match(lines[2]!, /^scene-with-a-long-name\s+85\.00\s+80\.00\s+88\.89\s+84\.21\s+72\.73\s+70\.00\s+40\s+10\s+45\s+5\s+3$/);
  assert.match(lines[3]!, /^b\s+100\.00\s+n\/a/);
  assert.match(lines[5]!, /^pooled \(2\)\s+87\.50/);
  // columns line up: every cell of a column ends at the same position
  const ends = (line: string) => [...line.matchAll(/\S+(?=\s{2}|$)/g)].map((m) => m.index! + m[0].length);
  assert.deepEqual(ends(lines[2]!).slice(1), ends(lines[0]!).slice(1));
  assert.deepEqual(ends(lines[5]!).slice(-5), ends(lines[0]!).slice(-5));
});

test('evaluateFiles on a real L8 Biome mask: the truth itself scores 100 %, an all-cloud prediction scores its cloud share', async () => {
  const { dir, cleanup } = tempDir('eval');
  try {
    const truthPath = join(dataRoot(), 'l8biome/test/masks/Forest_01_2715.tif');
    const truth = await readMask(truthPath, 'l8biome');
    // Raw histogram (gdalinfo -hist): 64: 10307, 128: 14524, 192: 9973, 255: 30732 -> cloud 40705, clear 24831
    const perfect = join(dir, 'perfect.tif');
    await writeTiff(perfect, 256, 256, [truth.mask]);
    const allCloud = join(dir, 'cloud.tif');
    const cloudMask = new Uint8Array(256 * 256).fill(1);
    cloudMask.fill(255, 0, 256); // first row: nodata in the prediction -> excluded
    await writeTiff(allCloud, 256, 256, [cloudMask]);
    const report = await evaluateFiles([
      { prediction: perfect, truth: truthPath },
      { prediction: allCloud, truth: truthPath, name: 'all-cloud' },
    ]);
    assert.equal(report.images[0]!.name, 'Forest_01_2715');
    assert.equal(report.images[0]!.coding, 'l8biome');
    assert.deepEqual([report.images[0]!.tp, report.images[0]!.tn, report.images[0]!.fp, report.images[0]!.fn], [40705, 24831, 0, 0]);
    assert.equal(report.images[0]!.oa, 1);
    assert.equal(report.images[0]!.kappa, 1);
    let cloudFirstRow = 0;
    for (let i = 0; i < 256; i++) cloudFirstRow += truth.mask[i]!;
    const r = report.images[1]!;
    assert.equal(r.excluded, 256);
    assert.deepEqual([r.tp, r.fp, r.tn, r.fn], [40705 - cloudFirstRow, 24831 - (256 - cloudFirstRow), 0, 0]);
    assert.equal(r.kappa, 0); // a constant prediction agrees only by chance
    assert.equal(report.pooled.tp, 40705 + r.tp);
  } finally {
    cleanup();
  }
});

test('evaluateFiles refuses predictions of another size, naming both files', async () => {
  const { dir, cleanup } = tempDir('eval');
  try {
    const pred = join(dir, 'small.tif');
    await writeTiff(pred, 10, 10, [new Uint8Array(100)]);
    const truth = join(dataRoot(), 'l8biome/test/masks/Forest_01_2715.tif');
    await assert.rejects(
      evaluateFiles([{ prediction: pred, truth }]),
      (e: unknown) => e instanceof InputError && e.message.includes('small.tif') && e.message.includes('Forest_01_2715.tif') && /10 x 10/.test(e.message),
    );
    await assert.rejects(evaluateFiles([]), InputError);
    await assert.rejects(evaluateFiles([{ prediction: pred, truth }], { coding: 'bogus' }), /unknown mask coding/);
  } finally {
    cleanup();
  }
});

test('evaluateFiles refuses a georeferenced prediction on another grid than its georeferenced truth', async () => {
  const { dir, cleanup } = tempDir('eval');
  try {
    const mask = new Uint8Array(64 * 32).map((_, i) => (i % 7 === 0 ? 1 : 0));
    const write = async (name: string, georef: GeoReference | null) => {
      const path = join(dir, name);
      const w = await createGeoTiffWriter(path, { width: 64, height: 32, sampleType: 'uint8', georef, nodata: 255 });
      await w.writeRows(0, 32, mask);
      await w.finish();
      return path;
    };
    const utm = (x0: number, epsg: number): GeoReference => ({ geoTransform: [x0, 30, 0, 4_500_000, 0, -30], epsg });
    const truth = await write('truth.tif', utm(600_000, 32618));
    const [same, plain, shifted, otherZone] = await Promise.all([
      write('same.tif', utm(600_000, 32618)),
      write('plain.tif', null),
      write('shifted.tif', utm(600_030, 32618)),
      write('zone19.tif', utm(600_000, 32619)),
    ]);
    // The same grid, and a mask without georeferencing, are compared pixel for pixel.
    for (const prediction of [same, plain]) {
      const report = await evaluateFiles([{ prediction, truth }], { coding: 'wdcd' });
      assert.equal(report.pooled.fp + report.pooled.fn, 0);
      assert.equal(report.pooled.tp, mask.filter((v) => v === 1).length);
    }
    await assert.rejects(
      evaluateFiles([{ prediction: shifted, truth }], { coding: 'wdcd' }),
      (e: unknown) => e instanceof InputError && e.message.includes('shifted.tif') && e.message.includes('truth.tif') && /geotransform/.test(e.message),
    );
    await assert.rejects(evaluateFiles([{ prediction: otherZone, truth }], { coding: 'wdcd' }), /EPSG 32619\) differs from EPSG 32618/);
  } finally {
    cleanup();
  }
});
