// `wdcd detect -O OUTDIR` (every input its own scene) with the odd inputs a user running hundreds of scenes meets:
// outputs of an earlier run, a scene given twice, --with in other spellings, an empty -O, --json when a scene fails,
// product metadata applied to every scene, and failure messages that span lines. What cannot work is refused before
// the first scene, with one line; a scene that fails alone is skipped and named on one line of the final list.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../raster/helpers.js';
import { REPO, filesUnder, show, wdcd, type Run } from './helpers.js';

const IMAGES = '/work/shared/data/l8biome/test/images';
/** Two real 256 x 256 L8 Biome test scenes (float32 TOA reflectance, blue, green, red, NIR first). */
const [FOREST, URBAN] = ['Forest_01_2715', 'Urban_11_1326'].map((n) => join(IMAGES, `${n}.tif`));
const SENSOR = ['--sensor', 'landsat8-biome'];
const MTL = join(REPO, 'test', 'fixtures', 'metadata', 'LC08_L1TP_013031_20151022_20200908_02_T1_MTL.txt');
const GF1_JPEG = '/work/shared/data/gf1/test/thick_slice/GF1_PMS2_E110.9_N41.0_20160325_L1A0001486731-MSS2.jpg';

/** Exit 2 with one line on stderr, `wdcd detect: NAMED...` matching `pattern`; no stack, nothing on stdout. */
function refused(r: Run, named: string, pattern: RegExp): void {
  assert.equal(r.code, 2, show(r));
  const lines = r.stderr.split('\n').filter((l) => l.trim());
  assert.equal(lines.length, 1, `one line, no scene started:\n${r.stderr}`);
  assert.ok(lines[0].startsWith(`wdcd detect: ${named}`), `names ${named} first: ${lines[0]}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  assert.equal(r.stdout, '');
}

describe('wdcd detect -O: odd batches', { concurrency: 4 }, () => {
  const dir = tempDir();
  let n = 0;
  const outdir = () => join(dir, `out-${++n}`);

  it('an output left by an earlier run is refused before the first scene, not after the scenes before it', async () => {
    const out = outdir();
    mkdirSync(out);
    const old = join(out, 'Urban_11_1326_mask.tif');
    writeFileSync(old, 'an earlier mask');
    const r = await wdcd(['detect', FOREST, URBAN, ...SENSOR, '-O', out]);
    refused(r, old, /already exists; give --overwrite to replace the outputs of this batch/);
    assert.deepEqual(filesUnder(out), ['Urban_11_1326_mask.tif'], 'the first scene was not run');
    assert.equal(readFileSync(old, 'utf8'), 'an earlier mask');
    // An extra of --with too, and several are counted.
    writeFileSync(join(out, 'Forest_01_2715_overlay.png'), 'old');
    const extras = await wdcd(['detect', FOREST, URBAN, ...SENSOR, '-O', out, '--with', 'png']);
    refused(extras, join(out, 'Forest_01_2715_overlay.png'), /already exists \(and 1 more output\); give --overwrite/);
  });

  it('the same scene given twice (in any spelling) is refused before any work', async () => {
    const [same, respelled] = [outdir(), outdir()];
    const [twice, other] = await Promise.all([
      wdcd(['detect', FOREST, URBAN, FOREST, ...SENSOR, '-O', same, '--overwrite']),
      wdcd(['detect', FOREST, URBAN, FOREST.replace('/images/', '/images/../images/'), ...SENSOR, '-O', respelled]),
    ]);
    refused(twice, FOREST, /is given twice, as inputs 1 and 3; with -O each input is a scene: give each once/);
    refused(other, FOREST.replace('/images/', '/images/../images/'), new RegExp(`is given twice \\(as ${FOREST}\\), as inputs 1 and 3`));
    assert.deepEqual([...filesUnder(same), ...filesUnder(respelled)], []);
  });

  it('--with: an item twice is refused, --with given twice adds up, and --with without -O is refused', async () => {
    const [twice, added, single] = [outdir(), outdir(), outdir()];
    const [a, b, c] = await Promise.all([
      wdcd(['detect', FOREST, ...SENSOR, '-O', twice, '--with', 'png,heatmap,png']),
      wdcd(['detect', FOREST, ...SENSOR, '-O', added, '--with', 'png', '--with', 'heatmap', '-q']),
      wdcd(['detect', FOREST, ...SENSOR, '-o', join(single, 'm.tif'), '--with', 'png']),
    ]);
    refused(a, '--with', /png is given twice/);
    assert.deepEqual(filesUnder(twice), []);
    assert.equal(b.code, 0, show(b));
    assert.deepEqual(filesUnder(added).sort(), ['Forest_01_2715_heatmap.png', 'Forest_01_2715_mask.tif', 'Forest_01_2715_mask.tif.json', 'Forest_01_2715_overlay.png']);
    refused(c, '--with', /applies to -O; with -o give --cam, --png, --heatmap or --vector FILE/);
    assert.deepEqual(filesUnder(single), []);
  });

  it('an empty -O or -o (an unset shell variable) is named, not answered with "give either -o or -O"', async () => {
    const [emptyDir, emptyFile] = await Promise.all([
      wdcd(['detect', FOREST, ...SENSOR, '-O', '']),
      wdcd(['detect', FOREST, ...SENSOR, '-o', '']),
    ]);
    refused(emptyDir, '--outdir', /no folder given/);
    refused(emptyFile, '--output', /no file name given/);
  });

  it('--json with -O is an array of the detected scenes whatever their number; a failed scene is named on stderr', async () => {
    const [some, one] = [outdir(), outdir()];
    const missing = join(dir, 'missing.tif');
    const [r, single] = await Promise.all([
      wdcd(['detect', FOREST, missing, ...SENSOR, '-O', some, '--json', '-q']),
      wdcd(['detect', URBAN, ...SENSOR, '-O', one, '--json', '-q']),
    ]);
    assert.equal(r.code, 2, show(r));
    const summaries = JSON.parse(r.stdout);
    assert.ok(Array.isArray(summaries), `an array with one scene detected of two: ${r.stdout.slice(0, 80)}`);
    assert.deepEqual(summaries.map((s: { inputs: string[] }) => s.inputs), [[FOREST]]);
    assert.match(r.stderr, new RegExp(`1 of 2 scenes failed and have no mask:\n  ${missing}: file not found`));
    assert.equal(single.code, 0, show(single));
    assert.deepEqual(JSON.parse(single.stdout).map((s: { inputs: string[] }) => s.inputs), [[URBAN]]);
  });

  it('--metadata (one product) given to a batch of several scenes is warned about once, before the first scene', async () => {
    const out = outdir();
    const r = await wdcd(['detect', FOREST, URBAN, '--metadata', MTL, '--bands', '1,2,3,4', '-O', out]);
    assert.equal(r.code, 0, show(r));
    const warning = `warning: --metadata ${MTL} describes one product (LANDSAT_8 L1TP TOA reflectance), and -O applies it to each of the 2 scenes`;
    assert.equal(r.stderr.split(warning).length, 2, `once:\n${r.stderr}`);
    assert.ok(r.stderr.indexOf(warning) < r.stderr.indexOf(FOREST), `before the first scene:\n${r.stderr}`);
  });

  it('a failed scene whose reason spans lines (a corrupt JPEG) takes one line of the final list', async () => {
    const folder = join(dir, 'jpegs');
    mkdirSync(folder);
    const good = join(folder, 'good.jpg');
    copyFileSync(GF1_JPEG, good);
    const corrupt = join(folder, 'corrupt.jpg');
    writeFileSync(corrupt, Buffer.concat([readFileSync(GF1_JPEG).subarray(0, 200), Buffer.alloc(5000)]));
    const r = await wdcd(['detect', corrupt, good, '--model', 'rgb', '-O', outdir(), '-q']);
    assert.equal(r.code, 2, show(r));
    const list = r.stderr.slice(r.stderr.indexOf('1 of 2 scenes failed')).trimEnd().split('\n');
    assert.equal(list.length, 2, `one line per failed scene:\n${r.stderr}`);
    assert.ok(list[1].startsWith(`  ${corrupt}: `), list[1]);
    const skipped = r.stderr.split('\n').filter((l) => l.startsWith('warning: skipped:'));
    assert.equal(skipped.length, 1);
    assert.ok(r.stderr.split('\n').every((l) => !l.startsWith('VipsJpeg')), `no loose lines:\n${r.stderr}`);
  });

  it('already refused before any work: OUTDIR a regular file, two inputs sharing a name (a.tif, a.jpg)', async () => {
    const folder = join(dir, 'names');
    mkdirSync(folder);
    const file = join(folder, 'not-a-folder');
    writeFileSync(file, 'x');
    copyFileSync(FOREST, join(folder, 'a.tif'));
    copyFileSync(GF1_JPEG, join(folder, 'a.jpg'));
    const out = outdir();
    const [asFile, shared] = await Promise.all([
      wdcd(['detect', FOREST, ...SENSOR, '-O', file]),
      wdcd(['detect', join(folder, 'a.tif'), join(folder, 'a.jpg'), ...SENSOR, '-O', out]),
    ]);
    refused(asFile, file, /is not a folder/);
    refused(shared, join(out, 'a_mask.tif'), /is given to both the mask of .*a\.tif and the mask of .*a\.jpg/);
    assert.deepEqual(filesUnder(out), []);
  });
});
