// How networks run (engine/): a session on several workers gives, run for run, what one session on this thread
// gives, with runs in flight at once, inputs on shared memory and output buffers recycled at any size; a plain
// session takes shared inputs too (onnxruntime itself refuses them), also with runs overlapping; the shared pool
// hands memory back out; the CPU layout puts one thread per worker on small machines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFeatureGraph } from '../../src/engine/inference-graphs.js';
import { Session } from '../../src/engine/session.js';
import { SharedFloats } from '../../src/engine/shared-floats.js';
import { cpuWorkerLayout, WorkerSession } from '../../src/engine/worker-session.js';
import { poolIndices } from '../../src/model/architecture.js';
import { Random } from '../../src/random.js';
import { tinyArchitecture, tinyModel } from '../model/tiny-model.js';

const arch = tinyArchitecture(48);
const model = tinyModel(arch, { seed: 7 });
const graph = buildFeatureGraph(arch, 4, model.weights, new Set(poolIndices(arch.layers)));
const random = new Random(11);
// Windows of different sizes, so recycled output buffers are reused for maps of other sizes.
const windows = [[40, 30], [64, 20], [33, 47], [80, 16], [40, 30], [21, 21], [64, 20], [90, 25]].map(([w, h]) => ({
  w, h, data: Float32Array.from({ length: 4 * w * h }, () => random.next() * 2 - 1),
}));
const dims = (w: number, h: number) => [1, 4, h, w];
const shared = (a: Float32Array) => {
  const s = new Float32Array(new SharedArrayBuffer(a.byteLength));
  s.set(a);
  return s;
};

describe('sessions', () => {
  it('on two workers equal one plain session, with runs in flight at once and buffers recycled', async () => {
    const plain = await Session.create(graph, { threads: 1 });
    const expected = [];
    for (const { w, h, data } of windows) expected.push((await plain.run({ input: { data, dims: dims(w, h) } })).features);
    await plain.release();
    const pooled = await WorkerSession.create(graph, { worker: true, workers: 2, threads: 1 });
    try {
      for (let round = 0; round < 3; round++) {
        const runs = windows.map(({ w, h, data }, i) => {
          const input = i % 2 === 0 ? shared(data) : data;
          return pooled.run({ input: { data: input, dims: dims(w, h) } }, undefined, { features: expected[i].dims });
        });
        const got = await Promise.all(runs);
        got.forEach((g, i) => {
          assert.deepEqual(g.features.dims, expected[i].dims);
          assert.deepEqual(g.features.data, expected[i].data, `run ${i}, round ${round}`);
        });
        pooled.recycle(got.map((g) => g.features.data.buffer as ArrayBuffer));
      }
    } finally {
      await pooled.release();
    }
  });

  it('take shared inputs on this thread too, runs overlapping', async () => {
    const session = await Session.create(graph, { threads: 1 });
    try {
      // Large enough that the runtime is still reading one input while the next run is given its own.
      const large = [0, 1, 2, 3].map(() => Float32Array.from({ length: 4 * 400 * 300 }, () => random.next() * 2 - 1));
      const expected = [];
      for (const data of large) expected.push((await session.run({ input: { data, dims: dims(400, 300) } })).features.data);
      for (let round = 0; round < 2; round++) {
        const got = await Promise.all(large.map((data) => session.run({ input: { data: shared(data), dims: dims(400, 300) } })));
        got.forEach((g, i) => assert.deepEqual(g.features.data, expected[i], `run ${i}, round ${round}`));
      }
    } finally {
      await session.release();
    }
  });
});

describe('shared floats', () => {
  it('hands a given-back buffer out again, for a length it holds, but not for one under half its size', () => {
    const pool = new SharedFloats();
    const a = pool.take(100_000);
    assert.equal(a.length, 100_000);
    assert.ok(a.buffer instanceof SharedArrayBuffer && a.buffer.byteLength >= 400_000);
    pool.give(a);
    const b = pool.take(99_000);
    assert.equal(b.buffer, a.buffer);
    assert.equal(b.length, 99_000);
    assert.notEqual(pool.take(99_000).buffer, a.buffer); // b holds it
    pool.give(new Float32Array(100_000)); // not shared: ignored
    assert.ok(pool.take(100_000).buffer instanceof SharedArrayBuffer);
    pool.give(b);
    assert.notEqual(pool.take(30_000).buffer, a.buffer);
    assert.equal(pool.take(60_000).buffer, a.buffer);
  });
});

describe('CPU layout', () => {
  it('runs one thread per worker up to 4 workers, then more threads per worker', () => {
    assert.deepEqual(cpuWorkerLayout(1), { workers: 1, threads: 1 });
    assert.deepEqual(cpuWorkerLayout(2), { workers: 2, threads: 1 });
    assert.deepEqual(cpuWorkerLayout(6), { workers: 4, threads: 2 });
    assert.deepEqual(cpuWorkerLayout(16), { workers: 4, threads: 4 });
  });
});
