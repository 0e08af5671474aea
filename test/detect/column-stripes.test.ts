// Column stripes (column-stripes.ts): every output column belongs to one stripe, and each stripe's view holds
// every block that reaches within one lattice step of its columns, from a start on the scene's lattice. On the
// real Landsat 8 scene (footprint edges with nodata crossing the stripe sides), the bundled default model gives
// the same activation map, validity and guards' mask in 256 px stripes as in one pass, for prune all and
// last; `detect` writes the same mask and CAM (read back by GDAL, COG layout) and counts the same blocks, with
// the stripes on one thread or on two (stripe-workers.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { blockGrid } from '../../src/detect/block-grid.js';
import { columnStripes } from '../../src/detect/column-stripes.js';
import { detect, sceneCam } from '../../src/detect/detect.js';
import { loadModel } from '../../src/model/model-file.js';
import type { ProgressEvent } from '../../src/progress.js';
import { noGdal, readWithGdal } from '../raster/helpers.js';

const L8 = ['B2', 'B3', 'B4', 'B5'].map((b) => `/work/shared/data/landsat8-scene-120m/LC80130312015295LGN00_${b}_toa.tif`);
const MODEL = loadModel('default');

describe('column stripes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wdcd-stripes-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('plan: output columns covered once; views hold every block near their columns and start on the lattice', () => {
    for (const [width, blockSize, stride, stripeWidth, lattice] of [[1000, 48, 24, 256, 1], [1000, 48, 24, 256, 4], [777, 40, 13, 256, 8], [5000, 250, 125, 512, 8], [300, 48, 24, 512, 1]]) {
      const grid = blockGrid(width, 100, blockSize, stride);
      const stripes = columnStripes(grid, width, stripeWidth, lattice);
      assert.equal(stripes.length, Math.ceil(width / stripeWidth));
      let x = 0;
      for (const s of stripes) {
        assert.equal(s.x0, x, 'stripes follow each other without gaps');
        x = s.x1;
        assert.equal(s.viewX % lattice, 0);
        assert.ok(s.viewX <= s.x0 && s.viewX + s.viewWidth >= s.x1 && s.viewX + s.viewWidth <= width);
        grid.xs.forEach((bx, c) => {
          const near = bx < s.x1 + lattice && bx + blockSize > s.x0 - lattice;
          if (near) assert.ok(c >= s.c0 && c < s.c1, `block ${c} at ${bx} reaches stripe ${s.x0}..${s.x1}`);
          if (c >= s.c0 && c < s.c1) assert.ok(bx >= s.viewX && bx + blockSize <= s.viewX + s.viewWidth, `block ${c} inside the view`);
        });
      }
      assert.equal(x, width);
    }
  });

  it('the map in 256 px stripes equals the map in one pass (real scene, nodata edges; prune all and last)', async () => {
    const stripes = columnStripes(blockGrid(508, 458, 48, 24), 508, 256, 1);
    assert.equal(stripes.length, 2);
    for (const prune of ['all', 'last'] as const) {
      const whole = await sceneCam(L8, { model: MODEL, prune });
      const striped = await sceneCam(L8, { model: MODEL, prune, stripeWidth: 256 });
      assert.deepEqual(striped.valid, whole.valid);
      assert.ok(whole.ruledOut && striped.ruledOut);
      assert.deepEqual(striped.ruledOut, whole.ruledOut);
      let worst = 0;
      for (let i = 0; i < whole.cam.length; i++) {
        assert.equal(Number.isNaN(striped.cam[i]), Number.isNaN(whole.cam[i]), `pixel ${i}`);
        if (whole.valid[i]) worst = Math.max(worst, Math.abs(striped.cam[i] - whole.cam[i]));
      }
      assert.ok(worst < 1e-5, `prune ${prune}: max difference ${worst}`);
      const invalid = whole.valid.filter((v) => v === 0).length;
      assert.ok(invalid > 0 && invalid < whole.valid.length, 'the scene holds nodata and data');
    }
  });

  it('detect: same mask, CAM and block counts in stripes (COG, read back by GDAL)', { skip: noGdal }, async () => {
    // k = 0: a threshold low enough that the mask holds both classes on this mostly clear scene.
    const run = (name: string, stripeWidth?: number) => detect(L8, { model: MODEL, mask: join(dir, `${name}.tif`), cam: join(dir, `${name}-cam.tif`), png: join(dir, `${name}.png`), cog: true, stripeWidth, k: 0 });
    const whole = await run('whole');
    const striped = await run('striped', 256);
    assert.deepEqual(striped.blocks, whole.blocks);
    assert.equal(striped.cloudFraction, whole.cloudFraction);
    assert.ok(whole.cloudFraction > 0.01 && whole.cloudFraction < 0.99);
    const [mw, ms] = ['whole', 'striped'].map((n) => readWithGdal(join(dir, `${n}.tif`), dir).bands[0]);
    assert.deepEqual(ms, mw);
    const [cw, cs] = ['whole', 'striped'].map((n) => readWithGdal(join(dir, `${n}-cam.tif`), dir).bands[0]);
    let worst = 0;
    for (let i = 0; i < cw.length; i++) {
      assert.equal(Number.isNaN(cs[i]), Number.isNaN(cw[i]));
      if (!Number.isNaN(cw[i])) worst = Math.max(worst, Math.abs(cs[i] - cw[i]));
    }
    assert.ok(worst < 1e-5, `CAM differs by ${worst}`);
    await assert.rejects(() => detect(L8, { model: MODEL, mask: join(dir, 'bad.tif'), stripeWidth: 300 }), /multiple of 256/);
  });

  it('detect: stripes on two threads give the mask, CAM, block counts and progress of one thread', { skip: noGdal }, async () => {
    const run = async (name: string, stripeThreads: number) => {
      const events: ProgressEvent[] = [];
      const summary = await detect(L8, {
        model: MODEL, mask: join(dir, `${name}.tif`), cam: join(dir, `${name}-cam.tif`), png: join(dir, `${name}.png`), cog: true,
        stripeWidth: 256, stripeThreads, k: 0, onProgress: (e) => events.push(e),
      });
      const progress = events.filter((e) => e.kind === 'progress' && e.stage === 'activation map');
      return { summary, last: progress.at(-1) };
    };
    const one = await run('one-thread', 1);
    const two = await run('two-threads', 2);
    assert.equal(one.summary.stripeThreads, 1);
    assert.equal(two.summary.stripeThreads, 2, 'two threads mosaicked the stripes');
    assert.deepEqual(two.summary.blocks, one.summary.blocks);
    assert.equal(two.summary.featureShare, one.summary.featureShare, 'the threads report the feature pass they skipped');
    assert.ok(one.summary.featureShare > 0 && one.summary.featureShare <= 1, `feature share ${one.summary.featureShare}`);
    assert.equal(two.summary.cloudFraction, one.summary.cloudFraction);
    assert.ok(one.summary.cloudFraction > 0.01 && one.summary.cloudFraction < 0.99);
    assert.ok(two.summary.seconds.features > 0, 'the threads report their network time');
    assert.deepEqual(two.last, one.last, 'the bar ends where the one-thread bar ends');
    const [m1, m2] = ['one-thread', 'two-threads'].map((n) => readWithGdal(join(dir, `${n}.tif`), dir).bands[0]);
    assert.deepEqual(m2, m1);
    const [c1, c2] = ['one-thread', 'two-threads'].map((n) => readWithGdal(join(dir, `${n}-cam.tif`), dir).bands[0]);
    let worst = 0;
    for (let i = 0; i < c1.length; i++) {
      assert.equal(Number.isNaN(c2[i]), Number.isNaN(c1[i]));
      if (!Number.isNaN(c1[i])) worst = Math.max(worst, Math.abs(c2[i] - c1[i]));
    }
    assert.ok(worst < 1e-5, `CAM differs by ${worst}`);
    assert.deepEqual(readFileSync(join(dir, 'two-threads.png')), readFileSync(join(dir, 'one-thread.png')));
  });
});
