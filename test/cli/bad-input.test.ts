// Malformed inputs through `wdcd detect` (and `wdcd train`) as a user meets them: each exits with code 2, prints one line that names
// the file or option at fault, and leaves no output (and no temporary file) behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detect } from '../../src/detect/detect.js';
import { gpuUnavailable } from '../../src/engine/device.js';
import { saveModel } from '../../src/model/model-file.js';
import { tinyArchitecture, tinyModel } from '../model/tiny-model.js';
import { DATA, L7, L8, craftTiff, gdal, noGdal } from '../raster/helpers.js';
import { REPO, filesUnder, show, wdcd } from './helpers.js';

const BANDS = [2, 3, 4, 5].map((b) => `${L8}B${b}_toa.tif`);

describe('wdcd detect refuses bad input with exit 2 and one clear message', { concurrency: 3 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-bad-cli-'));
  const model = join(dir, 'model');
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** A file in a case's own input folder (cases run concurrently). */
  const input = (name: string, file: string) => {
    const folder = join(dir, 'inputs', name);
    mkdirSync(folder, { recursive: true });
    return join(folder, file);
  };

  before(() => {
    saveModel(model, tinyModel(tinyArchitecture(48), { seed: 1, prunedPools: [5] }));
  });

  /**
   * Runs detect with a mask and a CAM in a fresh output folder; checks exit 2, a single message line naming
   * `names`, and that neither the output folder nor the case's input folder (from `input`) holds anything new.
   */
  async function refuses(name: string, args: string[], names: string, pattern: RegExp, output?: string): Promise<void> {
    const out = join(dir, 'out', name);
    mkdirSync(out, { recursive: true });
    const inputs = join(dir, 'inputs', name);
    const inputsBefore = filesUnder(inputs).sort();
    const r = await wdcd(['detect', '--model', model, '-o', output ?? join(out, 'mask.tif'), '--cam', join(out, 'cam.tif'), ...args]);
    assert.equal(r.code, 2, show(r));
    const lines = r.stderr.split('\n').filter((l) => l.trim());
    assert.equal(lines.length, 1, `one message line:\n${r.stderr}`);
    assert.ok(lines[0].startsWith('wdcd detect: '), lines[0]);
    assert.ok(lines[0].includes(names), `the message names ${names}: ${lines[0]}`);
    assert.match(lines[0], pattern);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assert.equal(r.stdout, '');
    assert.deepEqual(filesUnder(out), [], 'no output or temporary file');
    assert.deepEqual(filesUnder(inputs).sort(), inputsBefore, 'nothing new beside the inputs');
  }

  it('a TIFF truncated in its pixel data', async () => {
    const path = input('truncated', 'truncated.tif');
    const bytes = readFileSync(BANDS[0]);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await refuses('truncated', [path, ...BANDS.slice(1)], path, /truncated/);
  });

  it('a header claiming zero width', async () => {
    const path = input('zero', 'zero.tif');
    craftTiff(path, 0, 10);
    await refuses('zero', [path], path, /0 x 10/);
  });

  it('a header claiming 10^6 x 10^6 pixels', async () => {
    const path = input('huge', 'huge.tif');
    craftTiff(path, 1_000_000, 1_000_000);
    await refuses('huge', [path], path, /1000000 x 1000000/);
  });

  it('a text file', async () => {
    const path = input('text', 'notes.tif');
    writeFileSync(path, 'this is not an image\n');
    await refuses('text', [path], path, /not a raster/);
  });

  it('a missing file', async () => {
    const path = input('missing', 'nope.tif');
    await refuses('missing', [BANDS[0], path, ...BANDS.slice(2)], path, /not found/);
  });

  it('too few bands for the model (a 2-band file)', { skip: noGdal }, async () => {
    const path = input('two-bands', 'two-bands.tif');
    gdal('gdal_translate', '-q', '-b', '1', '-b', '2', L7, path);
    await refuses('two-bands', [path], path, /2 band/);
  });

  it('an 8-bit RGB photo given to the 4-band model is pointed to the rgb model', { skip: noGdal }, async () => {
    const path = input('photo', 'photo.tif');
    gdal('gdal_translate', '-q', '-b', '3', '-b', '2', '-b', '1', L7, path);
    await refuses('photo', [path], path, /3 band.*for 8-bit RGB imagery use --model rgb/);
  });

  it('band files that do not match', { skip: noGdal }, async () => {
    const path = input('mismatch', 'small.tif');
    gdal('gdal_translate', '-q', '-srcwin', '0', '0', '100', '100', BANDS[1], path);
    await refuses('mismatch', [BANDS[0], path, ...BANDS.slice(2)], path, /100 x 100/);
  });

  it('unsupported compression (LZMA)', { skip: noGdal }, async () => {
    const path = input('lzma', 'lzma.tif');
    gdal('gdal_translate', '-q', '-b', '1', '-b', '2', '-b', '3', '-b', '4', '-co', 'COMPRESS=LZMA', L7, path);
    await refuses('lzma', [path], path, /LZMA/);
  });

  it('an output folder that cannot exist (a path under a regular file)', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    await refuses('unwritable', BANDS, file, /not a folder|cannot create/, join(file, 'mask.tif'));
    assert.equal(readFileSync(file, 'utf8'), 'x');
  });

  it('an output that is one of the inputs, even with --overwrite: the input is kept', async () => {
    const path = input('self', 'B2.tif');
    copyFileSync(BANDS[0], path);
    await refuses('self', [path, ...BANDS.slice(1), '--overwrite'], path, /is one of the inputs; writing the mask there would destroy it/, path);
    assert.deepEqual(readFileSync(path), readFileSync(BANDS[0]));
  });

  it('two outputs on one path', async () => {
    const cam = join(dir, 'out', 'twice', 'cam.tif');
    await refuses('twice', [...BANDS, '--png', cam], cam, /is given to both the CAM and the overlay/);
  });

  it('-O with two inputs of one name in different folders: refused before anything is written', async () => {
    const a = input('same-name-a', 'scene.tif');
    const b = input('same-name-b', 'scene.tif');
    copyFileSync(L7, a);
    copyFileSync(L7, b);
    const outdir = join(dir, 'out', 'same-name');
    const r = await wdcd(['detect', '--model', model, '--bands', '1,2,3,4', a, b, '-O', outdir]);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, new RegExp(`scene_mask\\.tif: is given to both the mask of ${a} and the mask of ${b}`));
    assert.deepEqual(filesUnder(outdir), []);
  });

  for (const [option, value, pattern] of [
    ['--stride', 'abc', /expected a whole number of pixels, got "abc"/],
    ['--stride', '500', /stride must be a whole number from 1 to the block size \(48\)/],
    ['--prune', 'some', /expected one of all, last/],
    ['--dark-guard', 'dim', /expected a reflectance or none, got "dim"/],
    ['--hot-guard', 'haze', /expected a reflectance or none, got "haze"/],
    ['--water-guard', 'murky', /expected a reflectance or none, got "murky"/],
    ['--gain', '0.2', /a radiometric calibration needs --gain, --esun and the sun angle \(--sun-elevation or --metadata\)/],
    ['--sun-elevation', '95', /expected degrees above the horizon/],
    ['--s2-baseline04', undefined, /applies to --sensor sentinel2, not landsat8-biome/],
    ['--tta', '3', /expected one of 1, 2, 4, 8, got "3"/],
    ['--bands', '1,2', /--bands needs 4 band numbers/],
    ['--device', 'tpu', /expected one of auto, cpu, gpu/],
  ] as const) {
    it(`a bad option value: ${option} ${value}`, async () => {
      await refuses(`option${option}-${value ?? 'set'}`, [...BANDS, option, ...(value === undefined ? [] : [value])], option, pattern);
    });
  }

  it('--device gpu where there is no usable GPU', async (t) => {
    const why = await gpuUnavailable();
    if (!why) return t.skip('this machine has a GPU');
    await refuses('device-gpu', [...BANDS, '--device', 'gpu'], '--device', /no usable GPU/);
  });

  it('an input that is a copy of a good file still works (the corpus is not what fails)', async () => {
    // Guards the harness: the same command line with good inputs succeeds and writes the outputs.
    const path = input('good', 'good.tif');
    copyFileSync(BANDS[0], path);
    const out = join(dir, 'out', 'good');
    const r = await wdcd(['detect', '--model', model, '-o', join(out, 'mask.tif'), '--cam', join(out, 'cam.tif'), path, ...BANDS.slice(1), '--stride', '48', '-q']);
    assert.equal(r.code, 0, show(r));
    assert.ok(filesUnder(out).includes('mask.tif') && filesUnder(out).includes('cam.tif'));
  });
});

describe('wdcd train refuses, before training, what would lose a model or learn nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-bad-train-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const csv = (name: string, rows: string[]) => {
    const path = join(dir, name);
    writeFileSync(path, rows.join('\n') + '\n');
    return `blocks:${path}`;
  };
  const args = ['--block-size', '48', '--epochs', '1', '--threads', '1', '-q'];

  before(() => {
    if (noGdal) return;
    // Two real 48 px blocks of an L8 Biome training scene (their labels here need not be right).
    for (const [name, x] of [['cloudy', '100'], ['clear', '0']]) {
      gdal('gdal_translate', '-q', '-b', '1', '-b', '2', '-b', '3', '-b', '4', '-srcwin', x, x, '48', '48', `${DATA}/l8biome/train/images/Barren_00_0214.tif`, join(dir, `${name}.tif`));
    }
  });

  it('blocks of one class only', { skip: noGdal }, async () => {
    const r = await wdcd(['train', '--train', csv('clear.csv', ['clear.tif,0', 'clear.tif,clear']), '-o', join(dir, 'none'), ...args]);
    assert.equal(r.code, 2, show(r));
    // the repeated row is read once, and said
    assert.match(r.stderr, /clear\.csv: 1 repeated row\(s\) read once/);
    assert.match(r.stderr, /clear\.csv: the training blocks are all clear \(1\); the network learns from both cloudy and clear blocks/);
    assert.deepEqual(filesUnder(join(dir, 'none')), []);
  });

  it('an output folder that holds a model, unless --overwrite; an output that is a file', { skip: noGdal }, async () => {
    const both = csv('both.csv', ['cloudy.tif,1', 'clear.tif,0']);
    const model = join(dir, 'model');
    const first = await wdcd(['train', '--train', both, '-o', model, ...args]);
    assert.equal(first.code, 0, show(first));
    const saved = readFileSync(join(model, 'weights.bin'));
    const again = await wdcd(['train', '--train', both, '-o', model, '--seed', '2', ...args]);
    assert.equal(again.code, 2, show(again));
    assert.match(again.stderr, /model: already holds a model; give --overwrite to replace it/);
    assert.ok(readFileSync(join(model, 'weights.bin')).equals(saved), 'the model is untouched');
    const replaced = await wdcd(['train', '--train', both, '-o', model, '--seed', '2', '--overwrite', ...args]);
    assert.equal(replaced.code, 0, show(replaced));
    assert.ok(!readFileSync(join(model, 'weights.bin')).equals(saved), 'another seed, other weights');
    const file = await wdcd(['train', '--train', both, '-o', join(dir, 'both.csv'), ...args]);
    assert.equal(file.code, 2, show(file));
    assert.match(file.stderr, /both\.csv: is a file; the model is written as a folder/);
  });

  it('bad options and tuning sources, before the first epoch', { skip: noGdal }, async () => {
    const both = csv('options.csv', ['cloudy.tif,1', 'clear.tif,0']);
    const run = (extra: string[]) => wdcd(['train', '--train', both, '-o', join(dir, 'never'), '--block-size', '48', '--epochs', '1', '--threads', '1', ...extra]);
    const cases: [string[], RegExp][] = [
      [['--tune', both], /options\.csv: holds block labels only; --tune needs scenes with pixel masks/],
      [['--tune', `scenes:${join(dir, 'missing.csv')}`], /missing\.csv: cannot read the scene list \(ENOENT\)/],
      [['--band-names', 'a,b'], /--band-names: give 4 names, one per band of the training blocks \(got "a,b"\)/],
      [['--arch', 'wdcd-lean', '--block-size', '16'], /--block-size: 16 px blocks are too small for wdcd-lean: its convolutions and pools need at least 32 px/],
      [['--sensor', 'bogus'], /--sensor/],
      [['--val', 'wdcd:'], /wdcd:: names no file or folder after the colon/],
      [['--band-names', 'a,b,c,d', '--hot-guard', '0.08'], /--hot-guard: the guard needs bands named blue and red; the model's are a, b, c, d/],
      [['--band-names', 'blue,green,red,b4', '--dark-guard', '0.08', '--water-guard', '0.05'], /--water-guard: the guard needs bands named nir; the model's are blue, green, red, b4/],
      [['--band-names', 'a,b,c,d', '--refine', '16'], /--refine: the refinement's guide needs bands named blue, green, red/],
    ];
    const runs = await Promise.all(cases.map(([extra]) => run(extra)));
    runs.forEach((r, i) => {
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, cases[i]![1]);
      assert.doesNotMatch(r.stderr, /^epoch 1\/1/m, 'refused before training');
    });
    assert.deepEqual(filesUnder(join(dir, 'never')), []);
  });

  it('a damaged model.json is named with what it lacks; model.json itself names its folder', async () => {
    const damaged = join(dir, 'damaged');
    mkdirSync(damaged);
    const description = JSON.parse(readFileSync(join(REPO, 'models', 'default', 'model.json'), 'utf8'));
    delete description.bands;
    writeFileSync(join(damaged, 'model.json'), JSON.stringify(description));
    copyFileSync(join(REPO, 'models', 'default', 'weights.bin'), join(damaged, 'weights.bin'));
    const [models, detect, byFile] = await Promise.all([
      wdcd(['models', damaged]),
      wdcd(['detect', `${DATA}/l8biome/test/images/Urban_11_1326.tif`, '--model', damaged, '-o', join(dir, 'damaged.tif')]),
      wdcd(['models', join(REPO, 'models', 'rgb', 'model.json')]),
    ]);
    for (const r of [models, detect]) {
      assert.equal(r.code, 2, show(r));
      assert.match(r.stderr, /damaged[/\\]model\.json: model\.json is damaged: bands is not a list of band names/);
    }
    assert.equal(byFile.code, 0, show(byFile));
    assert.match(byFile.stdout, /wdcd-light, 48 px blocks, bands blue, green, red \(display values \(0-1\)\)/);
  });
});

describe('an interrupted detect leaves no file behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-interrupt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs detect on the sample at 4 times its size (3.7 MP, a few seconds of work), sends `signal` once `ready`. */
  async function interrupt(name: string, signal: NodeJS.Signals, ready: (out: string) => boolean) {
    const input = join(dir, 'big.tif');
    if (!existsSync(input)) {
      gdal('gdalbuildvrt', '-q', '-separate', join(dir, 'stack.vrt'), ...BANDS);
      gdal('gdal_translate', '-q', '-outsize', '400%', '400%', join(dir, 'stack.vrt'), input);
    }
    const out = join(dir, name);
    mkdirSync(out);
    // The CAM as a COG and the overlay are finished after the mask.
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'detect', input, '-o', join(out, 'mask.tif'), '--cam', join(out, 'cam.tif'), '--png', join(out, 'overlay.png'), '--cog', '-q'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, s) => done({ code, signal: s })));
    const started = Date.now();
    while (!ready(out) && child.exitCode === null) {
      assert.ok(Date.now() - started < 60_000, `the moment to interrupt did not come; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill(signal);
    return { end: await exited, stderr, left: readdirSync(out).sort() };
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} while the outputs are being written`, { skip: noGdal, timeout: 120_000 }, async () => {
      // Once the writers' temporary files are there.
      const { end, stderr, left } = await interrupt(`out-${signal}`, signal, (out) => readdirSync(out).some((f) => f.endsWith('.tmp')));
      assert.equal(end.signal, signal, `killed by the signal, not an abort or a clean exit (${JSON.stringify(end)}); stderr: ${stderr}`);
      assert.match(stderr, new RegExp(`stopped by ${signal}; removed \\d+ unfinished output files?`));
      assert.deepEqual(left, [], 'neither outputs nor temporary files remain');
    });
  }

  it('SIGINT after the mask is in place: all the scene\'s outputs or none, never a mask without its summary', { skip: noGdal, timeout: 120_000 }, async () => {
    const { end, stderr, left } = await interrupt('out-placed', 'SIGINT', (out) => existsSync(join(out, 'mask.tif')));
    if (end.signal === 'SIGINT') {
      assert.match(stderr, /stopped by SIGINT; removed \d+ unfinished output files?/);
      assert.deepEqual(left, [], 'the mask already in place is removed with the rest');
    } else {
      // The run finished before the signal arrived: then everything is there.
      assert.equal(end.code, 0, stderr);
      assert.deepEqual(left, ['cam.tif', 'mask.tif', 'mask.tif.json', 'overlay.png']);
    }
  });
});

describe('a detect that fails after some outputs are in place keeps none of them', () => {
  it('the heat map\'s folder removed mid-run: the polygons, mask, CAM and overlay already written are removed, and no summary', { skip: noGdal }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wdcd-partial-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const heatDir = join(dir, 'heat');
    mkdirSync(heatDir);
    const mask = join(dir, 'mask.tif');
    let removed = false;
    await assert.rejects(
      detect(BANDS, {
        mask, cam: join(dir, 'cam.tif'), png: join(dir, 'overlay.png'), heatmap: join(heatDir, 'heat.png'), vector: join(dir, 'clouds.geojson'),
        // Once the pass has begun, the heat map can no longer be written where it was asked for.
        onProgress: () => {
          if (!removed) rmSync(heatDir, { recursive: true });
          removed = true;
        },
      }),
      /heat\.png: cannot write the quicklook/,
    );
    assert.deepEqual(readdirSync(dir), [], 'no output and no temporary file');
  });
});
