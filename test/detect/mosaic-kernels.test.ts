// The WebAssembly mosaic kernels against plain loops on random features (odd widths, so the SIMD loops' tails
// run; invalid points; runs no block covers), and the embedded bytes against a fresh compile of their source.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { MosaicKernels, type FeatureRow, type WeightRuns } from '../../src/detect/mosaic-kernels.js';
import { Random } from '../../src/random.js';

const C = 5;
const [W, H] = [37, 3]; // one tile: [C][H][W]
const rng = new Random(7);
const random = () => rng.next();
const tile = Float32Array.from({ length: C * H * W }, () => random() * 4 - 2);
const at = (c: number, j: number, i: number) => tile[c * H * W + j * W + i];

/** Row j of the tile as two segments, [0, 20) and [20, 37), stored in `kernels`. */
function rowOf(kernels: MosaicKernels, j: number): FeatureRow {
  const segments: FeatureRow = [];
  for (const [i0, i1] of [[0, 20], [20, W]]) {
    const part = new Float32Array(C * H * (i1 - i0));
    for (let c = 0; c < C; c++) for (let r = 0; r < H; r++) for (let i = i0; i < i1; i++) part[(c * H + r) * (i1 - i0) + i - i0] = at(c, r, i);
    segments.push({ i0, i1, at: kernels.store(part) + 4 * j * (i1 - i0), channelStride: H * (i1 - i0) });
  }
  return segments;
}

describe('mosaic kernels', () => {
  it('weightedRow: beta + sum_k w_k F_k over each run, NaN between runs', () => {
    const kernels = new MosaicKernels();
    const row = rowOf(kernels, 1);
    // Runs [0, 7), [9, 26) (crosses the segment edge), [26, 37); points 7 and 8 in no run.
    const starts = Int32Array.from([0, 9, 26]);
    const ends = Int32Array.from([7, 26, 37]);
    const weights = Float64Array.from({ length: 3 * C }, () => random() - 0.5);
    const betas = Float64Array.from([0.5, -1, 2]);
    const runs: WeightRuns = { count: 3, starts, ends, weights, betas };
    const cam = kernels.weightedRow(row, kernels.layRuns(runs, row, C), C, W);
    for (let i = 0; i < W; i++) {
      const r = [0, 1, 2].find((q) => i >= starts[q] && i < ends[q]);
      if (r === undefined) {
        assert.ok(Number.isNaN(cam[i]), `point ${i} is in no run`);
        continue;
      }
      let expected = betas[r];
      for (let c = 0; c < C; c++) expected += weights[r * C + c] * at(c, 1, i);
      assert.ok(Math.abs(cam[i] - expected) <= 1e-6 * (1 + Math.abs(expected)), `point ${i}: ${cam[i]} vs ${expected}`);
    }
  });

  it('tileIntervalSums: per interval and channel, the sum over valid points, added to what is there', () => {
    const kernels = new MosaicKernels();
    const edges = Int32Array.from([0, 5, 18, 23, 37]);
    const T = edges.length - 1;
    const segments = [{ i0: 0, i1: 20 }, { i0: 20, i1: W }];
    const laid = kernels.layIntervals(edges, segments);
    const valid = Uint8Array.from({ length: W }, (_, i) => (i % 7 === 3 ? 0 : 1));
    const sums = kernels.allocate(8 * T * C);
    kernels.float64(sums, T * C).fill(1);
    const validAt = kernels.allocate(W);
    kernels.bytes(validAt, W).set(valid);
    // Rows 0 and 2 add (row 2 with all points valid); row 1 is skipped.
    const table = kernels.allocate(8 * H);
    kernels.int32(table, 2 * H).set([sums, validAt, 0, 0, sums, 0]);
    for (const [s, { i0, i1 }] of segments.entries()) {
      const part = new Float32Array(C * H * (i1 - i0));
      for (let c = 0; c < C; c++) for (let r = 0; r < H; r++) for (let i = i0; i < i1; i++) part[(c * H + r) * (i1 - i0) + i - i0] = at(c, r, i);
      kernels.tileIntervalSums(kernels.store(part), i1 - i0, H * (i1 - i0), H, C, laid, s, table);
    }
    const got = kernels.float64(sums, T * C);
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < C; c++) {
        let expected = 1;
        for (let i = edges[t]; i < edges[t + 1]; i++) expected += (valid[i] ? at(c, 0, i) : 0) + at(c, 2, i);
        assert.ok(Math.abs(got[t * C + c] - expected) < 1e-9, `interval ${t}, channel ${c}: ${got[t * C + c]} vs ${expected}`);
      }
    }
  });

  it('memory: live blocks never overlap, freed neighbours merge, and blocks of every width reuse freed memory', () => {
    const kernels = new MosaicKernels();
    const a = kernels.allocate(1000);
    const b = kernels.allocate(1000);
    const c = kernels.allocate(1000);
    kernels.release(a, 1000);
    kernels.release(b, 1000);
    assert.equal(kernels.allocate(2000), a, 'two freed neighbours serve a block twice their size');
    kernels.release(c, 1000);
    // Tiles of random widths, four alive at a time, as the mosaic's feature chunks: each holds its own pattern.
    const widthRng = new Random(3);
    const live: { at: number; bytes: number; mark: number }[] = [];
    const maxBytes = 4 * 32 * 64 * 268;
    let reservedAfterWarmup = 0;
    for (let n = 0; n < 400; n++) {
      const bytes = 4 * 32 * 64 * (1 + Math.floor(widthRng.next() * 268));
      const at = kernels.allocate(bytes);
      kernels.float32(at, bytes / 4).fill(n);
      live.push({ at, bytes, mark: n });
      if (live.length > 4) {
        const old = live.shift()!;
        const values = kernels.float32(old.at, old.bytes / 4);
        assert.ok(values.every((v) => v === old.mark), `block ${old.mark} was overwritten`);
        kernels.release(old.at, old.bytes);
      }
      if (n === 50) reservedAfterWarmup = kernels.reservedBytes;
    }
    assert.ok(kernels.reservedBytes <= 8 * maxBytes, `${kernels.reservedBytes} bytes reserved for 5 blocks of at most ${maxBytes}`);
    assert.ok(kernels.reservedBytes <= 1.5 * reservedAfterWarmup, `memory kept growing: ${reservedAfterWarmup} -> ${kernels.reservedBytes}`);
  });

  it('the embedded WebAssembly is what assembly/mosaic-kernels.ts compiles to', () => {
    const r = spawnSync(process.execPath, ['scripts/build-kernels.mjs', '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
