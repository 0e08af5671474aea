// `wdcd models`: what a user reads to know what a model expects and how it came to be, for the bundled models and
// for a model folder fine-tuned from one (real L8 Biome blocks).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RECIPES } from '../../scripts/model-recipes.js';
import { trainModel } from '../../src/train/train-model.js';
import { tempDir } from '../datasets/helpers.js';
import { writeRealBlocks } from '../train/real-blocks.js';
import { show, wdcd } from './helpers.js';

describe('wdcd models', () => {
  const { dir, cleanup } = tempDir('models-cli');
  after(cleanup);

  it('lists each bundled model with its bands, threshold and the recipe that trained it', async () => {
    const r = await wdcd(['models']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^default: wdcd-lean, 48 px blocks, bands blue, green, red, nir \(reflectance \(0-1\)\), sensor preset landsat8-biome$/m);
    assert.match(r.stdout, /^rgb: wdcd-light, 48 px blocks, .*sensor preset rgb$/m);
    assert.match(r.stdout, /T = -?[0-9.]+ \+ [0-9.]+ x [0-9.]+ = -?[0-9.]+/);
    for (const [name, recipe] of Object.entries(RECIPES)) assert.ok(r.stdout.includes(`trained by: wdcd train ${recipe.join(' ')} -o models/${name}`), `${name}'s recipe\n${show(r)}`);
  });

  it('names the model a fine-tuned folder started from', { timeout: 60_000 }, async () => {
    const blocks = join(dir, 'blocks');
    await writeRealBlocks(blocks);
    const output = join(dir, 'tuned');
    await trainModel({ output, train: [`blocks:${blocks}`], init: 'default', epochs: 1, threads: 1, command: 'wdcd train --init default' });
    const r = await wdcd(['models', output]);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^ {2}spectral guards: no cloud where red < 0\.08; no cloud where blue - 0\.5 red < 0\.08; no cloud where nir < 0\.05$/m);
    assert.match(r.stdout, /^ {2}fine-tuned from: default, itself trained by: wdcd train --arch wdcd-lean --train l8biome:train /m);
  });
});
