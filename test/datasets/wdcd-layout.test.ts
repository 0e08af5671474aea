import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { labelCounts, loadBlocks, wdcdLayout } from '../../src/datasets/index.js';
import { blocksOf } from '../../src/datasets/source-spec.js';
import { hasNumpy, npyBytes, python, tempDir, writeTiff } from './helpers.js';

const SIZE = 250;

/** A 250 x 250 4-band uint16 block whose pixel (x, y) of band b is seed*1000 + b*100 + (x + y) % 97. */
function blockPlanes(seed: number): Uint16Array[] {
  return [0, 1, 2, 3].map((b) => {
    const p = new Uint16Array(SIZE * SIZE);
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) p[y * SIZE + x] = seed * 1000 + b * 100 + ((x + y) % 97);
    return p;
  });
}

/** Writes `<name>_bl.npy` label files, with numpy (one call) when it is installed, else hand-made NPY bytes. */
function writeLabels(items: { path: string; label: number }[]): void {
  if (hasNumpy) {
    // vary the dtype like real label files might: int64 scalar, uint8 scalar, float (1,)
    const lines = items.map(({ path, label }, n) => {
      const expr = [`np.int64(${label})`, `np.array(${label}, dtype=np.uint8)`, `np.array([${label}], dtype=np.float32)`][n % 3];
      return `np.save(${JSON.stringify(path)}, ${expr})`;
    });
    python(lines.join('\n'), '.');
  } else {
    for (const { path, label } of items) {
      writeFileSync(path, npyBytes('<i8', [], new Uint8Array(new BigInt64Array([BigInt(label)]).buffer)));
    }
  }
}

test('a WDCD-layout folder loads with the right labels, values and splits', async () => {
  const { dir, cleanup } = tempDir('wdcd');
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    const labels = [1, 0, 0, 1, 1, 0];
    const items: { path: string; label: number }[] = [];
    for (const [i, label] of labels.entries()) {
      const name = `GF1_WFV1_E${i}_N${i}_2014_L1A_${i}`;
      await writeTiff(join(data, `${name}.tif`), SIZE, SIZE, blockPlanes(i));
      items.push({ path: join(data, `${name}_bl.npy`), label });
    }
    writeLabels(items);
    // a TIFF without a label (e.g. a pixel mask) is skipped and reported
    await writeTiff(join(data, 'unlabelled.tif'), SIZE, SIZE, [new Uint16Array(SIZE * SIZE)]);
    writeFileSync(join(dir, 'train.txt'), 'GF1_WFV1_E0_N0_2014_L1A_0\nGF1_WFV1_E1_N1_2014_L1A_1.tif\n\n# comment\ndata/GF1_WFV1_E3_N3_2014_L1A_3.tif\n');
    mkdirSync(join(dir, 'ImageSets'));
    writeFileSync(join(dir, 'ImageSets', 'test.txt'), 'GF1_WFV1_E2_N2_2014_L1A_2\r\nGF1_WFV1_E5_N5_2014_L1A_5\r\n');

    const all = await wdcdLayout(dir);
    assert.equal(all.blocks.length, 6);
    assert.deepEqual([all.size, all.bandCount], [SIZE, 4]);
    assert.match(all.warnings.join(), /1 TIFF file\(s\) without/);
    assert.deepEqual(all.blocks.map((b) => b.label), labels);
    assert.deepEqual(labelCounts(all.blocks), { clear: 3, cloudy: 3 });
    assert.equal(all.blocks[0]!.id, 'data/GF1_WFV1_E0_N0_2014_L1A_0');

    const loaded = await loadBlocks(all.blocks);
    for (const [i, block] of loaded.entries()) {
      assert.equal(block.label, labels[i]);
      assert.equal(block.bands.length, 4 * SIZE * SIZE);
      assert.equal(block.validFraction, 1);
      // band 2, pixel (x 10, y 3): i*1000 + 200 + 13
      assert.equal(block.bands[2 * SIZE * SIZE + 3 * SIZE + 10], i * 1000 + 213);
    }

    const train = await wdcdLayout(dir, { split: 'train', bands: [3, 0], scale: [0.5, 1], offset: [-1, 0] });
    assert.deepEqual(train.blocks.map((b) => [b.id.split('/').pop(), b.label]), [
      ['GF1_WFV1_E0_N0_2014_L1A_0', 1],
      ['GF1_WFV1_E1_N1_2014_L1A_1', 0],
      ['GF1_WFV1_E3_N3_2014_L1A_3', 1],
    ]);
    const one = await train.blocks[2]!.load();
    assert.equal(one.bandCount, 2);
    // band 3 of block 3 at (0, 0) = 3300 -> 3300 * 0.5 - 1; band 0 at (0, 0) = 3000
    assert.deepEqual([one.bands[0], one.bands[SIZE * SIZE]], [1649, 3000]);

    const testSplit = await wdcdLayout(dir, { split: 'test' });
    assert.deepEqual(testSplit.blocks.map((b) => b.label), [0, 0]);

    await assert.rejects(wdcdLayout(dir, { split: 'val' }), (e: unknown) => e instanceof InputError && /split "val".*name the list file instead of the split \(wdcd:.*:LIST\.txt\)/.test(e.message));
    // ... which the source spec takes in place of the split
    writeFileSync(join(dir, 'my-val.txt'), 'GF1_WFV1_E4_N4_2014_L1A_4\n');
    const listed = await blocksOf(`wdcd:${dir}:${join(dir, 'my-val.txt')}`, SIZE, SIZE);
    assert.deepEqual(listed.blocks.map((b) => [b.id.split('/').pop(), b.label]), [['GF1_WFV1_E4_N4_2014_L1A_4', 1]]);
    assert.equal((await blocksOf(`wdcd:${dir}:test`, SIZE, SIZE)).blocks.length, 2);
    writeFileSync(join(dir, 'bad.txt'), 'no_such_block\n');
    await assert.rejects(wdcdLayout(dir, { listFile: join(dir, 'bad.txt') }), /line 1: no block image "no_such_block"/);
    writeFileSync(join(dir, 'bad2.txt'), 'unlabelled\n');
    await assert.rejects(wdcdLayout(dir, { listFile: join(dir, 'bad2.txt') }), /has no label file unlabelled_bl\.npy/);
    await assert.rejects(wdcdLayout(dir, { bands: [4] }), /band 5 does not exist: the file has 4 bands \(1-4\)/); // named 1-based, as --bands
  } finally {
    cleanup();
  }
});

test('a block of another size is refused on load', async () => {
  const { dir, cleanup } = tempDir('wdcd');
  try {
    await writeTiff(join(dir, 'a.tif'), 8, 8, [new Uint16Array(64)]);
    await writeTiff(join(dir, 'b.tif'), 9, 9, [new Uint16Array(81)]);
    for (const n of ['a', 'b']) writeFileSync(join(dir, `${n}_bl.npy`), npyBytes('|u1', [], Uint8Array.of(0)));
    const source = await wdcdLayout(dir);
    assert.equal(source.size, 8);
    await source.blocks[0]!.load();
    await assert.rejects(source.blocks[1]!.load(), (e: unknown) => e instanceof InputError && /b\.tif.*9 x 9/.test(e.message));
    await assert.rejects(wdcdLayout(join(dir, 'nope')), InputError);
  } finally {
    cleanup();
  }
});
