// Band files and output paths at the library's level: a file stacked twice, metadata that does not name the files,
// outputs that are folders, and the summary's write through a temporary file.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detect } from '../../src/detect/detect.js';
import { InputError } from '../../src/errors.js';
import { openRaster } from '../../src/raster/open.js';
import { checkOutputPaths } from '../../src/raster/output-paths.js';
import { checkBandFiles, readProductMetadata } from '../../src/raster/product-metadata.js';
import { writeFileAtomic } from '../../src/raster/temporary-files.js';
import { L8, tempDir } from './helpers.js';

const FIXTURES = new URL('../fixtures/metadata/', import.meta.url).pathname;
const MTL = join(FIXTURES, 'LC08_L1TP_013031_20151022_20200908_02_T1_MTL.txt');
const BGRN = ['blue', 'green', 'red', 'nir'];

const inputError = (pattern: RegExp, path: string) => (e: unknown) => {
  assert.ok(e instanceof InputError, String(e));
  assert.equal(e.path, path);
  assert.match(e.message, pattern);
  return true;
};

describe('band files', () => {
  const dir = tempDir();

  it('openRaster refuses a file stacked twice, by its real path, naming the second mention', async () => {
    const [b2, b3, b4] = [2, 3, 4].map((b) => `${L8}B${b}_toa.tif`);
    await assert.rejects(openRaster([b2, b3, b4, b4]), inputError(/is given twice, as input files 3 and 4; give each band file once/, b4));
    const link = join(dir, 'green.tif');
    symlinkSync(b3, link);
    await assert.rejects(openRaster([b2, link, b3]), inputError(new RegExp(`is given twice \\(as ${link}\\), as input files 2 and 3`), b3));
    // Distinct files, and one file alone, open as before.
    const stack = await openRaster([b2, b3, b4]);
    assert.equal(stack.bandCount, 3);
    await stack.close();
    const one = await openRaster([b2]);
    assert.equal(one.bandCount, 1);
    await one.close();
  });

  it('checkBandFiles returns the files the metadata does not name, and still checks the ones it names', () => {
    const m = readProductMetadata(MTL);
    const listed = (b: number) => `/data/LC08_L1TP_013031_20151022_20200908_02_T1_B${b}.TIF`;
    assert.deepEqual(checkBandFiles(m, [2, 3, 4, 5].map(listed), [0, 1, 2, 3], BGRN), []);
    const sentinel = ['B02', 'B03', 'B04', 'B08'].map((b) => `/data/T18TXL_20151022T154000_${b}.tif`);
    assert.deepEqual(checkBandFiles(m, sentinel, [0, 1, 2, 3], BGRN), sentinel);
    // One file renamed: it is reported, and the others must still be in their places.
    assert.deepEqual(checkBandFiles(m, ['/data/blue.tif', listed(3), listed(4), listed(5)], [0, 1, 2, 3], BGRN), ['/data/blue.tif']);
    assert.throws(
      () => checkBandFiles(m, ['/data/blue.tif', listed(4), listed(3), listed(5)], [0, 1, 2, 3], BGRN),
      inputError(/is band B4 in .*_MTL\.txt, but it would go to the model as green \(B3\)/, listed(4)),
    );
    // Metadata that lists no files (GaoFen's sun angle) has nothing to say about them.
    const gf = readProductMetadata(join(FIXTURES, 'GF1_WFV3_E113.0_N34.0_20220624_L1A0006547030.xml'));
    assert.deepEqual(checkBandFiles(gf, ['/data/a.tif', '/data/b.tif', '/data/c.tif', '/data/d.tif'], [0, 1, 2, 3], BGRN), []);
  });
});

describe('detect (the library) checks the band choice as the command does', () => {
  const dir = tempDir();
  const files = (bands: number[]) => bands.map((b) => `${L8}B${b}_toa.tif`);

  it('a band chosen twice, or band files left over without bands, are refused before anything is written', async () => {
    const mask = join(dir, 'mask.tif');
    await assert.rejects(detect(files([2, 3, 4, 5]), { mask, bands: [1, 2, 3, 3] }), inputError(/band 3 is chosen twice \(1,2,3,3\)/, '--bands'));
    await assert.rejects(
      detect(files([1, 2, 3, 4, 5]), { mask }),
      inputError(/: 5 band files given; sensor landsat8-biome reads 4: blue, green, red, nir \(the first four, in order\)/, files([1, 2, 3, 4, 5]).join(', ')),
    );
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('output paths', () => {
  const dir = tempDir();

  it('an output that is an existing folder (or a link to one) is refused, naming it and its role', () => {
    const folder = join(dir, 'adir');
    mkdirSync(folder);
    const link = join(dir, 'alink');
    symlinkSync(folder, link);
    const inputs = [`${L8}B2_toa.tif`];
    checkOutputPaths({ 'the mask': join(dir, 'm.tif'), 'the summary': join(dir, 'm.tif.json') }, inputs);
    assert.throws(() => checkOutputPaths({ 'the mask': folder }, inputs), inputError(/is a folder; give a file name for the mask/, folder));
    assert.throws(() => checkOutputPaths({ 'the mask': join(dir, 'm.tif'), 'the CAM': link }, inputs), inputError(/is a folder; give a file name for the CAM/, link));
  });

  it('writeFileAtomic writes whole or not at all: a folder in the way is named, and no temporary file is left', () => {
    const target = join(dir, 'summary.json');
    writeFileAtomic(target, '{"a": 1}\n', 'the summary');
    assert.equal(readFileSync(target, 'utf8'), '{"a": 1}\n');
    writeFileSync(target, 'old');
    writeFileAtomic(target, '{"b": 2}\n', 'the summary');
    assert.equal(readFileSync(target, 'utf8'), '{"b": 2}\n');
    const blocked = join(dir, 'blocked.json');
    mkdirSync(blocked);
    assert.throws(() => writeFileAtomic(blocked, '{}', 'the summary'), inputError(/cannot write the summary \((EISDIR|ENOTDIR|EEXIST|ENOTEMPTY)\)/, blocked));
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temporary file');
    assert.throws(() => writeFileAtomic(join(dir, 'missing', 'x.json'), '{}'), inputError(/cannot write the file \(ENOENT\)/, join(dir, 'missing', 'x.json')));
  });
});
