import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { BlockReader } from '../../src/raster/block-reader.js';
import { tempDir } from './helpers.js';

describe('BlockReader', () => {
  // 40 blocks of varying length, each filled with its own index, one of them sparse.
  const counts = Array.from({ length: 40 }, (_, i) => (i === 7 ? 0 : 1000 + ((i * 379) % 900)));
  const offsets: number[] = [];
  let end = 16;
  for (const c of counts) {
    offsets.push(end);
    end += c + 5;
  }
  const file = new Uint8Array(end);
  counts.forEach((c, i) => file.fill(i, offsets[i], offsets[i] + c));
  const path = join(tempDir(), 'blocks.bin');
  writeFileSync(path, file);

  it('lends each block its own bytes, a few at a time, in a few reused buffers', async () => {
    const reader = await BlockReader.open(path, offsets, counts, 3);
    let active = 0;
    let mostActive = 0;
    const buffers = new Set<ArrayBufferLike>();
    const seen = await Promise.all(counts.map((_, i) => reader.withBlock(i, async (bytes) => {
      active++;
      mostActive = Math.max(mostActive, active);
      if (bytes) buffers.add(bytes.buffer);
      await sleep(1 + (i % 3));
      // Still this block's bytes after other reads went on meanwhile.
      const ok = bytes === null ? i === 7 : bytes.length === counts[i] && bytes.every((v) => v === i);
      active--;
      return ok;
    })));
    await reader.close();
    assert.deepEqual(seen, counts.map(() => true));
    assert.equal(mostActive, 3);
    assert.ok(buffers.size <= 3, `${buffers.size} buffers for 3 blocks at a time`);
  });

  it('names a block the file ends inside of', async () => {
    const reader = await BlockReader.open(path, [end - 10], [50]);
    await assert.rejects(reader.withBlock(0, () => true), /block 0 is truncated: 10 of 50 bytes/);
    await reader.close();
  });
});
