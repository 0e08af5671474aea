// Training end to end on real L8 Biome blocks (48 px, block labels only): the loss falls, a seed repeats exactly,
// a checkpointed and resumed run equals an uninterrupted one; the dihedral augmentation is a permutation, the colour
// jitter a monotone change of each band.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadBlocks, type LabelledBlock } from '../../src/datasets/blocks.js';
import { blocksOf } from '../../src/datasets/source-spec.js';
import { WDCD_LIGHT } from '../../src/model/architecture.js';
import type { Weights } from '../../src/model/parameters.js';
import { colourJitter, dihedral } from '../../src/train/augment.js';
import { Random } from '../../src/random.js';
import { train, type TrainOptions } from '../../src/train/trainer.js';

const arch = { ...WDCD_LIGHT, blockSize: 48 };

function sameWeights(a: Weights, b: Weights): boolean {
  if (a.size !== b.size) return false;
  for (const [name, w] of a) {
    const v = b.get(name);
    if (!v || v.length !== w.length) return false;
    for (let i = 0; i < w.length; i++) if (!Object.is(w[i], v[i])) return false;
  }
  return true;
}

describe('training on real blocks', () => {
  let blocks: LabelledBlock[];
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-train-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const options = (extra: Partial<TrainOptions>): TrainOptions => ({
    architecture: arch,
    train: blocks,
    val: [],
    bands: ['blue', 'green', 'red', 'nir'],
    units: 'reflectance (0-1)',
    sensor: 'landsat8-biome',
    batchSize: 16,
    seed: 1,
    threads: 1,
    ...extra,
  });

  before(async () => {
    // L8 Biome train scenes cut into 48 px blocks, stride 48; 32 cloudy and 32 clear, spread over the scenes.
    const source = await blocksOf('l8biome:train', 48, 48);
    const pick = (label: 0 | 1) => {
      const all = source.blocks.filter((b) => b.label === label);
      return Array.from({ length: 32 }, (_, i) => all[Math.floor((i * all.length) / 32)]);
    };
    blocks = await loadBlocks([...pick(1), ...pick(0)]);
    assert.equal(blocks.length, 64);
    assert.ok(blocks.every((b) => b.size === 48 && b.bandCount === 4));
  });

  it('the training loss falls over 4 epochs', { timeout: 60_000 }, async () => {
    const { history, model } = await train(options({ epochs: 4 }));
    assert.equal(history.length, 4);
    const losses = history.map((h) => h.trainLoss);
    assert.ok(losses.every(Number.isFinite));
    assert.ok(losses[0] > losses[3], `losses ${losses.map((l) => l.toFixed(4)).join(', ')}`);
    assert.equal(model.description.training?.epochs, 4);
    assert.equal(model.description.architecture.blockSize, 48);
  });

  it('the same seed gives identical weights; another seed does not', { timeout: 60_000 }, async () => {
    const a = await train(options({ epochs: 1 }));
    const b = await train(options({ epochs: 1 }));
    const c = await train(options({ epochs: 1, seed: 2 }));
    assert.ok(sameWeights(a.model.weights, b.model.weights), 'same seed, same weights');
    assert.equal(a.history[0].trainLoss, b.history[0].trainLoss);
    assert.ok(!sameWeights(a.model.weights, c.model.weights), 'another seed, other weights');
    // The colour jitter reaches the blocks trained on, and repeats with the seed too.
    const jittered = await train(options({ epochs: 1, colourJitter: 1 }));
    const again = await train(options({ epochs: 1, colourJitter: 1 }));
    assert.ok(!sameWeights(a.model.weights, jittered.model.weights), 'jitter changes the weights');
    assert.ok(sameWeights(jittered.model.weights, again.model.weights), 'jitter repeats with the seed');
  });

  it('checkpoint + resume equals an uninterrupted run', { timeout: 60_000 }, async () => {
    const whole = await train(options({ epochs: 2, checkpointDir: join(dir, 'whole') }));
    const first = await train(options({ epochs: 1, checkpointDir: join(dir, 'parts') }));
    assert.ok(!sameWeights(first.model.weights, whole.model.weights), 'one epoch is not two');
    const logs: string[] = [];
    const resumed = await train(
      options({ epochs: 2, checkpointDir: join(dir, 'parts'), resume: true, onProgress: (e) => void (e.kind === 'log' && logs.push(e.message)) }),
    );
    assert.ok(logs.some((m) => /resumed .* after epoch 1/.test(m)), `logs: ${logs.join(' | ')}`);
    assert.equal(resumed.history.length, 2);
    assert.deepEqual(resumed.history.map((h) => h.trainLoss), whole.history.map((h) => h.trainLoss));
    assert.ok(sameWeights(resumed.model.weights, whole.model.weights), 'resumed weights equal the uninterrupted run');
  });
});

describe('dihedral augmentation', () => {
  const size = 5;
  const bands = 2;
  const n = size * size;
  // Every value distinct: no transform can leave the block unchanged by symmetry.
  const src = Float32Array.from({ length: bands * n }, (_, i) => i + 1);
  const apply = (block: Float32Array, t: number) => {
    const out = new Float32Array(bands * n);
    dihedral(block, bands, size, t, out);
    return out;
  };
  const key = (a: Float32Array) => Array.from(a).join(',');
  const outs = Array.from({ length: 8 }, (_, t) => apply(src, t));

  it('eight distinct transforms, the first the identity', () => {
    assert.deepEqual(outs[0], src);
    assert.equal(new Set(outs.map(key)).size, 8);
  });

  it('each is the same geometric permutation of every band', () => {
    for (const [t, out] of outs.entries()) {
      // Band b holds values b * n + 1 .. (b + 1) * n: a permutation within each band ...
      for (let b = 0; b < bands; b++) {
        const band = Array.from(out.subarray(b * n, (b + 1) * n)).sort((x, y) => x - y);
        assert.deepEqual(band, Array.from({ length: n }, (_, i) => b * n + i + 1), `transform ${t}, band ${b}`);
      }
      // ... the same for both bands ...
      for (let i = 0; i < n; i++) assert.equal(out[n + i] - out[i], n, `transform ${t} pixel ${i}`);
      // ... and an isometry of the grid: 4-neighbours stay 4-neighbours.
      const where = (v: number) => [(v - 1) % size, Math.floor((v - 1) / size)];
      for (let y = 0; y < size; y++) {
        for (let x = 0; x + 1 < size; x++) {
          const [ax, ay] = where(out[y * size + x]);
          const [bx, by] = where(out[y * size + x + 1]);
          assert.equal(Math.abs(ax - bx) + Math.abs(ay - by), 1, `transform ${t}: (${x}, ${y}) and its right neighbour`);
        }
      }
    }
  });

  it('each is invertible within the group, and the eight are closed under composition', () => {
    const index = new Map(outs.map((o, t) => [key(o), t]));
    for (let t = 0; t < 8; t++) {
      const inverse = [...Array(8).keys()].filter((u) => key(apply(outs[t], u)) === key(src));
      assert.equal(inverse.length, 1, `transform ${t} has one inverse`);
      for (let u = 0; u < 8; u++) assert.ok(index.has(key(apply(outs[t], u))), `${u} after ${t} is one of the eight`);
    }
  });

  it('writes at the given offset and nowhere else', () => {
    const out = new Float32Array(3 * bands * n).fill(-1);
    dihedral(src, bands, size, 5, out, bands * n);
    assert.ok(out.subarray(0, bands * n).every((v) => v === -1));
    assert.deepEqual(out.subarray(bands * n, 2 * bands * n), outs[5]);
    assert.ok(out.subarray(2 * bands * n).every((v) => v === -1));
  });
});

describe('colour jitter', () => {
  const size = 16;
  const bands = 3;
  const n = size * size;
  // Display-like values in 0-1, distinct within each band, with one pixel of no data.
  const src = Float32Array.from({ length: bands * n }, (_, i) => ((i * 37) % (bands * n)) / (bands * n) * 0.9 + 0.05);
  src[7] = NaN;
  const jittered = (strength: number, seed: number) => {
    const out = Float32Array.from(src);
    colourJitter(out, bands, size, strength, new Random(seed));
    return out;
  };

  it('strength 0 leaves the block as it is', () => {
    assert.deepEqual(jittered(0, 1), src);
  });

  it('changes values, repeatably for a seed, differently for another', () => {
    const a = jittered(1, 3);
    assert.ok(a.some((v, i) => Number.isFinite(v) && Math.abs(v - src[i]) > 0.01), 'values change');
    assert.deepEqual(jittered(1, 3), a);
    assert.notDeepEqual(jittered(1, 4), a);
  });

  it('keeps each band in order (bright stays brighter), stays in 0-1 and leaves no data alone', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const out = jittered(1, seed);
      assert.ok(Number.isNaN(out[7]));
      for (let b = 0; b < bands; b++) {
        const pixels = [...Array(n).keys()].filter((i) => Number.isFinite(src[b * n + i]));
        for (const i of pixels) {
          const v = out[b * n + i];
          assert.ok(v >= 0 && v <= 1, `seed ${seed}: ${v} out of 0-1`);
          for (const j of pixels) if (src[b * n + i] < src[b * n + j]) assert.ok(v <= out[b * n + j], `seed ${seed}, band ${b}: order kept`);
        }
      }
    }
  });

  it('writes at the given offset and nowhere else', () => {
    const out = new Float32Array(3 * bands * n).fill(2);
    out.set(src, bands * n);
    colourJitter(out, bands, size, 1, new Random(3), bands * n);
    assert.ok(out.subarray(0, bands * n).every((v) => v === 2));
    assert.deepEqual(out.subarray(bands * n, 2 * bands * n), jittered(1, 3));
    assert.ok(out.subarray(2 * bands * n).every((v) => v === 2));
  });
});
