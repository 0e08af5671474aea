// Convolutional block scoring (block-scores.ts): one pass of the trained network over a window of overlapping
// blocks gives every block the logit and pooled responses it gets when run through the network on its own, on
// real L8 Biome imagery, for a GCP and a GAP head and a three-pool network (lattice of 8 px), with edge blocks
// off the pool lattice (scored by windows of their own).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { blockGrid } from '../../src/detect/block-grid.js';
import { emptyScores, originRuns, scoreBlockRowDirect, scoreBlocks } from '../../src/detect/block-scores.js';
import type { Architecture } from '../../src/model/architecture.js';
import { Network } from '../../src/model/network.js';
import { preparedRaster, type PreparedSource } from '../../src/prepare/prepared-source.js';
import { openRaster } from '../../src/raster/open.js';
import { resolveBands } from '../../src/raster/sensors.js';
import { tinyArchitecture, tinyModel } from '../model/tiny-model.js';

const SCENE = '/work/shared/data/l8biome/val/images/Forest_00_1008.tif';

const opened: { close(): Promise<void> }[] = [];
after(() => Promise.all(opened.map((r) => r.close())));

/** The scene cut to width x height (its pixels, not a resample). */
async function scene(width: number, height: number): Promise<PreparedSource> {
  const raster = await openRaster([SCENE]);
  opened.push(raster);
  const whole = preparedRaster(raster, resolveBands('landsat8-biome', raster.bandCount), { mean: [0.15, 0.13, 0.12, 0.2], std: [0.1, 0.1, 0.1, 0.12] });
  return { width, height, bandCount: whole.bandCount, read: (w) => whole.read(w) };
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('convolutional block scoring', () => {
  it('splits origins into runs on the pool lattice, at most one window wide', () => {
    assert.deepEqual(originRuns([0, 24, 48, 72, 90], 48, 4), [[0, 4], [4, 5]]);
    assert.deepEqual(originRuns([0, 24, 48, 72], 48, 8, 100), [[0, 3], [3, 4]]);
    assert.deepEqual(originRuns([0], 48, 4, 10), [[0, 1]]);
  });

  const threePools: Architecture = {
    name: 'three-pools',
    blockSize: 64,
    layers: [{ kind: 'conv', channels: 4 }, { kind: 'pool' }, { kind: 'conv', channels: 6 }, { kind: 'pool' }, { kind: 'conv', channels: 6 }, { kind: 'pool' }, { kind: 'conv', channels: 8 }],
    head: 'gcp',
  };
  for (const arch of [tinyArchitecture(40, 'gcp'), tinyArchitecture(40, 'gap'), threePools]) {
    it(`equals scoring each block on its own (${arch.name}, real scene, off-lattice edge blocks)`, async () => {
      const model = tinyModel(arch, { seed: 5 });
      // A non-uniform GCP kernel, so a block read at the wrong offset of the window's map would be caught.
      const gcp = model.weights.get('gcp.weight');
      if (gcp) for (let i = 0; i < gcp.length; i++) gcp[i] = ((i * 7919) % 13) / 100;
      const network = new Network(model, new Set(), { threads: 1 });
      try {
        // 250 x 247: the last origins (210, 207) are not on the 4 px pool lattice of the others.
        const source = await scene(250, 247);
        const grid = blockGrid(source.width, source.height, arch.blockSize, arch.blockSize / 2);
        assert.ok(grid.xs[grid.xs.length - 1] % 4 !== 0 && grid.ys[grid.ys.length - 1] % 4 !== 0);
        assert.ok(grid.xs.length >= 5, 'several blocks share a window');
        const fast = await scoreBlocks(network, source, grid);
        const direct = emptyScores(grid, network.channels);
        for (let r = 0; r < grid.ys.length; r++) await scoreBlockRowDirect(network, source, grid, r, direct);
        assert.ok(maxDifference(fast.logit, direct.logit) < 1e-4, `logits differ by ${maxDifference(fast.logit, direct.logit)}`);
        assert.ok(maxDifference(fast.pooled, direct.pooled) < 1e-4, `pooled responses differ by ${maxDifference(fast.pooled, direct.pooled)}`);
        const spread = Math.max(...direct.logit) - Math.min(...direct.logit);
        assert.ok(spread > 0.01, `blocks differ from each other (spread ${spread})`);
      } finally {
        await network.release();
      }
    });
  }
});
