// The streaming activation-map mosaic (cam-mosaic.ts) on real imagery: processing the scene in chunks of one or
// three lattice rows gives the same map and mask as one chunk over the whole scene; the fast path (in chunks
// of four lattice rows, or of the default height, cut into column tiles) equals the per-block reference (per-block-cam.ts) for prune all /
// last, gate on / off, footprint edges (nodata) included; a scene smaller than one block works. A small randomly initialised network (hand-made
// description, `initialWeights`) exercises every step without training.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockGrid } from '../../src/detect/block-grid.js';
import { emptyScores, scoreBlockRowDirect, scoreBlocks } from '../../src/detect/block-scores.js';
import { mosaicCam } from '../../src/detect/cam-mosaic.js';
import { sceneCam, thresholdRows } from '../../src/detect/detect.js';
import { perBlockCam } from '../../src/detect/per-block-cam.js';
import { poolIndices } from '../../src/model/architecture.js';
import { tinyArchitecture } from '../model/tiny-model.js';
import type { Model, ModelDescription } from '../../src/model/model-file.js';
import { Network } from '../../src/model/network.js';
import { initialWeights } from '../../src/model/parameters.js';
import { preparedRaster, type PreparedSource } from '../../src/prepare/prepared-source.js';
import { openRaster } from '../../src/raster/open.js';
import { resolveBands } from '../../src/raster/sensors.js';

const DATA = '/work/shared/data';
const BIOME = `${DATA}/l8biome/val/images/Forest_00_1008.tif`;
const BIOME_2 = `${DATA}/l8biome/val/images/Barren_05_0208.tif`;
// Whole Landsat 8 scene at 120 m, 0 (nodata for the preset) outside the footprint: B2..B5 = blue, green, red, NIR.
const L8 = ['B2', 'B3', 'B4', 'B5'].map((b) => `${DATA}/landsat8-scene-120m/LC80130312015295LGN00_${b}_toa.tif`);

const ARCH = tinyArchitecture(40);
const POOLS = poolIndices(ARCH.layers);

function model(): Model {
  const description: ModelDescription = {
    format: 'wdcd-model',
    version: 1,
    name: ARCH.name,
    architecture: ARCH,
    bands: ['blue', 'green', 'red', 'nir'],
    units: 'reflectance (0-1)',
    sensor: 'landsat8-biome',
    normalization: { mean: [0.15, 0.13, 0.12, 0.2], std: [0.1, 0.1, 0.1, 0.12] },
    prunedPools: POOLS.slice(-1),
    detection: { stride: ARCH.blockSize / 2, gate: true, k: 2, clearSky: { statistic: 'pixel', mean: 0, std: 1, blocks: 1, pixels: 1 } },
  };
  const weights = initialWeights(ARCH, 4, 3);
  // A bias that leaves some blocks on each side of the gate.
  weights.get('fc.bias')![0] = 0.05;
  return { description, weights };
}
const MODEL = model();

/** Largest |a - b| where both are numbers; NaN must match NaN. */
function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    assert.equal(Number.isNaN(a[i]), Number.isNaN(b[i]), `pixel ${i}: ${a[i]} vs ${b[i]}`);
    if (!Number.isNaN(a[i])) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst;
}

/** The model with its bias set so that about half the blocks of these scenes are gated clear. */
async function halfClear(scenes: PreparedSource[]): Promise<Model> {
  const weights = new Map([...MODEL.weights].map(([k, v]) => [k, Float32Array.from(v)]));
  weights.get('fc.bias')![0] = 0;
  const model = { description: MODEL.description, weights };
  const network = new Network(model, new Set());
  const logits: number[] = [];
  try {
    for (const scene of scenes) logits.push(...(await scoreBlocks(network, scene, blockGrid(scene.width, scene.height, ARCH.blockSize, ARCH.blockSize / 2))).logit);
  } finally {
    await network.release();
  }
  logits.sort((a, b) => a - b);
  // Midway between two blocks' logits, so no block sits on the gate's edge where float rounding could tip it.
  const m = logits.length >> 1;
  weights.get('fc.bias')![0] = -(logits[m - 1] + logits[m]) / 2;
  return model;
}

/** A window of a prepared scene seen as a scene of its own (its halo comes from real neighbours). */
function crop(source: PreparedSource, x0: number, y0: number, width: number, height: number): PreparedSource {
  return { width, height, bandCount: source.bandCount, read: (w) => source.read({ ...w, x: w.x + x0, y: w.y + y0 }) };
}

async function prepared(paths: string[], sensor: string) {
  const raster = await openRaster(paths);
  const mapping = resolveBands(sensor, raster.bandCount);
  return { raster, scene: preparedRaster(raster, mapping, MODEL.description.normalization) };
}

/** Fast path and per-block reference on one prepared scene, for each gate setting (one network for all). */
async function bothPaths(scene: PreparedSource, pruned: number[], gates: boolean[], chunkRows?: number, model = MODEL, tileWidth?: number, skipGated?: boolean) {
  const network = new Network(model, new Set(pruned));
  try {
    const grid = blockGrid(scene.width, scene.height, ARCH.blockSize, ARCH.blockSize / 2);
    // The reference scores: every block through the trained network on its own.
    const scores = emptyScores(grid, network.channels);
    for (let r = 0; r < grid.ys.length; r++) await scoreBlockRowDirect(network, scene, grid, r, scores);
    const results = [];
    for (const gate of gates) {
      const cam = new Float32Array(scene.width * scene.height);
      const valid = new Uint8Array(scene.width * scene.height);
      let y = 0;
      // The fast path scores the blocks itself, during its one pass over the scene.
      const points = { features: 0, total: 0 };
      const stream = mosaicCam(network, scene, grid, { gate, chunkRows, tileWidth, skipGated, points });
      let step;
      while (!(step = await stream.next()).done) {
        const rows = step.value;
        assert.equal(rows.y, y, 'rows arrive in order, without gaps');
        cam.set(rows.cam, rows.y * scene.width);
        valid.set(rows.valid, rows.y * scene.width);
        y += rows.height;
      }
      assert.equal(y, scene.height);
      const d = maxDifference(step.value.logit, scores.logit);
      assert.ok(d < 1e-4, `block logits scored in the pass differ from scoring each block alone by ${d}`);
      const reference = await perBlockCam(network, scene, grid, scores, { gate });
      results.push({ gate, cam, valid, reference, scores, points, chunkRows });
    }
    return results;
  } finally {
    await network.release();
  }
}

describe('streaming mosaic', () => {
  it('chunks of 1 and 3 lattice rows give the map and mask of one chunk over the whole scene (L8 Biome)', async () => {
    const whole = await sceneCam([BIOME], { model: MODEL, chunkRows: 100000 });
    const threshold = 0;
    const wholeMask = thresholdRows(whole.cam, whole.valid, threshold);
    for (const chunkRows of [1, 3]) {
      const streamed = await sceneCam([BIOME], { model: MODEL, chunkRows });
      assert.deepEqual(streamed.valid, whole.valid);
      const d = maxDifference(streamed.cam, whole.cam);
      assert.ok(d < 1e-4, `chunkRows ${chunkRows}: max difference ${d}`);
      const mask = thresholdRows(streamed.cam, streamed.valid, threshold);
      for (let i = 0; i < mask.length; i++) {
        if (mask[i] !== wholeMask[i]) assert.ok(Math.abs(whole.cam[i] - threshold) < 1e-4, `chunkRows ${chunkRows}: mask differs at ${i}`);
      }
      const cloud = mask.filter((v) => v === 1).length;
      assert.ok(cloud > 0 && cloud < mask.length, 'the map is not trivially on one side of the threshold');
    }
  });

  it('equals the per-block reference within 1e-4: prune all / last, gate on / off, column tiles, two real images', async () => {
    const biome = await prepared([BIOME_2], 'landsat8-biome');
    // The north-west corner of the Landsat scene: the footprint edge runs through it (NaN outside).
    const l8 = await prepared(L8, 'landsat8-biome');
    try {
      const images = { biome: crop(biome.scene, 60, 50, 120, 100), landsat: crop(l8.scene, 388, 300, 120, 110), landsatTall: crop(l8.scene, 200, 150, 96, 200) };
      for (const [name, scene] of Object.entries(images)) {
        const model = await halfClear([scene]);
        for (const [prune, pools] of [['all', POOLS], ['last', POOLS.slice(-1)]] as const) {
          // Chunks of 4 lattice rows, and of the default height, where open tiles also skip the rows no open block spans.
          for (const { gate, cam, reference, valid, scores, points, chunkRows } of [
            ...(await bothPaths(scene, [...pools], [true, false], 4, model, 9)),
            ...(await bothPaths(scene, [...pools], [true], undefined, model, 9)),
          ]) {
            const d = maxDifference(cam, reference.cam);
            assert.ok(d < 1e-4, `${name}, prune ${prune}, gate ${gate}: max difference ${d}`);
            assert.deepEqual(valid, reference.valid);
            if (gate) {
              const clear = scores.logit.filter((z) => z < 0).length;
              assert.ok(clear > 0 && clear < scores.logit.length, `${name}: the gate sees both kinds of block (${clear} of ${scores.logit.length} clear)`);
              // The reference computes every block in full: the fast path skipped what only gated blocks hold.
              if (chunkRows === 4) assert.ok(points.features < points.total, `${name}, prune ${prune}: features computed at ${points.features} of ${points.total} points`);
            } else assert.equal(points.features, points.total);
          }
        }
      }
      // The footprint edge: nodata inputs (0 or NaN in any band) are invalid (mask 255), the rest valid.
      const [{ valid }] = await bothPaths(images.landsat, POOLS, [true]);
      const invalid = valid.filter((v) => v === 0).length;
      assert.ok(invalid > 0 && invalid < valid.length, `the corner holds both nodata and data (${invalid} nodata)`);
      const window = await l8.raster.readWindow({ x: 388, y: 300, width: 120, height: 110 });
      for (let i = 0; i < valid.length; i++) assert.equal(valid[i], window.some((band) => band[i] === 0 || Number.isNaN(band[i])) ? 0 : 1, `pixel ${i}`);
      const mask = thresholdRows(new Float32Array(valid.length), valid, 0);
      for (let i = 0; i < valid.length; i++) if (!valid[i]) assert.equal(mask[i], 255);
    } finally {
      await biome.raster.close();
      await l8.raster.close();
    }
  });

  it('a scene smaller than one block: one block reaching past the edges, same as the reference', async () => {
    const { raster, scene } = await prepared([BIOME], 'landsat8-biome');
    try {
      for (const [w, h] of [[30, 17], [1, 1], [40, 9]]) {
        const small = crop(scene, 100, 120, w, h);
        for (const pools of [POOLS, POOLS.slice(-1)]) {
          const [{ cam, reference, valid }] = await bothPaths(small, pools, [true], 1);
          assert.ok(cam.every(Number.isFinite), `${w} x ${h}: every pixel gets a value`);
          assert.ok(valid.every((v) => v === 1));
          const d = maxDifference(cam, reference.cam);
          assert.ok(d < 1e-4, `${w} x ${h}: max difference ${d}`);
        }
      }
    } finally {
      await raster.close();
    }
  });
});
