// The mosaic's arithmetic by hand: camRow averages the maps of the blocks covering each lattice point; the
// sliding-window grid covers every pixel (edges and scenes smaller than a block included); coveringBlocks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockGrid, blockOrigins, coveringBlocks } from '../../src/detect/block-grid.js';
import { weightRuns, wholeRow } from '../../src/detect/cam-mosaic.js';
import { MosaicKernels, type FeatureRow } from '../../src/detect/mosaic-kernels.js';
import type { AxisCoverage } from '../../src/detect/coverage.js';
import { emptyWeights } from '../../src/detect/channel-weights.js';

/** One lattice row of the mosaic, as the mosaic makes it: block rows r0 to r1's weights averaged per run, applied. */
function camRow(kernels: MosaicKernels, row: FeatureRow, r0: number, r1: number, cols: AxisCoverage, weights: Parameters<typeof weightRuns>[3], C: number, nx: number): Float32Array {
  return kernels.weightedRow(row, kernels.layRuns(weightRuns(r0, r1, cols, weights, C, nx), row, C), C, cols.count);
}

describe('camRow averages the overlapping blocks', () => {
  // A 2 x 2 grid of blocks (b = row * 2 + column), a lattice row of 6 points with 2 channels:
  //   points 0, 1 lie in column 0 only, points 2, 3 in columns 0 and 1, points 4, 5 in column 1 only.
  //   F0 = [1 2 3 4 5 6], F1 = [0 1 0 1 0 1]
  //   block 0: a = [1, 0],  beta = 0   -> F0
  //   block 1: a = [0, 2],  beta = 10  -> 10 + 2 F1
  //   block 2: a = [-1, 0], beta = 4   -> 4 - F0
  //   block 3: not used (no valid pixel); its weights must be ignored.
  const cols: AxisCoverage = {
    first: 0,
    count: 6,
    cover: Int32Array.from([0, 0, 0, 0, 1, 1]),
    coverTo: Int32Array.from([0, 0, 1, 1, 1, 1]),
    memberFrom: Int32Array.from([0, 3]),
    memberTo: Int32Array.from([3, 6]),
    pixel: Int32Array.from([0, 1, 2, 3, 4, 5]),
  };
  const kernels = new MosaicKernels();
  const row = wholeRow(kernels, Float32Array.from([1, 2, 3, 4, 5, 6, 0, 1, 0, 1, 0, 1]), 6);
  const weights = emptyWeights(4, 2);
  weights.a.set([1, 0, 0, 2, -1, 0, 100, 100]);
  weights.beta.set([0, 10, 4, 100]);
  weights.used.set([1, 1, 1, 0]);

  it('one block row: single blocks at the ends, the mean of two in the overlap', () => {
    // p2: (3 + 10 + 0) / 2 = 6.5; p3: (4 + 10 + 2) / 2 = 8; p4: 10 + 0; p5: 10 + 2.
    assert.deepEqual([...camRow(kernels, row, 0, 0, cols, weights, 2, 2)], [1, 2, 6.5, 8, 10, 12]);
  });

  it('two block rows: the mean over every used covering block', () => {
    // p0, p1: (F0 + 4 - F0) / 2 = 2; p2, p3: (F0 + 10 + 2 F1 + 4 - F0) / 3 = (14 + 2 F1) / 3; p4, p5: block 1 alone.
    const cam = camRow(kernels, row, 0, 1, cols, weights, 2, 2);
    const expected = [2, 2, 14 / 3, 16 / 3, 10, 12];
    cam.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `point ${i}: ${v} vs ${expected[i]}`));
  });

  it('points covered only by unused blocks are NaN', () => {
    // Block row 1: block 2 alone (4 - F0) on points 0-3; block 3 alone, unused, on points 4 and 5.
    const cam = camRow(kernels, row, 1, 1, cols, weights, 2, 2);
    assert.deepEqual([...cam.subarray(0, 4)], [3, 2, 1, 0]);
    assert.ok(Number.isNaN(cam[4]) && Number.isNaN(cam[5]));
  });
});

describe('block grid', () => {
  it('hand cases', () => {
    assert.deepEqual(blockOrigins(10, 16, 8), [0], 'a scene smaller than a block gets one block');
    assert.deepEqual(blockOrigins(16, 16, 8), [0], 'exactly one block');
    assert.deepEqual(blockOrigins(32, 16, 8), [0, 8, 16]);
    assert.deepEqual(blockOrigins(37, 16, 8), [0, 8, 16, 21], 'the last block is shifted to end at the edge');
    assert.deepEqual(blockOrigins(40, 16, 16), [0, 16, 24]);
    assert.deepEqual(blockOrigins(48, 16, 16), [0, 16, 32]);
  });

  it('every pixel is covered, blocks stay inside the scene, steps are at most the stride', () => {
    for (let length = 1; length <= 70; length++) {
      for (const [size, stride] of [[16, 8], [16, 16], [16, 5], [9, 1], [12, 12]]) {
        const o = blockOrigins(length, size, stride);
        assert.equal(o[0], 0);
        if (length <= size) assert.deepEqual(o, [0]);
        else assert.equal(o[o.length - 1] + size, length, `${length}/${size}/${stride}: ends at the edge`);
        for (let i = 1; i < o.length; i++) assert.ok(o[i] > o[i - 1] && o[i] - o[i - 1] <= stride, `${length}/${size}/${stride}: ${o}`);
        for (let p = 0; p < length; p++) assert.ok(o.some((x) => x <= p && p < x + size), `${length}/${size}/${stride}: pixel ${p} uncovered`);
      }
    }
  });

  it('blockGrid checks the stride', () => {
    assert.deepEqual(blockGrid(37, 10, 16, 8), { blockSize: 16, xs: [0, 8, 16, 21], ys: [0] });
    for (const stride of [0, -1, 17, NaN]) assert.throws(() => blockGrid(100, 100, 16, stride), RangeError, `stride ${stride}`);
  });

  it('coveringBlocks: hand cases', () => {
    const o = [0, 8, 16, 21];
    const cases: [number, [number, number]][] = [[0, [0, 0]], [7, [0, 0]], [8, [0, 1]], [15, [0, 1]], [16, [1, 2]], [20, [1, 2]], [21, [1, 3]], [24, [2, 3]], [31, [2, 3]], [32, [3, 3]], [36, [3, 3]]];
    for (const [p, expected] of cases) assert.deepEqual(coveringBlocks(o, 16, p), expected, `p = ${p}`);
  });

  it('coveringBlocks: the contiguous range of blocks whose extent holds the point', () => {
    for (const [length, size, stride] of [[37, 16, 8], [70, 16, 5], [100, 12, 12], [9, 16, 8], [50, 9, 1]]) {
      const o = blockOrigins(length, size, stride);
      for (let p = 0; p < length; p++) {
        const holding = o.flatMap((x, i) => (x <= p && p < x + size ? [i] : []));
        const [first, last] = coveringBlocks(o, size, p);
        assert.deepEqual([first, last], [holding[0], holding[holding.length - 1]], `${length}/${size}/${stride} p ${p}`);
        assert.equal(last - first + 1, holding.length, 'contiguous');
      }
    }
  });
});
