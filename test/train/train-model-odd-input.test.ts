// `trainModel` on odd but plausible input, blocks cut from real L8 Biome scenes: what would train a silently wrong
// model (values in other units than the model records, sources read through one preset that fits only one of them,
// blocks mostly no data, tuning scenes that do not fit) is refused before the first epoch, naming the source; what
// makes the held-out data say less than it seems is warned about; output paths that cannot work fail up front.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import type { ProgressEvent } from '../../src/progress.js';
import { openRaster } from '../../src/raster/open.js';
import { trainModel, type TrainModelOptions } from '../../src/train/train-model.js';
import { npyBytes, tempDir, writeTiff } from '../datasets/helpers.js';
import { BIOME, writeRealBlocks, type RealBlock } from './real-blocks.js';

describe('trainModel on odd input', () => {
  const { dir, cleanup } = tempDir('train-odd');
  after(cleanup);
  let blocks: RealBlock[];
  const reflectance = join(dir, 'reflectance');
  const scene = 'Barren_01_0213';
  const sceneList = (name: string, image = join(BIOME, 'images', `${scene}.tif`)) => {
    const path = join(dir, name);
    writeFileSync(path, `${image},${join(BIOME, 'masks', `${scene}.tif`)},l8biome\n`);
    return `scenes:${path}`;
  };
  const base = { architecture: 'wdcd-lean', blockSize: 48, epochs: 1, threads: 1 } satisfies Partial<TrainModelOptions>;
  /** Runs trainModel, collecting its events; `epochs` tells whether training began. */
  async function run(options: Omit<TrainModelOptions, 'onProgress'>): Promise<{ events: ProgressEvent[]; warnings: string[]; epochs: number; error?: unknown }> {
    const events: ProgressEvent[] = [];
    let error: unknown;
    try {
      await trainModel({ ...base, ...options, onProgress: (e) => events.push(e) });
    } catch (e) {
      error = e;
    }
    return { events, warnings: events.flatMap((e) => (e.kind === 'warning' ? [e.message] : [])), epochs: events.filter((e) => e.kind === 'epoch').length, error };
  }
  const refusedBeforeTraining = (r: Awaited<ReturnType<typeof run>>, pattern: RegExp, output: string) => {
    assert.ok(r.error instanceof InputError, `expected an InputError, got ${r.error}`);
    assert.match((r.error as Error).message, pattern);
    assert.equal(r.epochs, 0, 'refused before the first epoch');
    assert.ok(!existsSync(output), 'no model folder');
  };

  before(async () => {
    blocks = await writeRealBlocks(reflectance);
  });

  it('uint16 DN blocks read as reflectance (no --scale): refused; with --scale 1e-4 they train', { timeout: 60_000 }, async () => {
    const dn = join(dir, 'dn');
    await writeRealBlocks(dn, { dn: true });
    const output = join(dir, 'dn-model');
    const r = await run({ output, train: [`blocks:${dn}`] });
    refusedBeforeTraining(r, /blocks:.*dn: 6 of 6 blocks have more than 5 % of their values outside -0\.5 to 2 as read through the landsat8-biome preset \(.*\.tif: 100 %, .*they look like digital numbers/, output);
    const scaled = await run({ output, train: [`blocks:${dn}`], bandOptions: { scale: 1e-4 } });
    assert.equal(scaled.error, undefined);
    assert.equal(scaled.epochs, 1);
  });

  it('reflectance in the WDCD layout, read through its default gf1-wfv preset (DN / 1023): refused as scaled twice', { timeout: 60_000 }, async () => {
    const wdcd = join(dir, 'wdcd');
    mkdirSync(wdcd);
    for (const [i, b] of blocks.entries()) {
      const source = await openRaster([b.path]);
      await writeTiff(join(wdcd, `GF1_${i}.tif`), 48, 48, await source.readWindow({ x: 0, y: 0, width: 48, height: 48 }, [0, 1, 2, 3]));
      await source.close();
      writeFileSync(join(wdcd, `GF1_${i}_bl.npy`), npyBytes('<i8', [], new Uint8Array(new BigInt64Array([BigInt(b.label)]).buffer)));
    }
    const output = join(dir, 'wdcd-model');
    const r = await run({ output, train: [`wdcd:${wdcd}`] });
    refusedBeforeTraining(r, /wdcd:.*: the brightest value of its 6 blocks is 0\.000\d+ as read through the gf1-wfv preset: they look scaled twice/, output);
  });

  it('a block mostly NaN is left out and said, as scene blocks are', { timeout: 60_000 }, async () => {
    const folder = join(dir, 'holes');
    await writeRealBlocks(folder);
    const planes = Array.from({ length: 4 }, () => new Float32Array(48 * 48).fill(NaN).fill(0.2, 0, 48 * 10));
    await writeTiff(join(folder, 'clear', 'mostly-nan.tif'), 48, 48, planes);
    const output = join(dir, 'holes-model');
    const r = await run({ output, train: [`blocks:${folder}`] });
    assert.equal(r.error, undefined, String(r.error));
    assert.ok(r.warnings.some((w) => /1 training block\(s\) left out, more than half their pixels no data .*mostly-nan\.tif/.test(w)), r.warnings.join('\n'));
    assert.ok(r.events.some((e) => e.kind === 'log' && /training blocks: \{"clear":3,"cloudy":3\}/.test(e.message)));
  });

  it('3-band blocks beside 4-band scenes without --sensor: refused (one preset would misread one of them)', { timeout: 60_000 }, async () => {
    const rgb = join(dir, 'rgb');
    for (const b of blocks) {
      const source = await openRaster([b.path]);
      const planes = await source.readWindow({ x: 0, y: 0, width: 48, height: 48 }, [2, 1, 0]);
      await source.close();
      mkdirSync(join(rgb, b.label ? 'cloudy' : 'clear'), { recursive: true });
      await writeTiff(join(rgb, b.label ? 'cloudy' : 'clear', `${readdirSync(join(rgb, b.label ? 'cloudy' : 'clear')).length}.tif`), 48, 48, planes.map((p) => Uint8Array.from(p, (v) => Math.min(255, v * 600))));
    }
    const output = join(dir, 'mixed-model');
    const r = await run({ output, train: [`blocks:${rgb}`, sceneList('mixed.csv')] });
    refusedBeforeTraining(r, /--sensor: blocks:.*rgb holds 3 bands \(read as display RGB\) but scenes:.*mixed\.csv holds 8 \(read as reflectance\)/, output);
  });

  it('tuning scenes of other bands or units: refused before training, not after it', { timeout: 60_000 }, async () => {
    const output = join(dir, 'tune-model');
    const three = await run({ output, train: [`blocks:${reflectance}`], tune: ['gf1:train'] });
    refusedBeforeTraining(three, /a --tune scene of gf1:train gives 3 bands, the training blocks 4/, output);
    const dnScene = join(dir, 'dn-scene.tif');
    const source = await openRaster([join(BIOME, 'images', `${scene}.tif`)]);
    const planes = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height }, [0, 1, 2, 3]);
    await writeTiff(dnScene, source.width, source.height, planes.map((p) => Uint16Array.from(p, (v) => Math.round(v * 10_000))));
    await source.close();
    const dn = await run({ output, train: [`blocks:${reflectance}`], tune: [sceneList('dn-scene.csv', dnScene)] });
    refusedBeforeTraining(dn, /dn-scene\.tif: a --tune scene of scenes:.* does not hold 0-1 values as read through the landsat8-biome preset \(100 % of sampled values outside/, output);
  });

  it('a scene list to tune on beside catalogue training sources: read through the preset of their bands (rgb: /255)', { timeout: 60_000 }, async () => {
    const slice = '/work/shared/data/gf1/train/thick_slice/GF1_PMS1_E104.0_N41.1_20160314_L1A0001467562-MSS1';
    const list = join(dir, 'gf1-scene.csv');
    writeFileSync(list, `${slice}.jpg,${slice}.png,gf1-png\n`);
    const r = await run({ output: join(dir, 'gf1-model'), train: ['gf1:train'], trainStride: 232, tune: [`scenes:${list}`], tuneMetric: 'kappa' });
    assert.equal(r.error, undefined, String(r.error));
    assert.ok(r.events.some((e) => e.kind === 'stage' && e.stage === 'tune k'));
    assert.ok(r.events.some((e) => e.kind === 'log' && /read through the rgb preset/.test(e.message)));
  });

  it('validation from the training files, of one class, tuning on training scenes, no tuning scenes: trained, and said', { timeout: 120_000 }, async () => {
    const csv = join(dir, 'clear.csv');
    writeFileSync(csv, blocks.filter((b) => b.label === 0).map((b) => `${b.path},0`).join('\n') + '\n');
    const leak = await run({ output: join(dir, 'leak-model'), train: [`blocks:${reflectance}`], val: [`blocks:${csv}`] });
    assert.equal(leak.error, undefined, String(leak.error));
    assert.ok(leak.warnings.some((w) => /3 of 3 validation blocks come from files the training blocks come from too/.test(w)), leak.warnings.join('\n'));
    assert.ok(leak.warnings.some((w) => /the validation blocks are all clear \(3\)/.test(w)));
    assert.ok(leak.warnings.some((w) => /no scenes with pixel masks to tune k on/.test(w)));
    const list = sceneList('tune.csv');
    const tuned = await run({ output: join(dir, 'tuned-model'), train: [`blocks:${reflectance}`, list], tune: [list], trainStride: 48 });
    assert.equal(tuned.error, undefined, String(tuned.error));
    assert.ok(tuned.warnings.some((w) => /1 of 1 --tune scenes are training scenes too .*Barren_01_0213\.tif.*: k is chosen on scenes the network was trained on/.test(w)), tuned.warnings.join('\n'));
    assert.ok(!tuned.warnings.some((w) => /no scenes with pixel masks/.test(w)));
  });

  it('numeric options out of range and an unknown architecture: InputErrors naming the option, before anything is read', async () => {
    const output = join(dir, 'numbers');
    const cases: [Partial<TrainModelOptions>, string, RegExp][] = [
      // A batch of 0 spun for ever; 0 epochs saved the starting weights as a model.
      [{ batchSize: 0 }, '--batch-size', /expected a whole number, got 0/],
      [{ batchSize: 2.5 }, '--batch-size', /expected a whole number, got 2.5/],
      [{ epochs: 0 }, '--epochs', /expected a whole number, got 0/],
      [{ learningRate: -1 }, '--lr', /expected a positive number/],
      [{ minCloudFraction: 1 }, '--min-cloud', /expected a fraction from 0 to 1/],
      [{ architecture: 'nope' }, '--arch', /unknown architecture "nope" \(wdcd-light, /],
    ];
    for (const [options, option, pattern] of cases) {
      const r = await run({ output, train: [`blocks:${reflectance}`], ...options });
      refusedBeforeTraining(r, pattern, output);
      assert.equal((r.error as InputError).path, option);
      assert.ok(!r.events.some((e) => e.kind === 'stage'), `${option}: refused before reading`);
    }
  });

  it('an output folder that is the training data, or under a file; a checkpoint folder under a file: refused up front', { timeout: 60_000 }, async () => {
    const same = await run({ output: join(reflectance, '.'), train: [`blocks:${reflectance}`] });
    assert.match(String(same.error), /is a folder of the training data \(blocks:.*reflectance\); write the model to a folder of its own/);
    assert.ok(!existsSync(join(reflectance, 'model.json')));
    // One of its class folders, or the folder of a CSV's blocks: refused once the blocks are listed, before training.
    const cloudy = join(reflectance, 'cloudy');
    const list = join(dir, 'blocks.csv');
    writeFileSync(list, blocks.map((b) => `${b.path},${b.label}`).join('\n') + '\n');
    for (const train of [`blocks:${reflectance}`, `blocks:${list}`]) {
      const inside = await run({ output: cloudy, train: [train] });
      refusedBeforeTraining(inside, new RegExp(`holds the training data \\(${cloudy}/.*\\.tif\\); write the model to a folder of its own`), join(cloudy, 'model.json'));
    }
    const file = blocks[0]!.path;
    const under = await run({ output: join(file, 'model'), train: [`blocks:${reflectance}`] });
    refusedBeforeTraining(under, /model: cannot be made: .*\.tif is a file, not a folder/, join(file, 'model'));
    const output = join(dir, 'never');
    const checkpoint = await run({ output, train: [`blocks:${reflectance}`], checkpointDir: join(file, 'ckpt') });
    refusedBeforeTraining(checkpoint, /ckpt: --checkpoint cannot be made: .*\.tif is a file, not a folder/, output);
  });
});
