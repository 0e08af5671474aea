// `wdcd` end to end as a user runs it (a child process): train a small model on the L8 Biome train/val splits,
// detect on the real Landsat 8 scene and on L8 Biome test images, check every output with GDAL, evaluate.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundledModelNames } from '../../src/model/model-file.js';
import { readProductMetadata } from '../../src/raster/product-metadata.js';
import { gdalInfo, noGdal, readWithGdal, SYSTEM_PYTHON } from '../raster/helpers.js';
import { REPO, filesUnder, show, wdcd } from './helpers.js';

const SAMPLE = join(REPO, 'samples', 'landsat8-longisland-120m');
const BANDS = [2, 3, 4, 5].map((b) => join(SAMPLE, `LC80130312015295LGN00_B${b}_toa.tif`));
const BIOME_TEST = '/work/shared/data/l8biome/test';
const BIOME = ['Barren_07_2524', 'Urban_11_1326'];
const VALIDATOR = '/usr/share/doc/python3-gdal/examples/validate_cloud_optimized_geotiff.py';

/** L8 Biome fixedmask -> 0 clear, 1 cloud, 255 fill (thin cloud is cloud, shadow is clear). */
const biomeTruth = (v: number) => (v === 0 ? 255 : v >= 192 ? 1 : 0);

describe('wdcd end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-cli-'));
  const model = join(dir, 'model');
  const out = join(dir, 'out');
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    mkdirSync(out);
    const r = await wdcd(['train', '--train', 'l8biome:train', '--val', 'l8biome:val', '--block-size', '48', '--train-stride', '48', '--epochs', '1', '-o', model, '-q']);
    assert.equal(r.code, 0, show(r));
    assert.ok(existsSync(join(model, 'model.json')) && existsSync(join(model, 'weights.bin')));
  });

  it('--help, and a command without arguments or unknown', async () => {
    const [help, none, unknown, detectHelp] = await Promise.all([wdcd(['--help']), wdcd([]), wdcd(['frobnicate']), wdcd(['detect', '--help'])]);
    assert.equal(help.code, 0, show(help));
    for (const c of ['detect', 'train', 'eval', 'view', 'models']) assert.match(help.stdout, new RegExp(`wdcd ${c}\\b`));
    assert.equal(none.code, 2);
    assert.match(none.stdout, /usage: wdcd COMMAND/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.equal(detectHelp.code, 0);
    assert.match(detectHelp.stdout, /--output FILE/);
  });

  it('wdcd models lists the bundled models and describes a model folder', async () => {
    const [list, one] = await Promise.all([wdcd(['models']), wdcd(['models', model])]);
    assert.equal(list.code, 0, show(list));
    const bundled = bundledModelNames();
    if (bundled.length === 0) assert.match(list.stdout, /no bundled models/);
    for (const name of bundled) assert.match(list.stdout, new RegExp(`^${name}: `, 'm'));
    assert.equal(one.code, 0, show(one));
    assert.match(one.stdout, /wdcd-light, 48 px blocks, bands blue, green, red, nir/);
    assert.match(one.stdout, /T = -?[\d.]+ \+ -?[\d.]+ x [\d.]+ = -?[\d.]+/);
    assert.match(one.stdout, /map refinement: none/);
    if (bundled.includes('rgb')) assert.match(list.stdout, /^rgb: [^]*?map refinement: guided filter, radius 64 px/m);
  });

  it('a folder named like a bundled model does not shadow it; as a path it is a folder', async () => {
    const place = join(dir, 'shadow');
    mkdirSync(join(place, 'rgb'), { recursive: true });
    mkdirSync(join(place, 'default'));
    const [list, asPath] = await Promise.all([wdcd(['models'], { cwd: place }), wdcd(['models', './rgb'], { cwd: place })]);
    assert.equal(list.code, 0, show(list));
    for (const name of bundledModelNames()) assert.match(list.stdout, new RegExp(`^${name}: `, 'm'));
    assert.equal(asPath.code, 2, show(asPath));
    assert.match(asPath.stderr, /rgb: not a wdcd model folder \(no model\.json\)/);
  });

  it('detect on the Landsat 8 scene: mask, CAM and overlay with the input georeferencing', { skip: noGdal }, async () => {
    const mask = join(out, 'scene', 'mask.tif'); // the folder does not exist yet: detect creates it
    const cam = join(out, 'scene', 'cam.tif');
    const png = join(out, 'scene', 'overlay.png');
    const r = await wdcd(['detect', ...BANDS, '--model', model, '-o', mask, '--cam', cam, '--png', png, '--json']);
    assert.equal(r.code, 0, show(r));
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.width, 508);
    assert.equal(summary.height, 458);
    assert.equal(summary.model, 'model');
    assert.equal(summary.sensor, 'landsat8-biome');
    assert.deepEqual({ mask: summary.outputs.mask, cam: summary.outputs.cam, png: summary.outputs.png }, { mask, cam, png });
    for (const file of Object.values(summary.outputs) as string[]) assert.ok(existsSync(file), `${file} written`);
    assert.ok(Number.isFinite(summary.threshold));
    assert.ok(summary.blocks.total > 0 && summary.blocks.gatedClear <= summary.blocks.total);
    assert.ok(summary.featureShare > 0 && summary.featureShare <= 1, `feature share ${summary.featureShare}`);
    assert.ok(summary.cloudFraction >= 0 && summary.cloudFraction <= 1);
    assert.ok(summary.nodataFraction > 0.05 && summary.nodataFraction < 0.3, `nodata ${summary.nodataFraction}`);
    assert.ok(summary.seconds.total > 0);

    const input = gdalInfo(BANDS[0]);
    const maskInfo = gdalInfo(mask);
    assert.deepEqual(maskInfo.size, input.size);
    assert.equal(maskInfo.coordinateSystem.wkt, input.coordinateSystem.wkt);
    assert.deepEqual(maskInfo.geoTransform, input.geoTransform);
    assert.equal(maskInfo.bands.length, 1);
    assert.equal(maskInfo.bands[0].type, 'Byte');
    assert.equal(maskInfo.bands[0].noDataValue, 255);
    const camInfo = gdalInfo(cam);
    assert.deepEqual(camInfo.size, input.size);
    assert.equal(camInfo.coordinateSystem.wkt, input.coordinateSystem.wkt);
    assert.deepEqual(camInfo.geoTransform, input.geoTransform);
    assert.equal(camInfo.bands[0].type, 'Float32');
    assert.ok(Number.isNaN(Number(camInfo.bands[0].noDataValue)), `CAM nodata ${camInfo.bands[0].noDataValue}`);
    const pngInfo = gdalInfo(png);
    assert.equal(pngInfo.driverShortName, 'PNG');
    assert.deepEqual(pngInfo.size, input.size);

    const m = readWithGdal(mask, dir).bands[0];
    const c = readWithGdal(cam, dir).bands[0];
    const inputs = BANDS.map((b) => readWithGdal(b, dir).bands[0]);
    const noData = (i: number) => inputs.some((band) => band[i] === 0 || Number.isNaN(band[i]));
    let cloud = 0;
    let fill = 0;
    for (let i = 0; i < m.length; i++) {
      assert.ok(m[i] === 0 || m[i] === 1 || m[i] === 255, `mask value ${m[i]} at ${i}`);
      // Outside the footprint (0 in any input band) is nodata; inside, every pixel gets a class.
      assert.equal(m[i] === 255, noData(i), `pixel ${i}: input ${inputs.map((b) => b[i])}, mask ${m[i]}`);
      if (m[i] === 255) assert.ok(Number.isNaN(c[i]), `CAM at nodata pixel ${i} is ${c[i]}`);
      else assert.equal(m[i], c[i] >= summary.threshold ? 1 : 0, `pixel ${i}: CAM ${c[i]}, T ${summary.threshold}, mask ${m[i]}`);
      if (m[i] === 1) cloud++;
      if (m[i] === 255) fill++;
    }
    assert.ok(fill > 0, 'the scene has fill outside its footprint');
    assert.ok(Math.abs(summary.cloudFraction - cloud / m.length) < 1e-12);
    assert.ok(Math.abs(summary.nodataFraction - fill / m.length) < 1e-12);
  });

  it('--cog writes Cloud Optimized GeoTIFFs that pass GDAL\'s validator', { skip: noGdal }, async () => {
    const mask = join(out, 'cog-mask.tif');
    const cam = join(out, 'cog-cam.tif');
    const r = await wdcd(['detect', ...BANDS, '--model', model, '-o', mask, '--cam', cam, '--cog', '--stride', '48', '-q']);
    assert.equal(r.code, 0, show(r));
    for (const file of [mask, cam]) {
      const v = spawnSync(SYSTEM_PYTHON, [VALIDATOR, file], { encoding: 'utf8' });
      assert.equal(v.status, 0, `${file}: ${v.stdout}${v.stderr}`);
      assert.match(v.stdout, /is a valid cloud optimized GeoTIFF/);
    }
    const info = gdalInfo(mask);
    assert.deepEqual(info.geoTransform, gdalInfo(BANDS[0]).geoTransform);
    assert.equal(info.bands[0].noDataValue, 255);
  });

  it('a DN preset: uncalibrated it warns; calibrated to the same reflectance it gives the reflectance preset\'s mask', { skip: noGdal }, async () => {
    const image = join(BIOME_TEST, 'images', `${BIOME[1]}.tif`);
    const run = async (name: string, args: string[]) => {
      const mask = join(out, `${name}.tif`);
      const r = await wdcd(['detect', image, '--bands', '1,2,3,4', '-o', mask, '--json', ...args]);
      assert.equal(r.code, 0, show(r));
      return { r, summary: JSON.parse(r.stdout), pixels: readWithGdal(mask, out).bands[0] };
    };
    // The L8 Biome pixels are reflectance already: gain 1, ESUN pi and the sun overhead make reflectance = value.
    // The GaoFen XML gives the sun angle and the Earth-Sun distance: an ESUN that cancels them gives reflectance = value.
    const gfXml = join(REPO, 'test', 'fixtures', 'metadata', 'GF1_WFV3_E113.0_N34.0_20220624_L1A0006547030.xml');
    const { sunElevationDeg, earthSunDistance } = readProductMetadata(gfXml);
    const cancelling = (Math.PI * earthSunDistance! ** 2) / Math.sin((sunElevationDeg! * Math.PI) / 180);
    const [reference, calibrated, raw, viaXml, twice] = await Promise.all([
      run('dn-reference', ['--sensor', 'landsat8-biome']),
      run('dn-calibrated', ['--sensor', 'gf1-wfv', '--gain', '1', '--esun', String(Math.PI), '--sun-elevation', '90']),
      run('dn-raw', ['--sensor', 'gf1-wfv', '-q']), // --quiet silences progress, not warnings
      run('dn-xml', ['--metadata', gfXml, '--gain', '1', '--esun', String(cancelling)]),
      // Reflectance through a DN preset (Sentinel-2's DN / 10000): the units check warns before the pass.
      run('dn-twice', ['--sensor', 'sentinel2']),
    ]);
    assert.equal(reference.summary.inputRange.problem, undefined);
    assert.doesNotMatch(reference.r.stderr, /warning/);
    assert.match(twice.r.stderr, new RegExp(`warning: ${image}: the brightest sampled value is [0-9.e-]+ once scaled: the input looks scaled twice`));
    assert.ok(twice.summary.inputRange.max < 0.001, `max ${twice.summary.inputRange.max}`);
    assert.deepEqual(calibrated.pixels, reference.pixels);
    assert.deepEqual(viaXml.pixels, reference.pixels);
    assert.equal(viaXml.summary.sensor, 'gf1-wfv');
    assert.equal(viaXml.summary.calibrated, true);
    assert.ok(reference.summary.calibrated && calibrated.summary.calibrated);
    assert.doesNotMatch(calibrated.r.stderr, /without radiometric calibration/);
    assert.equal(raw.summary.calibrated, false);
    assert.match(raw.r.stderr, /warning: .*sensor gf1-wfv gives DN scaled to 0-1 without radiometric calibration \(give --gain, --esun and --sun-elevation\)/);
    assert.ok(raw.r.stderr.trim().split('\n').every((line) => line.startsWith('warning: ')), `only warnings: ${raw.r.stderr}`);
    assert.notDeepEqual(raw.pixels, reference.pixels, 'DN / 1023 is not the reflectance');
  });

  it('--metadata: Landsat 8 and Sentinel-2 DN band files give the reflectance mask; a band out of order is refused', { skip: noGdal }, async () => {
    const image = join(BIOME_TEST, 'images', `${BIOME[1]}.tif`);
    const fixtures = join(REPO, 'test', 'fixtures', 'metadata');
    const dnDir = join(out, 'dn');
    mkdirSync(dnDir, { recursive: true });
    // Reflectance back to DN as each product stores it (fill stays 0): Landsat 8 Collection 2 Level-1 with the
    // fixture's sun elevation, Sentinel-2 from baseline 04.00 with its 1000 DN offset.
    const sin = Math.sin((37.56247232 * Math.PI) / 180);
    const toDn = (band: number, file: string, calc: string) => {
      const r = spawnSync('gdal_calc.py', ['-A', image, `--A_band=${band}`, `--outfile=${file}`, '--type=UInt16', '--NoDataValue=0', `--calc=where(A==0,0,rint(${calc}))`, '--quiet']);
      assert.equal(r.status, 0, r.stderr.toString());
      return file;
    };
    const landsat = [2, 3, 4, 5].map((b, i) => toDn(i + 1, join(dnDir, `LC08_L1TP_013031_20151022_20200908_02_T1_B${b}.TIF`), `(A*${sin}+0.1)/2e-5`));
    const sentinel = ['B02', 'B03', 'B04', 'B08'].map((b, i) => toDn(i + 1, join(dnDir, `T31TDH_20230612T103629_${b}.tif`), 'A*10000+1000'));
    const run = async (name: string, inputs: string[], args: string[]) => {
      const mask = join(dnDir, `${name}.tif`);
      const r = await wdcd(['detect', ...inputs, '-o', mask, '--json', ...args]);
      return { r, mask, summary: r.code === 0 ? JSON.parse(r.stdout) : undefined, pixels: r.code === 0 ? readWithGdal(mask, dnDir).bands[0] : undefined };
    };
    const mtl = join(fixtures, 'LC08_L1TP_013031_20151022_20200908_02_T1_MTL.txt');
    const [reference, viaMtl, viaMtd, viaFlag, noFlag, noSun, swapped, stacked] = await Promise.all([
      run('reference', [image], ['--bands', '1,2,3,4', '--sensor', 'landsat8-biome']),
      run('landsat-mtl', landsat, ['--metadata', mtl]),
      run('sentinel-mtd', sentinel, ['--metadata', join(fixtures, 'MTD_MSIL1C.xml')]),
      run('sentinel-flag', sentinel, ['--sensor', 'sentinel2', '--s2-baseline04']),
      run('sentinel-no-flag', sentinel, ['--sensor', 'sentinel2']),
      run('landsat-no-sun', landsat, ['--sensor', 'landsat8']),
      run('swapped', [landsat[2], landsat[1], landsat[0], landsat[3]], ['--metadata', mtl]),
      // The 8-band L8 Biome stack under the Landsat 8 DN preset: bands 1-4 of a product stack are B1-B4.
      run('stacked', [image], ['--sensor', 'landsat8']),
    ]);
    for (const [label, r] of [['reference', reference], ['MTL', viaMtl], ['MTD', viaMtd], ['flag', viaFlag], ['no flag', noFlag], ['no sun', noSun]] as const) assert.equal(r.r.code, 0, `${label}: ${show(r.r)}`);
    const agreement = (a: Float64Array, b: Float64Array) => a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length;
    // The same reflectance up to the DN rounding (3e-5 and 1e-4): the same mask but for a few pixels at the threshold.
    for (const r of [viaMtl, viaMtd, viaFlag]) {
      assert.ok(agreement(r.pixels!, reference.pixels!) > 0.999, `${r.mask}: ${agreement(r.pixels!, reference.pixels!)}`);
      assert.equal(r.summary.calibrated, true);
      assert.doesNotMatch(r.r.stderr, /warning/);
    }
    assert.equal(viaMtl.summary.sensor, 'landsat8');
    assert.deepEqual(viaMtl.summary.metadata, { file: mtl, product: 'LANDSAT_8 L1TP TOA reflectance' });
    assert.equal(viaMtd.summary.sensor, 'sentinel2');
    // Without the MTL the Landsat DN lack the sun angle: a warning, and a different mask.
    assert.equal(noSun.summary.calibrated, false);
    assert.match(noSun.r.stderr, /warning: .*without the sun-angle correction/);
    assert.ok(agreement(noSun.pixels!, reference.pixels!) < agreement(viaMtl.pixels!, reference.pixels!));
    // Baseline 04 DN without their offset: reflectance 0.1 too high, said by the files' sensing date.
    assert.match(noFlag.r.stderr, new RegExp(`warning: ${sentinel[0]} was sensed on 2023-06-12, after processing baseline 04.00 began .*give --s2-baseline04`));
    assert.ok(agreement(noFlag.pixels!, reference.pixels!) < agreement(viaFlag.pixels!, reference.pixels!));
    assert.equal(stacked.r.code, 2, show(stacked.r));
    assert.match(stacked.r.stderr, new RegExp(`${image}: holds 8 bands; sensor landsat8 takes bands 1,2,3,4 as B2 B3 B4 B5 .* give --bands 2,3,4,5 for such a stack`));
    assert.ok(!existsSync(stacked.mask));
    // Red given first: refused before anything is written, naming that file.
    assert.equal(swapped.r.code, 2, show(swapped.r));
    assert.match(swapped.r.stderr, new RegExp(`${landsat[2]}: is band B4 in .*_MTL\\.txt, but it would go to the model as blue \\(B2\\)`));
    assert.ok(!existsSync(swapped.mask));
  });

  it('the rgb model refines its map by default: on the GF-1 train slices it beats --refine none at the same k; a bad radius is refused', async () => {
    const root = '/work/shared/data/gf1/train';
    const slices = readdirSync(root).flatMap((kind) => readdirSync(join(root, kind)).filter((f) => f.endsWith('.jpg')).map((f) => join(root, kind, f)));
    assert.equal(slices.length, 6);
    const pooledKappa = async (name: string, extra: string[]) => {
      const outdir = join(out, name);
      const r = await wdcd(['detect', ...slices, '--model', 'rgb', '-O', outdir, '--json', '-q', ...extra]);
      assert.equal(r.code, 0, show(r));
      const summaries = JSON.parse(r.stdout);
      const pairs = slices.flatMap((s, i) => [summaries[i].outputs.mask, s.replace(/\.jpg$/, '.png')]);
      const e = await wdcd(['eval', ...pairs, '--coding', 'gf1-png', '--json']);
      assert.equal(e.code, 0, show(e));
      return { summary: summaries[0], kappa: JSON.parse(e.stdout).pooled.kappa as number };
    };
    const refined = await pooledKappa('gf1-refined', []);
    const plain = await pooledKappa('gf1-plain', ['--refine', 'none']);
    assert.deepEqual(refined.summary.refine, { radius: 64, eps: 1e-3 });
    assert.equal(plain.summary.refine, null);
    assert.equal(refined.summary.threshold, plain.summary.threshold, 'the same k');
    assert.ok(refined.kappa > plain.kappa + 0.05, `refined kappa ${refined.kappa} vs ${plain.kappa}`);
    const bad = await wdcd(['detect', slices[0], '--model', 'rgb', '--refine', '-3', '-o', join(out, 'bad.tif')]);
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /--refine/);
    assert.ok(!existsSync(join(out, 'bad.tif')));
  });

  it('-O with two inputs writes one mask each; eval prints a table and JSON; no overwrite without --overwrite', { skip: noGdal }, async () => {
    const outdir = join(out, 'biome');
    const inputs = BIOME.map((n) => join(BIOME_TEST, 'images', `${n}.tif`));
    const r = await wdcd(['detect', ...inputs, '--model', model, '--bands', '1,2,3,4', '-O', outdir, '--json', '-q']);
    assert.equal(r.code, 0, show(r));
    const summaries = JSON.parse(r.stdout);
    assert.equal(summaries.length, 2);
    const masks = BIOME.map((n) => join(outdir, `${n}_mask.tif`));
    // Each mask, and whatever detect writes beside it (a MASK.json summary), nothing else.
    const onlyOutputs = () => {
      const files = filesUnder(outdir);
      assert.deepEqual(files.filter((f) => f.endsWith('.tif')).sort(), masks.map((m) => basename(m)).sort());
      for (const f of files) assert.ok(masks.some((m) => f.startsWith(basename(m))) && !f.endsWith('.tmp'), `unexpected file ${f}`);
    };
    onlyOutputs();
    summaries.forEach((s: { outputs: { mask: string }; width: number }, i: number) => {
      assert.equal(s.outputs.mask, masks[i]);
      assert.equal(s.width, 256);
      assert.deepEqual(gdalInfo(masks[i]).size, [256, 256]);
    });

    // eval on a real L8 Biome test pair, checked against a confusion matrix counted here.
    const truth = join(BIOME_TEST, 'masks', `${BIOME[0]}.tif`);
    const [table, json] = await Promise.all([
      wdcd(['eval', masks[0], truth]),
      wdcd(['eval', masks[0], truth, masks[1], join(BIOME_TEST, 'masks', `${BIOME[1]}.tif`), '--json']),
    ]);
    assert.equal(table.code, 0, show(table));
    assert.match(table.stdout, /OA%/);
    assert.match(table.stdout, new RegExp(BIOME[0]));
    assert.match(table.stdout, /pooled \(1\)/);
    assert.equal(json.code, 0, show(json));
    const report = JSON.parse(json.stdout);
    assert.equal(report.images.length, 2);
    assert.equal(report.pooled.images, 2);
    const p = readWithGdal(masks[0], dir).bands[0];
    const t = readWithGdal(truth, dir).bands[0];
    const counts = { tp: 0, fp: 0, tn: 0, fn: 0, excluded: 0 };
    for (let i = 0; i < p.length; i++) {
      const truthClass = biomeTruth(t[i]);
      if (p[i] === 255 || truthClass === 255) counts.excluded++;
      else if (p[i] === 1) truthClass === 1 ? counts.tp++ : counts.fp++;
      else truthClass === 1 ? counts.fn++ : counts.tn++;
    }
    const first = report.images[0];
    assert.equal(first.coding, 'l8biome');
    assert.deepEqual({ tp: first.tp, fp: first.fp, tn: first.tn, fn: first.fn, excluded: first.excluded }, counts);
    assert.ok(Math.abs(first.oa - (counts.tp + counts.tn) / (p.length - counts.excluded)) < 1e-12);
    for (const k of ['tp', 'fp', 'tn', 'fn'] as const) assert.equal(report.pooled[k], report.images[0][k] + report.images[1][k]);

    // The masks exist now: without --overwrite detect refuses, exit 2, and leaves the old file as it was.
    const before = readFileSync(masks[0]);
    const mtime = statSync(masks[0]).mtimeMs;
    const again = await wdcd(['detect', inputs[0], '--model', model, '--bands', '1,2,3,4', '-o', masks[0]]);
    assert.equal(again.code, 2, show(again));
    assert.match(again.stderr, /already exists/);
    assert.ok(again.stderr.includes(masks[0]), 'the message names the file');
    assert.deepEqual(readFileSync(masks[0]), before);
    assert.equal(statSync(masks[0]).mtimeMs, mtime);
    onlyOutputs();
    const forced = await wdcd(['detect', inputs[0], '--model', model, '--bands', '1,2,3,4', '-o', masks[0], '--overwrite', '-q', '--stride', '48']);
    assert.equal(forced.code, 0, show(forced));
  });

  it('-O goes on past a scene that fails, names it, writes nothing for it, and exits 2', async () => {
    // A real L8 Biome test image cut short between two good ones: the copy a failed transfer leaves.
    const folder = join(out, 'batch-in');
    mkdirSync(folder);
    const [good1, good2] = BIOME.map((n) => join(BIOME_TEST, 'images', `${n}.tif`));
    const truncated = join(folder, 'truncated.tif');
    writeFileSync(truncated, readFileSync(good1).subarray(0, 100_000));
    const outdir = join(out, 'batch-out');
    const r = await wdcd(['detect', good1, truncated, good2, '--model', model, '--bands', '1,2,3,4', '-O', outdir, '--json', '-q']);
    assert.equal(r.code, 2, show(r));
    assert.deepEqual(JSON.parse(r.stdout).map((s: { outputs: { mask: string } }) => basename(s.outputs.mask)), BIOME.map((n) => `${n}_mask.tif`));
    assert.match(r.stderr, /1 of 3 scenes failed and have no mask:\n  \S*truncated\.tif: truncated: data block \d+ ends at byte/);
    assert.deepEqual(filesUnder(outdir).sort(), BIOME.flatMap((n) => [`${n}_mask.tif`, `${n}_mask.tif.json`]).sort());
  });
});
