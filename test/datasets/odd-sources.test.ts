// Block sources as users make them, slightly off: a block with more bands than the others, a CSV whose paths are
// relative to the working folder or whose header names the label column "cloudy", WDCD folders with labels or
// blocks missing and a list file named relative to the dataset, a catalogue set given a split it does not have, a
// scene list with paths relative to the working folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { blockCsv, blockFolder, loadBlocks, wdcdLayout } from '../../src/datasets/index.js';
import { scenesOf } from '../../src/datasets/source-spec.js';
import { npyBytes, tempDir, writeTiff } from './helpers.js';

const plane = (v: number, n = 8 * 8) => new Float32Array(n).fill(v);
const label = (v: number) => npyBytes('<i8', [], new Uint8Array(new BigInt64Array([BigInt(v)]).buffer));

test('a block with more bands than the first is refused on load, though the chosen bands exist in it', async () => {
  const { dir, cleanup } = tempDir('bands');
  try {
    mkdirSync(join(dir, 'cloudy'));
    mkdirSync(join(dir, 'clear'));
    await writeTiff(join(dir, 'clear', 'a.tif'), 8, 8, [plane(0.1), plane(0.2), plane(0.3), plane(0.4)]);
    await writeTiff(join(dir, 'cloudy', 'b.tif'), 8, 8, [plane(0.5), plane(0.6), plane(0.7), plane(0.8), plane(0.9)]);
    // A preset's band list (bands 1-4) reads the 5-band block without complaint unless the band count is checked.
    const source = await blockFolder(dir, { bands: [0, 1, 2, 3] });
    await assert.rejects(loadBlocks(source.blocks), (e: unknown) => e instanceof InputError && /cloudy[/\\]b\.tif: block has 5 bands, the first block \(.*a\.tif\) has 4; all blocks must hold the same bands/.test(e.message));
  } finally {
    cleanup();
  }
});

test('block CSV: a missing file is named with its line and where paths are taken from; a header "image,cloudy" is a header', async () => {
  const { dir, cleanup } = tempDir('csv-paths');
  try {
    mkdirSync(join(dir, 'lists'));
    await writeTiff(join(dir, 'a.tif'), 8, 8, [plane(0.1)]);
    // written relative to the working folder (dir), read relative to the CSV's (dir/lists)
    writeFileSync(join(dir, 'lists', 'cwd.csv'), '../a.tif,0\na.tif,1\n');
    await assert.rejects(blockCsv(join(dir, 'lists', 'cwd.csv')), (e: unknown) => e instanceof InputError && /cwd\.csv: line 2: no file a\.tif \(.*lists[/\\]a\.tif; paths are relative to the CSV's folder\)/.test(e.message));
    writeFileSync(join(dir, 'header.csv'), 'image,cloudy\na.tif,0\n');
    const source = await blockCsv(join(dir, 'header.csv'));
    assert.deepEqual(source.blocks.map((b) => [b.id, b.label]), [['a.tif', 0]]);
  } finally {
    cleanup();
  }
});

test('WDCD layout: labels without blocks and blocks without labels are named; a list file relative to the root is found', async () => {
  const { dir, cleanup } = tempDir('wdcd-odd');
  try {
    for (const name of ['a', 'b', 'c']) await writeTiff(join(dir, `${name}.tif`), 8, 8, [plane(0.1)]);
    writeFileSync(join(dir, 'a_bl.npy'), label(1));
    writeFileSync(join(dir, 'b_bl.npy'), label(0));
    writeFileSync(join(dir, 'gone_bl.npy'), label(1)); // its block was deleted
    const all = await wdcdLayout(dir);
    assert.deepEqual(all.blocks.map((b) => b.id), ['a', 'b']);
    assert.ok(all.warnings.some((w) => /1 TIFF file\(s\) without a <name>_bl\.npy label were skipped \(c\.tif\)/.test(w)), all.warnings.join('\n'));
    assert.ok(all.warnings.some((w) => /1 label file\(s\) without a <name>\.tif block beside them were skipped \(gone_bl\.npy\)/.test(w)), all.warnings.join('\n'));
    writeFileSync(join(dir, 'my_list.txt'), 'b\n');
    const listed = await wdcdLayout(dir, { listFile: 'my_list.txt' });
    assert.deepEqual(listed.blocks.map((b) => b.id), ['b']);
  } finally {
    cleanup();
  }
});

test('a catalogue set given a split or path it does not take is refused, not read whole', async () => {
  for (const spec of ['approx:val', '38cloud:test']) {
    await assert.rejects(scenesOf(spec), (e: unknown) => e instanceof InputError && /names one catalogue set and takes no split or path/.test(e.message), spec);
  }
});

test('a scene list whose paths are relative to the working folder: the missing file is named with its line', async () => {
  const { dir, cleanup } = tempDir('scene-list-paths');
  try {
    mkdirSync(join(dir, 'lists'));
    await writeTiff(join(dir, 'image.tif'), 8, 8, [plane(0.1)]);
    await writeTiff(join(dir, 'mask.tif'), 8, 8, [new Uint8Array(64).fill(128)]);
    writeFileSync(join(dir, 'lists', 'scenes.csv'), 'image,mask\n../image.tif,../mask.tif,l8biome\nimage.tif,mask.tif,l8biome\n');
    await assert.rejects(scenesOf(`scenes:${join(dir, 'lists', 'scenes.csv')}`), (e: unknown) => e instanceof InputError && /scenes\.csv: line 3: no file image\.tif \(.*lists[/\\]image\.tif; paths are relative to the scene list's folder\)/.test(e.message));
  } finally {
    cleanup();
  }
});
