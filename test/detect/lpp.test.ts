// LPP's carry-over (METHOD.md section 3): a block's activation map averages to the block's logit over the
// block's lattice points; gated (clear) blocks are flat at their logit. Real L8 Biome and Landsat 8 pixels,
// a small randomly initialised network with every pool pruned (the lattice is then the pixel grid).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { blockGrid, type BlockGrid } from '../../src/detect/block-grid.js';
import { scoreBlocks } from '../../src/detect/block-scores.js';
import { mosaicCam } from '../../src/detect/cam-mosaic.js';
import { channelWeights, emptyWeights } from '../../src/detect/channel-weights.js';
import { perBlockCam } from '../../src/detect/per-block-cam.js';
import { poolIndices } from '../../src/model/architecture.js';
import type { Model } from '../../src/model/model-file.js';
import { Network } from '../../src/model/network.js';
import { preparedArray, preparedRaster, type PreparedSource } from '../../src/prepare/prepared-source.js';
import { openRaster } from '../../src/raster/open.js';
import type { RasterSource } from '../../src/raster/types.js';
import { tinyArchitecture, tinyModel } from '../model/tiny-model.js';

const BIOME = '/work/shared/data/l8biome/train/images/Shrubland_00_0614.tif';
const L8 = '/work/shared/data/landsat8-scene-120m/LC80130312015295LGN00_';
const B = 64;
const NORM = { mean: [0.15, 0.13, 0.12, 0.2], std: [0.1, 0.1, 0.1, 0.12] };
const arch = tinyArchitecture(B);
const ALL = poolIndices(arch.layers);

function modelWithBias(bias: number): Model {
  const model = tinyModel(arch, { seed: 4, prunedPools: ALL, normalization: NORM });
  model.weights.get('fc.bias')![0] = bias;
  return model;
}

/** A B x B (or any) window of a prepared scene seen as a scene of its own; its halo comes from real neighbours. */
function crop(source: PreparedSource, x0: number, y0: number, width: number, height: number): PreparedSource {
  return { width, height, bandCount: source.bandCount, read: (w) => source.read({ ...w, x: w.x + x0, y: w.y + y0 }) };
}

/** Mean of the map over the valid pixels of a window of the scene, its min and max. */
function windowStats(cam: Float32Array, valid: Uint8Array, width: number, x0: number, y0: number, size: number) {
  let sum = 0;
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let y = y0; y < y0 + size; y++) {
    for (let x = x0; x < x0 + size; x++) {
      const i = y * width + x;
      if (!valid[i]) continue;
      sum += cam[i];
      n++;
      min = Math.min(min, cam[i]);
      max = Math.max(max, cam[i]);
    }
  }
  return { mean: sum / n, n, min, max };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-3 * Math.max(Math.abs(b), 0.1);

async function mosaic(network: Network, source: PreparedSource, grid: BlockGrid, gate: boolean) {
  const scores = await scoreBlocks(network, source, grid);
  const cam = new Float32Array(source.width * source.height);
  const valid = new Uint8Array(source.width * source.height);
  for await (const rows of mosaicCam(network, source, grid, { gate, scores })) {
    cam.set(rows.cam, rows.y * source.width);
    valid.set(rows.valid, rows.y * source.width);
  }
  return { scores, cam, valid };
}

describe('LPP: the activation map of a block averages to its logit (every pool pruned, gate off)', () => {
  let biome: RasterSource;
  let landsat: RasterSource;
  before(async () => {
    biome = await openRaster([BIOME]);
    landsat = await openRaster([2, 3, 4, 5].map((b) => `${L8}B${b}_toa.tif`));
  });
  after(async () => {
    await biome.close();
    await landsat.close();
  });

  it('single L8 Biome blocks (preparedArray, grid of one block): per-block reference', async () => {
    const network = new Network(modelWithBias(0), new Set(ALL), { threads: 1 });
    try {
      assert.deepEqual(network.geometry, { stride: 1, offset: 5 }, 'every pool pruned: the lattice is the pixel grid');
      const logits: number[] = [];
      for (const [x, y] of [[0, 0], [64, 128], [192, 192], [128, 0], [0, 192], [96, 32]]) {
        const values = new Float32Array(4 * B * B);
        (await biome.readWindow({ x, y, width: B, height: B }, [0, 1, 2, 3])).forEach((plane, b) => values.set(plane, b * B * B));
        const source = preparedArray(values, 4, B, B, NORM);
        const grid = blockGrid(B, B, B, B);
        assert.equal(grid.xs.length * grid.ys.length, 1);
        const scores = await scoreBlocks(network, source, grid);
        const { cam, valid } = await perBlockCam(network, source, grid, scores, { gate: false });
        const s = windowStats(cam, valid, B, 0, 0, B);
        assert.equal(s.n, B * B);
        const z = scores.logit[0];
        logits.push(z);
        assert.ok(close(s.mean, z), `block (${x}, ${y}): CAM mean ${s.mean} vs logit ${z}`);
        assert.ok(s.max - s.min > 1e-3 * Math.max(1, Math.abs(z)), `block (${x}, ${y}) keeps spatial detail`);
      }
      assert.ok(Math.max(...logits) - Math.min(...logits) > 1e-3, 'the blocks have different logits');
    } finally {
      await network.release();
    }
  });

  it('single blocks cut from the prepared scene (preparedRaster, real neighbours in the halo)', async () => {
    const network = new Network(modelWithBias(0), new Set(ALL), { threads: 1 });
    try {
      const scene = preparedRaster(biome, { bands: [0, 1, 2, 3], scale: [1, 1, 1, 1], offset: [0, 0, 0, 0], nodata: [0] }, NORM);
      for (const [x, y] of [[32, 64], [160, 96]]) {
        const source = crop(scene, x, y, B, B);
        const grid = blockGrid(B, B, B, B);
        const scores = await scoreBlocks(network, source, grid);
        const { cam, valid } = await perBlockCam(network, source, grid, scores, { gate: false });
        const s = windowStats(cam, valid, B, 0, 0, B);
        assert.ok(close(s.mean, scores.logit[0]), `block (${x}, ${y}): CAM mean ${s.mean} vs logit ${scores.logit[0]}`);
      }
    } finally {
      await network.release();
    }
  });

  it('a whole scene of non-overlapping blocks (fast path), nodata outside the footprint excluded', async () => {
    const network = new Network(modelWithBias(0), new Set(ALL), { threads: 1 });
    try {
      // 448 x 448 of the Landsat scene: 7 x 7 blocks, stride = block size, so every pixel has one block.
      const scene = preparedRaster(landsat, { bands: [0, 1, 2, 3], scale: [1, 1, 1, 1], offset: [0, 0, 0, 0], nodata: [0] }, NORM);
      const source = crop(scene, 30, 0, 448, 448);
      const grid = blockGrid(448, 448, B, B);
      assert.equal(grid.xs.length * grid.ys.length, 49);
      const { scores, cam, valid } = await mosaic(network, source, grid, false);
      let partial = 0;
      let checked = 0;
      for (const [r, y] of grid.ys.entries()) {
        for (const [c, x] of grid.xs.entries()) {
          const s = windowStats(cam, valid, 448, x, y, B);
          if (s.n === 0) continue;
          if (s.n < B * B) partial++;
          checked++;
          const z = scores.logit[r * grid.xs.length + c];
          assert.ok(close(s.mean, z), `block (${x}, ${y}) with ${s.n} valid pixels: CAM mean ${s.mean} vs logit ${z}`);
        }
      }
      assert.ok(partial > 0, 'some blocks straddle the footprint edge');
      assert.ok(checked > 40);
    } finally {
      await network.release();
    }
  });

  it('gate on: blocks with logit < 0 are flat at their logit, the others keep the identity and their detail', async () => {
    const scene = preparedRaster(biome, { bands: [0, 1, 2, 3], scale: [1, 1, 1, 1], offset: [0, 0, 0, 0], nodata: [0] }, NORM);
    const grid = blockGrid(256, 256, B, B);
    // Centre the logits on 0 so that about half the blocks are gated.
    const probe = new Network(modelWithBias(0), new Set(ALL), { threads: 1 });
    const raw = [...(await scoreBlocks(probe, scene, grid)).logit].sort((a, b) => a - b);
    await probe.release();
    const network = new Network(modelWithBias(-(raw[7] + raw[8]) / 2), new Set(ALL), { threads: 1 });
    try {
      const { scores, cam, valid } = await mosaic(network, scene, grid, true);
      let gated = 0;
      let open = 0;
      for (const [r, y] of grid.ys.entries()) {
        for (const [c, x] of grid.xs.entries()) {
          const z = scores.logit[r * grid.xs.length + c];
          const s = windowStats(cam, valid, 256, x, y, B);
          assert.equal(s.n, B * B);
          if (z < 0) {
            gated++;
            assert.ok(Math.abs(s.min - z) < 1e-5 && Math.abs(s.max - z) < 1e-5, `gated block (${x}, ${y}): ${s.min}..${s.max}, logit ${z}`);
          } else {
            open++;
            assert.ok(close(s.mean, z), `block (${x}, ${y}): CAM mean ${s.mean} vs logit ${z}`);
            assert.ok(s.max - s.min > 1e-3, `open block (${x}, ${y}) is not flat`);
          }
        }
      }
      assert.ok(gated >= 4 && open >= 4, `${gated} gated, ${open} open`);
    } finally {
      await network.release();
    }
  });
});

describe('channel weights, by hand', () => {
  // Block 1 of 2, three channels. Pooled g = [2, -1, 4]; feature sums [8, 0, -2] over 4 valid points, so the
  // pruned means are [2, 0, -0.5]; the cloud unit has weights [0.5, 3, -1] and bias 0.25.
  // logit = 0.25 + 0.5 * 2 + 3 * (-1) + (-1) * 4 = -5.75.
  // a_k = w_k g_k / mean_k: a_0 = 0.5 * 2 / 2 = 0.5; channel 1 has mean 0: a_1 = 0 and its evidence
  // w_1 g_1 = -3 goes into beta = 0.25 - 3 = -2.75; a_2 = (-1 * 4) / -0.5 = 8.
  // Check: beta + sum_k a_k mean_k = -2.75 + 1 + 0 - 4 = -5.75 = logit.
  const classifier = { weight: new Float32Array([0.5, 3, -1]), bias: 0.25 };
  const pooled = new Float32Array([9, 9, 9, 2, -1, 4]);
  const fresh = () => {
    const w = emptyWeights(2, 3);
    w.a.fill(7);
    w.beta.fill(7);
    return w;
  };

  it('gate off: a = [0.5, 0, 8], beta = -2.75, and the other block is untouched', () => {
    const w = fresh();
    channelWeights(1, -5.75, pooled, Float64Array.from([8, 0, -2]), 4, classifier, false, w);
    assert.deepEqual([...w.a], [7, 7, 7, 0.5, 0, 8]);
    assert.deepEqual([...w.beta], [7, -2.75]);
    assert.deepEqual([...w.used], [0, 1]);
  });

  it('a mean below 1e-6 counts as zero', () => {
    const w = fresh();
    channelWeights(1, -5.75, pooled, Float64Array.from([8, 4e-7, -2]), 4, classifier, false, w);
    assert.deepEqual([...w.a.subarray(3)], [0.5, 0, 8]);
    assert.equal(w.beta[1], -2.75);
  });

  it('gate on and a negative logit: a flat map at the logit', () => {
    const w = fresh();
    channelWeights(1, -5.75, pooled, Float64Array.from([8, 0, -2]), 4, classifier, true, w);
    assert.deepEqual([...w.a.subarray(3)], [0, 0, 0]);
    assert.equal(w.beta[1], -5.75);
    assert.equal(w.used[1], 1);
  });

  it('gate on and a positive logit: the same weights as gate off', () => {
    const w = fresh();
    channelWeights(1, 1.5, pooled, Float64Array.from([8, 0, -2]), 4, classifier, true, w);
    assert.deepEqual([...w.a.subarray(3)], [0.5, 0, 8]);
    assert.equal(w.beta[1], -2.75);
  });

  it('a block without one valid pixel is not used', () => {
    const w = fresh();
    channelWeights(1, 3, pooled, new Float64Array(3), 0, classifier, false, w);
    assert.deepEqual([...w.used], [0, 0]);
  });
});
