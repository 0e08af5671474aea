import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../src/errors.js';
import { blockCsv, blockFolder, loadBlocks, splitCsvLine } from '../../src/datasets/index.js';
import { tempDir, writeTiff } from './helpers.js';

/** A 16 x 16 RGB PNG filled with (r, g, b). */
async function png(path: string, r: number, g: number, b: number, size = 16): Promise<void> {
  const data = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) data.set([r, g, b], i * 3);
  await sharp(data, { raw: { width: size, height: size, channels: 3 } }).png().toFile(path);
}

test('cloudy/ and clear/ folders: labels from the folder, values with band selection and scale', async () => {
  const { dir, cleanup } = tempDir('folder');
  try {
    mkdirSync(join(dir, 'cloudy', 'sub'), { recursive: true });
    mkdirSync(join(dir, 'clear'));
    await png(join(dir, 'cloudy', 'c1.png'), 250, 240, 230);
    await png(join(dir, 'cloudy', 'sub', 'c2.png'), 200, 200, 200);
    await png(join(dir, 'clear', 'k1.png'), 10, 60, 30);
    writeFileSync(join(dir, 'clear', 'notes.txt'), 'ignored');
    // hidden entries are not blocks: macOS's ._ companions (not images at all) and tools' checkpoint copies
    writeFileSync(join(dir, 'clear', '._k1.png'), 'AppleDouble');
    mkdirSync(join(dir, 'cloudy', '.ipynb_checkpoints'));
    await png(join(dir, 'cloudy', '.ipynb_checkpoints', 'c1.png'), 250, 240, 230);
    const source = await blockFolder(dir, { bands: [2, 1, 0], scale: 1 / 255 });
    assert.deepEqual([source.size, source.bandCount], [16, 3]);
    assert.deepEqual(source.blocks.map((b) => [b.id, b.label]), [
      ['clear/k1.png', 0],
      ['cloudy/c1.png', 1],
      ['cloudy/sub/c2.png', 1],
    ]);
    const [k1] = await loadBlocks(source.blocks.slice(0, 1));
    // blue, green, red order; pixel 0 of each band
    assert.ok(Math.abs(k1!.bands[0]! - 30 / 255) < 1e-6);
    assert.ok(Math.abs(k1!.bands[256]! - 60 / 255) < 1e-6);
    assert.ok(Math.abs(k1!.bands[512]! - 10 / 255) < 1e-6);
    await assert.rejects(blockFolder(join(dir, 'cloudy')), (e: unknown) => e instanceof InputError && /no cloudy\/ or clear\/ subfolder/.test(e.message));
  } finally {
    cleanup();
  }
});

test('CSV path,label: header optional, relative paths, quoted fields, bad labels named by line', async () => {
  const { dir, cleanup } = tempDir('csv');
  try {
    mkdirSync(join(dir, 'imgs'));
    await writeTiff(join(dir, 'imgs', 'a,1.tif'), 4, 4, [new Float32Array(16).fill(0.5), new Float32Array(16).fill(NaN)]);
    await writeTiff(join(dir, 'imgs', 'b.tif'), 4, 4, [new Float32Array(16).fill(0.25), new Float32Array(16).fill(2)]);
    writeFileSync(join(dir, 'labels.csv'), 'path,label\n"imgs/a,1.tif",1\nimgs/b.tif, clear\n');
    const source = await blockCsv(join(dir, 'labels.csv'), { nodataFill: -9 });
    assert.deepEqual(source.blocks.map((b) => b.label), [1, 0]);
    const [a, b] = await loadBlocks(source.blocks);
    // band 1 of a is all NaN: every pixel is nodata, filled with -9 in both bands
    assert.equal(a!.validFraction, 0);
    assert.deepEqual([a!.bands[0], a!.bands[16]], [-9, -9]);
    assert.equal(b!.validFraction, 1);
    assert.deepEqual([b!.bands[0], b!.bands[16]], [0.25, 2]);
    // no header
    writeFileSync(join(dir, 'nohead.csv'), 'imgs/b.tif,1\n');
    assert.equal((await blockCsv(join(dir, 'nohead.csv'))).blocks[0]!.label, 1);
    writeFileSync(join(dir, 'bad.csv'), 'path,label\nimgs/b.tif,2\n');
    await assert.rejects(blockCsv(join(dir, 'bad.csv')), (e: unknown) => e instanceof InputError && /bad\.csv.*line 2/.test(e.message));
    // a first row with a mistyped label is not taken for a header
    writeFileSync(join(dir, 'typo.csv'), 'imgs/b.tif,claer\nimgs/b.tif,1\n');
    await assert.rejects(blockCsv(join(dir, 'typo.csv')), (e: unknown) => e instanceof InputError && /typo\.csv.*line 1: label must be 0\/1 .*"claer"/.test(e.message));
    // a block listed twice: with the same label read once (and said), with both labels refused, naming both lines
    writeFileSync(join(dir, 'twice.csv'), 'imgs/b.tif,1\nimgs/../imgs/b.tif,cloudy\n"imgs/a,1.tif",0\n');
    const twice = await blockCsv(join(dir, 'twice.csv'));
    assert.deepEqual(twice.blocks.map((b) => [b.id, b.label]), [['imgs/b.tif', 1], ['imgs/a,1.tif', 0]]);
    assert.match(twice.warnings.join(), /twice\.csv: 1 repeated row\(s\) read once/);
    writeFileSync(join(dir, 'conflict.csv'), 'path,label\nimgs/b.tif,1\n"imgs/a,1.tif",0\nimgs/b.tif,clear\n');
    await assert.rejects(blockCsv(join(dir, 'conflict.csv')), (e: unknown) => e instanceof InputError && /conflict\.csv.*line 4 labels imgs\/b\.tif clear, line 2 labelled it cloudy/.test(e.message));
    assert.deepEqual(splitCsvLine('"a ""b"", c",1'), ['a "b", c', '1']);
  } finally {
    cleanup();
  }
});
