// Odd but plausible command lines that used to pass quietly or fail late: empty items in number lists, a band file
// given twice or more files than the model reads, metadata of another product, and outputs that are folders.
// Each is refused before any work with one line naming the option or file (exit 2, nothing written), or, where the
// user may be right (renamed files), warned about on stderr.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO, filesUnder, show, wdcd, type Run } from './helpers.js';

const SAMPLE = join(REPO, 'samples', 'landsat8-longisland-120m', 'LC80130312015295LGN00_');
const BANDS = [2, 3, 4, 5].map((b) => `${SAMPLE}B${b}_toa.tif`);
/** The same scene with every band (B1 coastal .. B11). */
const SCENE = '/work/shared/data/landsat8-scene-120m/LC80130312015295LGN00_';
const MTL = join(REPO, 'test', 'fixtures', 'metadata', 'LC08_L1TP_013031_20151022_20200908_02_T1_MTL.txt');

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Exit 2 and a single line `wdcd COMMAND: NAMED: ...` matching `pattern`, nothing on stdout, no stack. */
function refused(r: Run, command: string, named: string, pattern: RegExp): void {
  assert.equal(r.code, 2, show(r));
  const lines = r.stderr.split('\n').filter((l) => l.trim());
  assert.equal(lines.length, 1, `one line, no work started:\n${r.stderr}`);
  assert.ok(lines[0].startsWith(`wdcd ${command}: ${named}`), `names ${named} first: ${lines[0]}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  assert.equal(r.stdout, '');
}

describe('wdcd detect: odd input refused or warned about', { concurrency: 4 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-odd-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const folder = (...parts: string[]) => {
    const path = join(dir, ...parts);
    mkdirSync(path, { recursive: true });
    return path;
  };

  it('an empty item or an empty list in a number option is refused naming the option, not read as 0', async () => {
    const calibration = ['--esun', '1,1,1,1', '--sun-elevation', '40'];
    const cases: [string, string, string[], RegExp][] = [
      ['--scale', '1,1,1,', [], /--scale: empty value in "1,1,1,"/],
      ['--offset', ',0', [], /--offset: empty value in ",0"/],
      ['--gain', '0.2,0.2,0.2,0.2,', calibration, /--gain: empty value in "0\.2,0\.2,0\.2,0\.2,"/],
      ['--bias', '0, ,0,0', ['--gain', '1', ...calibration], /--bias: empty value in "0, ,0,0"/],
      ['--esun', '1,1,1,1,', ['--gain', '1', '--sun-elevation', '40'], /--esun: empty value in "1,1,1,1,"/],
      ['--bands', '1,,2,3', [], /--bands: empty value in "1,,2,3"/],
      ['--bands', '', [], /--bands: no value given/],
      ['--scale', ' ', [], /--scale: no value given/],
    ];
    const runs = await Promise.all(cases.map(([option, value, extra], i) => wdcd(['detect', ...BANDS, '-o', join(folder('empty', String(i)), 'm.tif'), option, value, ...extra])));
    runs.forEach((r, i) => {
      refused(r, 'detect', cases[i][0], cases[i][3]);
      assert.deepEqual(filesUnder(join(dir, 'empty', String(i))), [], `${cases[i][0]} ${cases[i][1]}: nothing written`);
    });
    // -O's list of extras, train's and view's number lists.
    const [extras, trainBands, trainTwice, trainScale, viewRgb] = await Promise.all([
      wdcd(['detect', ...BANDS, '-O', join(dir, 'empty', 'batch'), '--with', 'png,']),
      wdcd(['train', '--train', 'l8biome:train', '-o', join(dir, 'empty', 'model-a'), '--bands', '1,,2,3']),
      wdcd(['train', '--train', 'l8biome:train', '-o', join(dir, 'empty', 'model-c'), '--bands', '1,1,2,3']),
      wdcd(['train', '--train', 'l8biome:train', '-o', join(dir, 'empty', 'model-b'), '--scale', '0.5,']),
      wdcd(['view', BANDS[0], '--image', BANDS[0], '--rgb', '1,2,']),
    ]);
    refused(extras, 'detect', '--with', /empty value in "png,"/);
    refused(trainBands, 'train', '--bands', /empty value in "1,,2,3"/);
    refused(trainTwice, 'train', '--bands', /band 1 is chosen twice/);
    refused(trainScale, 'train', '--scale', /empty value in "0\.5,"/);
    refused(viewRgb, 'view', '--rgb', /empty value in "1,2,"/);
    assert.deepEqual(filesUnder(join(dir, 'empty')), []);
  });

  it('an option with a wrong count of values is named first, not the raster', async () => {
    const r = await wdcd(['detect', ...BANDS, '-o', join(folder('count'), 'm.tif'), '--gain', '0.2,0.2,0.2', '--esun', '1,1,1,1', '--sun-elevation', '40']);
    refused(r, 'detect', '--gain', /--gain needs 1 or 4 finite numbers, got \[0\.2,0\.2,0\.2\]/);
  });

  it('the same band file twice (by another spelling or a link too), or a band chosen twice, is refused', async () => {
    const links = folder('dup', 'links');
    const link = join(links, 'red-again.tif');
    symlinkSync(BANDS[2], link);
    const respelled = BANDS[2].replace('/samples/', '/samples/../samples/');
    const [twice, viaLink, viaPath, bands, batch] = await Promise.all([
      wdcd(['detect', BANDS[0], BANDS[1], BANDS[2], BANDS[2], '-o', join(folder('dup', 'a'), 'm.tif')]),
      wdcd(['detect', BANDS[0], BANDS[1], BANDS[2], link, '-o', join(folder('dup', 'b'), 'm.tif')]),
      wdcd(['detect', BANDS[0], BANDS[1], BANDS[2], respelled, '-o', join(folder('dup', 'c'), 'm.tif')]),
      wdcd(['detect', ...BANDS, '--bands', '1,2,3,3', '-o', join(folder('dup', 'd'), 'm.tif')]),
      // In a batch, once before the first scene rather than once per scene.
      wdcd(['detect', `${SCENE}B2_toa.tif`, BANDS[0], '--bands', '1,1,1,1', '-O', join(dir, 'dup', 'e')]),
    ]);
    refused(twice, 'detect', BANDS[2], /is given twice, as input files 3 and 4; give each band file once/);
    refused(viaLink, 'detect', link, new RegExp(`is given twice \\(as ${escape(BANDS[2])}\\), as input files 3 and 4`));
    refused(viaPath, 'detect', respelled, /is given twice .*as input files 3 and 4/);
    refused(bands, 'detect', '--bands', /band 3 is chosen twice \(1,2,3,3\)/);
    refused(batch, 'detect', '--bands', /band 1 is chosen twice/);
    for (const f of ['a', 'b', 'c', 'd', 'e']) assert.deepEqual(filesUnder(join(dir, 'dup', f)), [], f);
  });

  it('more band files than the model reads are refused without --bands, which then picks them', async () => {
    const five = [1, 2, 3, 4, 5].map((b) => `${SCENE}B${b}_toa.tif`);
    const out = folder('five');
    const [refusal, chosen, four] = await Promise.all([
      wdcd(['detect', ...five, '-o', join(out, 'refused.tif')]),
      wdcd(['detect', ...five, '--bands', '2,3,4,5', '-o', join(out, 'chosen.tif'), '-q']),
      wdcd(['detect', ...five.slice(1), '-o', join(out, 'four.tif'), '-q']),
    ]);
    refused(refusal, 'detect', five.join(', '), /: 5 band files given; sensor landsat8-biome reads 4: blue, green, red, nir \(the first four, in order\); give those four files, or choose with --bands$/);
    assert.ok(!existsSync(join(out, 'refused.tif')));
    assert.equal(chosen.code, 0, show(chosen));
    assert.equal(four.code, 0, show(four));
    // --bands 2,3,4,5 of B1..B5 is the scene of B2..B5: the same mask.
    assert.ok(readFileSync(join(out, 'chosen.tif')).equals(readFileSync(join(out, 'four.tif'))), 'the same mask');
  });

  it('band files the metadata does not name: a warning (even with -q) naming them and the metadata file', async () => {
    // Sentinel-2 band names, and the Landsat names the MTL lists, on copies of the sample scene's bands.
    const sentinel = ['B02', 'B03', 'B04', 'B08'].map((b, i) => {
      const path = join(folder('meta', 'inputs'), `T18TXL_20151022T154000_${b}.tif`);
      copyFileSync(BANDS[i], path);
      return path;
    });
    const landsat = [2, 3, 4, 5].map((b, i) => {
      const path = join(folder('meta', 'inputs'), `LC08_L1TP_013031_20151022_20200908_02_T1_B${b}.TIF`);
      copyFileSync(BANDS[i], path);
      return path;
    });
    const out = folder('meta', 'out');
    const [other, listed, swapped] = await Promise.all([
      wdcd(['detect', ...sentinel, '--metadata', MTL, '-o', join(out, 'other.tif'), '-q']),
      wdcd(['detect', ...landsat, '--metadata', MTL, '-o', join(out, 'listed.tif'), '-q']),
      wdcd(['detect', landsat[1], landsat[0], landsat[2], landsat[3], '--metadata', MTL, '-o', join(out, 'swapped.tif'), '-q']),
    ]);
    assert.equal(other.code, 0, show(other));
    assert.match(other.stderr, new RegExp(`warning: ${escape(sentinel.join(', '))} are not named in LC08_L1TP_013031_20151022_20200908_02_T1_MTL\\.txt: check that it describes this scene`));
    assert.equal(listed.code, 0, show(listed));
    assert.doesNotMatch(listed.stderr, /not named in/);
    // The files it names are still checked for their place.
    refused(swapped, 'detect', landsat[1], /is band B3 in .*_MTL\.txt, but it would go to the model as blue \(B2\)/);
  });

  it('an output that is an existing folder is refused before any work, naming it; nothing is left behind', async () => {
    const cases: [string, string[], string, RegExp][] = [];
    const add = (name: string, args: (out: string) => string[], at: (out: string) => string, what: string) => {
      const out = folder('outputs', name);
      mkdirSync(at(out), { recursive: true });
      cases.push([out, args(out), at(out), new RegExp(`is a folder; give a file name for ${what}`)]);
    };
    add('mask', (o) => ['-o', join(o, 'adir')], (o) => join(o, 'adir'), 'the mask');
    add('mask-overwrite', (o) => ['-o', join(o, 'adir'), '--overwrite'], (o) => join(o, 'adir'), 'the mask');
    add('summary', (o) => ['-o', join(o, 'm.tif')], (o) => join(o, 'm.tif.json'), 'the summary');
    add('cam', (o) => ['-o', join(o, 'm.tif'), '--cam', join(o, 'cam.tif')], (o) => join(o, 'cam.tif'), 'the CAM');
    add('png', (o) => ['-o', join(o, 'm.tif'), '--png', join(o, 'o.png'), '--overwrite'], (o) => join(o, 'o.png'), 'the overlay');
    add('heatmap', (o) => ['-o', join(o, 'm.tif'), '--heatmap', join(o, 'h.png')], (o) => join(o, 'h.png'), 'the heat map');
    add('batch-mask', (o) => ['-O', o], (o) => join(o, 'LC80130312015295LGN00_B2_toa_mask.tif'), 'the mask of');
    add('batch-summary', (o) => ['-O', o, '--with', 'png'], (o) => join(o, 'LC80130312015295LGN00_B2_toa_mask.tif.json'), 'the summary of');
    // A batch of the sample's B2 and the full scene's B3 (scenes of one band each: they would fail later, at the
    // scene, not before it).
    const inputs = (out: string) => (out.includes('batch') ? [BANDS[0], `${SCENE}B3_toa.tif`] : BANDS);
    const runs = await Promise.all(cases.map(([out, args]) => wdcd(['detect', ...inputs(out), ...args])));
    runs.forEach((r, i) => {
      const [out, , at, pattern] = cases[i];
      refused(r, 'detect', at, pattern);
      assert.deepEqual(filesUnder(out), [], `${out}: no output, no temporary file`);
    });
  });
});
