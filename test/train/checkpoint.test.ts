// Resuming from --checkpoint with what a user may have: a checkpoint of another network, band count or sensor
// preset, a damaged or half-saved one, none at all, or other training blocks. Each is refused or said, never read
// into weights of other shapes; and the best epoch recorded is the one whose weights the model keeps.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blockFolder } from '../../src/datasets/block-folder.js';
import { loadBlocks, type LabelledBlock } from '../../src/datasets/blocks.js';
import { InputError } from '../../src/errors.js';
import { WDCD_LEAN, WDCD_LIGHT } from '../../src/model/architecture.js';
import type { ProgressEvent } from '../../src/progress.js';
import { train, type TrainOptions } from '../../src/train/trainer.js';
import { tempDir } from '../datasets/helpers.js';
import { writeRealBlocks } from './real-blocks.js';

const arch = { ...WDCD_LEAN, blockSize: 48 };

describe('resuming from a checkpoint', () => {
  const { dir, cleanup } = tempDir('checkpoint');
  after(cleanup);
  let blocks: LabelledBlock[];
  const checkpoint = join(dir, 'ckpt');
  const options = (extra: Partial<TrainOptions>): TrainOptions => ({
    architecture: arch,
    train: blocks,
    val: [],
    bands: ['blue', 'green', 'red', 'nir'],
    units: 'reflectance (0-1)',
    sensor: 'landsat8-biome',
    batchSize: 6,
    threads: 1,
    epochs: 1,
    ...extra,
  });
  /** A copy of the one-epoch checkpoint, to damage. */
  const copy = (name: string) => {
    const path = join(dir, name);
    cpSync(checkpoint, path, { recursive: true });
    return path;
  };
  const refused = (pattern: RegExp) => (e: unknown) => e instanceof InputError && pattern.test(e.message);

  before(async () => {
    await writeRealBlocks(join(dir, 'blocks'));
    blocks = await loadBlocks((await blockFolder(join(dir, 'blocks'))).blocks);
    await train(options({ checkpointDir: checkpoint }));
  });

  it('of another network, band count or sensor preset: refused, naming what differs', { timeout: 60_000 }, async () => {
    await assert.rejects(train(options({ epochs: 2, architecture: { ...WDCD_LIGHT, blockSize: 48 }, checkpointDir: checkpoint, resume: true })), refused(/ckpt: the checkpoint is of wdcd-lean with 48 px blocks, this run trains wdcd-light with 48 px blocks/));
    const three = blocks.map((b) => ({ ...b, bandCount: 3, bands: b.bands.slice(0, 3 * 48 * 48) }));
    await assert.rejects(train(options({ epochs: 2, train: three, bands: ['blue', 'green', 'red'], checkpointDir: checkpoint, resume: true })), refused(/trained on 4 bands \(blue, green, red, nir\), this run's blocks have 3/));
    await assert.rejects(train(options({ epochs: 2, sensor: 'rgb', checkpointDir: checkpoint, resume: true })), refused(/read through the landsat8-biome preset, this run reads them through rgb/));
  });

  it('damaged: truncated, cut-short state, a file from another save: refused, naming the file', { timeout: 60_000 }, async () => {
    const truncated = copy('truncated');
    truncateSync(join(truncated, 'adam-m.bin'), 1000);
    const cut = copy('cut');
    writeFileSync(join(cut, 'state.json'), readFileSync(join(cut, 'state.json'), 'utf8').slice(0, 40));
    // A save interrupted after one binary was replaced: the files no longer belong to the state.
    const mixed = copy('mixed');
    copyFileSync(join(mixed, 'adam-v.bin'), join(mixed, 'adam-m.bin'));
    const cases: [string, RegExp][] = [
      [truncated, /truncated[/\\]adam-m\.bin: the checkpoint is damaged or incomplete: adam-m\.bin holds 1000 bytes, the network needs \d+/],
      [cut, /cut[/\\]state\.json: the checkpoint is damaged or incomplete: it is not valid JSON/],
      [mixed, /mixed[/\\]adam-m\.bin: .*adam-m\.bin is not the file state\.json was saved with/],
    ];
    for (const [path, pattern] of cases) await assert.rejects(train(options({ epochs: 2, checkpointDir: path, resume: true })), refused(pattern));
  });

  it('a folder without a checkpoint: said, and training starts from the first epoch', { timeout: 60_000 }, async () => {
    const events: ProgressEvent[] = [];
    const { history } = await train(options({ checkpointDir: join(dir, 'empty'), resume: true, onProgress: (e) => events.push(e) }));
    assert.equal(history.length, 1);
    assert.ok(events.some((e) => e.kind === 'warning' && /empty: no checkpoint to resume from \(no state\.json\); training starts from the first epoch/.test(e.message)));
  });

  it('other training blocks: said, and normalised as the checkpoint was', { timeout: 60_000 }, async () => {
    const first = JSON.parse(readFileSync(join(checkpoint, 'last', 'model.json'), 'utf8'));
    const brighter = blocks.map((b) => ({ ...b, bands: b.bands.map((v) => v * 3) }));
    const events: ProgressEvent[] = [];
    const { model } = await train(options({ epochs: 2, train: brighter, checkpointDir: copy('brighter'), resume: true, onProgress: (e) => events.push(e) }));
    assert.ok(events.some((e) => e.kind === 'warning' && /not those the checkpoint was trained on \(blue: mean/.test(e.message)), JSON.stringify(events.filter((e) => e.kind === 'warning')));
    assert.deepEqual(model.description.normalization, first.normalization);
  });

  it('without validation the best epoch recorded is the last, whose weights the model keeps', { timeout: 60_000 }, async () => {
    const { model, history } = await train(options({ epochs: 2 }));
    assert.equal(history.length, 2);
    assert.equal(model.description.training?.bestEpoch, 2);
  });
});
