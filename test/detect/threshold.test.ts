// The clear-sky threshold (METHOD.md section 5): pixel vs block statistics by hand, T = mean + k std, threshold
// scoring, and tuneK choosing the k whose threshold reproduces a truth made from the map itself.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { LabelledBlock } from '../../src/datasets/blocks.js';
import { ClearSkyMoments, clearSkyStatistics, thresholdOf } from '../../src/detect/clear-sky.js';
import { sceneCam } from '../../src/detect/detect.js';
import { K_GRID, scoreThresholds, tuneK } from '../../src/detect/tune-k.js';
import { Network } from '../../src/model/network.js';
import { openRaster } from '../../src/raster/open.js';
import { createGeoTiffWriter } from '../../src/raster/write-geotiff.js';
import { tinyArchitecture, tinyModel } from '../model/tiny-model.js';

const SCENE = '/work/shared/data/l8biome/val/images';

describe('clear-sky statistics, by hand', () => {
  // Block A: valid values 0 and 2 (a NaN and an invalid 100 are skipped): mean 1, std 1.
  // Block B: six 10s: mean 10, std 0. Block C: no valid pixel.
  // pixel: the 8 values 0 2 10 10 10 10 10 10: mean 62 / 8 = 7.75, variance 604 / 8 - 7.75^2 = 15.4375.
  // block: mean (1 + 10) / 2 = 5.5, std (1 + 0) / 2 = 0.5; block C has no pixel and does not count.
  const moments = new ClearSkyMoments();
  moments.add(Float32Array.from([0, 2, NaN, 100]), Uint8Array.from([1, 1, 1, 0]));
  moments.add(new Float32Array(6).fill(10), new Uint8Array(6).fill(1));
  moments.add(Float32Array.from([5, 5]), Uint8Array.from([0, 0]));

  it('pixel statistics pool every valid pixel', () => {
    const s = moments.statistics('pixel', 3);
    assert.equal(s.statistic, 'pixel');
    assert.ok(Math.abs(s.mean - 7.75) < 1e-12);
    assert.ok(Math.abs(s.std - Math.sqrt(15.4375)) < 1e-12, `std ${s.std}`);
    assert.equal(s.pixels, 8);
    assert.equal(s.blocks, 3);
  });

  it('block statistics average per-block means and stds over the blocks with data', () => {
    const s = moments.statistics('block', 3);
    assert.equal(s.statistic, 'block');
    assert.ok(Math.abs(s.mean - 5.5) < 1e-12, `mean ${s.mean}`);
    assert.ok(Math.abs(s.std - 0.5) < 1e-12, `std ${s.std}`);
    assert.equal(s.pixels, 8);
  });

  it('T = mean + k std', () => {
    assert.equal(thresholdOf({ statistic: 'pixel', mean: 0.5, std: 2, blocks: 1, pixels: 1 }, -1), -1.5);
    assert.equal(thresholdOf({ statistic: 'pixel', mean: 0.5, std: 2, blocks: 1, pixels: 1 }, 3), 6.5);
    assert.ok(Math.abs(thresholdOf(moments.statistics('pixel', 3), 2) - (7.75 + 2 * Math.sqrt(15.4375))) < 1e-12);
    assert.equal(thresholdOf(moments.statistics('block', 3), 2), 6.5);
  });

  it('running sums stay exact far from zero', () => {
    const m = new ClearSkyMoments();
    const cam = Float32Array.from({ length: 200_000 }, (_, i) => 1000 + (i % 2 ? 0.5 : -0.5));
    m.add(cam, new Uint8Array(cam.length).fill(1));
    const s = m.statistics('pixel', 1);
    assert.ok(Math.abs(s.mean - 1000) < 1e-9 && Math.abs(s.std - 0.5) < 1e-9, `${s.mean} ${s.std}`);
  });
});

describe('clearSkyStatistics on real blocks', () => {
  it('uses the clear blocks only and needs at least one', { timeout: 60_000 }, async () => {
    const arch = tinyArchitecture(48);
    const model = tinyModel(arch, { seed: 3, prunedPools: [5] });
    const raster = await openRaster([`${SCENE}/Forest_00_1008.tif`]);
    const block = async (x: number, y: number, label: 0 | 1): Promise<LabelledBlock> => {
      const bands = new Float32Array(4 * 48 * 48);
      (await raster.readWindow({ x, y, width: 48, height: 48 }, [0, 1, 2, 3])).forEach((p, b) => bands.set(p, b * 48 * 48));
      return { id: `${x},${y}`, label, bands, size: 48, bandCount: 4 };
    };
    const clear = [await block(0, 0, 0), await block(100, 150, 0)];
    const cloudy = await block(200, 40, 1);
    await raster.close();
    const network = new Network(model, undefined, { threads: 1 });
    try {
      const pixel = await clearSkyStatistics(network, clear, 'pixel');
      assert.equal(pixel.blocks, 2);
      assert.equal(pixel.pixels, 2 * 48 * 48);
      assert.ok(pixel.std > 0);
      assert.deepEqual(await clearSkyStatistics(network, [cloudy, ...clear], 'pixel'), pixel, 'cloudy blocks are left out');
      const block = await clearSkyStatistics(network, clear, 'block');
      assert.equal(block.statistic, 'block');
      // Two blocks: the average of the block means is the pooled mean; the average std is at most the pooled std.
      assert.ok(Math.abs(block.mean - pixel.mean) < 1e-4 * Math.max(1, Math.abs(pixel.mean)));
      assert.ok(block.std <= pixel.std + 1e-9);
      await assert.rejects(() => clearSkyStatistics(network, [cloudy], 'pixel'), /no clear-sky blocks/);
    } finally {
      await network.release();
    }
  });
});

describe('scoring thresholds', () => {
  // Scene 1: cam 0.1 0.4 0.6 0.9 0.3 0.7 0.95, truth 0 0 1 1 1 0 0; the last pixel has no data.
  // At T = 0.5: predicted 0 0 1 1 0 1 -> TP 2, FP 1, FN 1, TN 2.
  // Scene 2: cam 0.8 0.2, truth 1 0 -> TP 1, TN 1 at T = 0.5. Pooled: TP 3, FP 1, FN 1, TN 3.
  const scene1 = { cam: Float32Array.from([0.1, 0.4, 0.6, 0.9, 0.3, 0.7, 0.95]), valid: Uint8Array.from([1, 1, 1, 1, 1, 1, 0]), truth: Uint8Array.from([0, 0, 1, 1, 1, 0, 0]) };
  const scene2 = { cam: Float32Array.from([0.8, 0.2]), valid: Uint8Array.from([1, 1]), truth: Uint8Array.from([1, 0]) };

  it('the pixel confusion at each threshold, pooled over scenes, nodata excluded', () => {
    const [one] = scoreThresholds([scene1], [0.5]);
    assert.ok(Math.abs(one.oa - 4 / 6) < 1e-12);
    assert.ok(Math.abs(one.precision - 2 / 3) < 1e-12);
    assert.ok(Math.abs(one.recall - 2 / 3) < 1e-12);
    assert.ok(Math.abs(one.f1 - 2 / 3) < 1e-12);
    assert.ok(Math.abs(one.iou - 0.5) < 1e-12);
    const [pooled, low, high] = scoreThresholds([scene1, scene2], [0.5, 0.25, 0.92]);
    assert.ok(Math.abs(pooled.oa - 6 / 8) < 1e-12 && Math.abs(pooled.f1 - 3 / 4) < 1e-12);
    // T = 0.25: everything but 0.1 and 0.2 is cloud: TP 4, FP 2, FN 0, TN 2. T = 0.92: no cloud at all.
    assert.ok(Math.abs(low.recall - 1) < 1e-12 && Math.abs(low.precision - 4 / 6) < 1e-12);
    assert.equal(high.recall, 0);
    assert.ok(Number.isNaN(high.precision), 'precision of a mask without cloud is undefined');
  });

  it('a threshold equal to a value counts it as cloud (CAM >= T)', () => {
    const [at] = scoreThresholds([scene1], [0.6]);
    assert.ok(Math.abs(at.recall - 2 / 3) < 1e-12, 'the 0.6 pixel is cloud at T = 0.6');
  });
});

describe('tuneK', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-threshold-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('chooses the k whose threshold reproduces the truth, for every metric', { timeout: 60_000 }, async () => {
    const image = `${SCENE}/Forest_00_1008.tif`;
    const model = tinyModel(tinyArchitecture(48), { seed: 6, prunedPools: [5], stride: 24, gate: false });
    const { cam, valid, width, height } = await sceneCam([image], { model, bands: [1, 2, 3, 4], threads: 1 });
    // Statistics that spread the k grid over the map's values; the truth is the map thresholded at k = 0.5.
    const sorted = Float32Array.from(cam).sort();
    const q = (f: number) => sorted[Math.floor(f * (sorted.length - 1))];
    const stats = { statistic: 'pixel' as const, mean: q(0.5), std: (q(0.9) - q(0.1)) / 6, blocks: 1, pixels: cam.length };
    model.description.detection.clearSky = stats;
    const target = 0.5;
    const t = thresholdOf(stats, target);
    const between = (lo: number, hi: number) => cam.some((v) => v >= lo && v < hi);
    assert.ok(between(thresholdOf(stats, target - 0.25), t) && between(t, thresholdOf(stats, target + 0.25)), 'only k = 0.5 separates the pixels exactly');
    const truth = new Uint8Array(width * height);
    for (let i = 0; i < truth.length; i++) truth[i] = valid[i] ? (cam[i] >= t ? 1 : 0) : 255;
    // A patch of nodata in the truth where the labels are flipped: excluded, so it cannot matter.
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) truth[y * width + x] = 255;
    const mask = join(dir, 'truth.tif');
    const w = await createGeoTiffWriter(mask, { width, height, sampleType: 'uint8', nodata: 255 });
    await w.writeRows(0, height, truth);
    await w.finish();

    for (const metric of ['f1', 'oa', 'kappa'] as const) {
      const { k, scores } = await tuneK(model, [{ image: [image], mask, coding: 'wdcd', bands: [0, 1, 2, 3] }], metric, { threads: 1 });
      assert.equal(k, target, `${metric} chose k = ${k}`);
      assert.deepEqual(scores.map((s) => s.k), K_GRID);
      scores.forEach((s) => assert.equal(s.threshold, thresholdOf(stats, s.k)));
      const best = scores.find((s) => s.k === target)!;
      assert.equal(best[metric], 1, `${metric} is perfect at the truth's threshold`);
      for (const s of scores) if (s.k !== target) assert.ok(!(s[metric] >= 1), `${metric} at k = ${s.k} is ${s[metric]}`);
    }

    // A HOT guard that vetoes about a third of the truth's cloud: k is still chosen on the map alone (tuned with
    // the guard, every k would score below 1 and another could win), and the scores are of the guarded masks.
    const source = await openRaster([image]);
    const [blue, , red] = await source.readWindow({ x: 0, y: 0, width, height }, [0, 1, 2]);
    await source.close();
    const hot = Array.from(truth.keys()).filter((i) => truth[i] === 1).map((i) => blue[i] - 0.5 * red[i]).sort((a, b) => a - b);
    model.description.detection.hotGuard = { offset: hot[Math.floor(hot.length / 3)] };
    const guarded = await tuneK(model, [{ image: [image], mask, coding: 'wdcd', bands: [0, 1, 2, 3] }], 'kappa', { threads: 1 });
    assert.equal(guarded.k, target);
    const atTarget = guarded.scores.find((s) => s.k === target)!;
    assert.equal(atTarget.tuning, 1, 'the tuning metric is of the map alone');
    assert.ok(atTarget.recall > 0.5 && atTarget.recall < 0.8, `the guard vetoes part of the cloud: recall ${atTarget.recall}`);
    assert.equal(atTarget.precision, 1, 'and adds none');
  });
});
