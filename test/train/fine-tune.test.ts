// Fine-tuning (`trainModel({ init })`, `wdcd train --init`): training starts from a model's weights and keeps what
// they were trained with (architecture, bands, normalisation, sensor preset, detection settings), on real L8 Biome
// blocks. A run that ignored `init` would start from random weights and the blocks' own normalisation.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { loadModel } from '../../src/model/model-file.js';
import type { ProgressEvent } from '../../src/progress.js';
import { trainModel } from '../../src/train/train-model.js';
import { tempDir } from '../datasets/helpers.js';
import { writeRealBlocks } from './real-blocks.js';

describe('fine-tuning from a model', () => {
  const { dir, cleanup } = tempDir('fine-tune');
  after(cleanup);
  const blocks = join(dir, 'blocks');
  const start = loadModel('default');
  before(async () => {
    await writeRealBlocks(blocks);
  });

  it('starts from the model weights and keeps its architecture, bands, normalisation and detection settings', { timeout: 60_000 }, async () => {
    // A step size this small leaves the weights where they start: the model's, not random ones.
    const { model } = await trainModel({ output: join(dir, 'still'), train: [`blocks:${blocks}`], init: 'default', learningRate: 1e-9, epochs: 1, threads: 1 });
    const d = model.description;
    assert.deepEqual(d.architecture, start.description.architecture);
    assert.deepEqual(d.bands, start.description.bands);
    assert.deepEqual(d.normalization, start.description.normalization);
    assert.equal(d.sensor, start.description.sensor);
    assert.equal(d.units, start.description.units);
    assert.deepEqual(d.prunedPools, start.description.prunedPools);
    assert.deepEqual(d.detection.darkGuard, start.description.detection.darkGuard);
    assert.deepEqual(d.detection.hotGuard, start.description.detection.hotGuard);
    assert.equal((d.training?.init as { model: string }).model, 'default');
    assert.equal(d.detection.k, start.description.detection.k, 'no scenes to tune on: k kept');
    let largest = 0;
    for (const [name, values] of start.weights) {
      const tuned = model.weights.get(name)!;
      for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(tuned[i]! - values[i]!));
    }
    assert.ok(largest < 1e-5, `weights moved by up to ${largest}`);
    // The clear-sky statistics are the new blocks', not copied.
    assert.equal(d.detection.clearSky!.blocks, 3);
  });

  it('trains at a tenth of the default step size unless given, and warns of blocks unlike the model\'s', { timeout: 60_000 }, async () => {
    const events: ProgressEvent[] = [];
    // Half the reflectance: the blocks' statistics are far from those the model was normalised with.
    const { model } = await trainModel({ output: join(dir, 'tuned'), train: [`blocks:${blocks}`], init: 'default', bandOptions: { scale: 0.5 }, epochs: 1, threads: 1, onProgress: (e) => events.push(e) });
    assert.equal(model.description.training?.learningRate, 1e-4);
    const warnings = events.flatMap((e) => (e.kind === 'warning' ? [e.message] : []));
    assert.ok(warnings.some((w) => /^default: the training blocks are unlike those the model was trained on \(blue: mean [0-9.]+ std [0-9.]+, the model's mean [0-9.]+ std [0-9.]+\); they are normalised as its were$/.test(w)), warnings.join('\n'));
    assert.deepEqual(model.description.normalization, start.description.normalization);
  });

  it('a resumed fine-tune warns of the blocks once, not again for its checkpoint', { timeout: 90_000 }, async () => {
    const checkpointDir = join(dir, 'checkpoint');
    const run = async (epochs: number, resume: boolean): Promise<string[]> => {
      const events: ProgressEvent[] = [];
      await trainModel({ output: join(dir, `resumed-${epochs}`), train: [`blocks:${blocks}`], init: 'default', bandOptions: { scale: 0.5 }, epochs, threads: 1, checkpointDir, resume, onProgress: (e) => events.push(e) });
      return events.flatMap((e) => (e.kind === 'warning' ? [e.message] : []));
    };
    await run(1, false);
    const warnings = await run(2, true);
    assert.equal(warnings.filter((w) => /unlike|not those the checkpoint/.test(w)).length, 1, warnings.join('\n'));
  });

  it('refuses another architecture, block size or band count than the model\'s', async () => {
    const cases: [Parameters<typeof trainModel>[0], RegExp][] = [
      [{ output: join(dir, 'a'), train: [`blocks:${blocks}`], init: 'default', architecture: 'wdcd-light' }, /default is a wdcd-lean model; fine-tuning keeps its architecture/],
      [{ output: join(dir, 'b'), train: [`blocks:${blocks}`], init: 'default', blockSize: 64 }, /default takes 48 px blocks/],
      [{ output: join(dir, 'c'), train: [`blocks:${blocks}`], init: 'rgb', bandOptions: { bands: [0, 1, 2, 3] }, sensor: 'landsat8-biome' }, /the training blocks have 4 bands but rgb takes 3 \(/],
    ];
    for (const [options, pattern] of cases) {
      await assert.rejects(trainModel({ ...options, epochs: 1, threads: 1 }), (e: unknown) => e instanceof InputError && pattern.test(e.message));
    }
  });
});
