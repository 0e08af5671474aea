// Every gradient rule against central finite differences of the loss, per parameter tensor and for the input
// path through every layer kind (conv, ReLU, max-pool with an odd side, GCP / GAP, linear unit, logistic loss).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Architecture } from '../../src/model/architecture.js';
import { initialWeights, parameterSpecs } from '../../src/model/parameters.js';
import { buildTrainingGraph, gradientName } from '../../src/engine/training-graph.js';
import { Session, type Feeds } from '../../src/engine/session.js';
import { Random } from '../../src/random.js';

// 23 px: 21 after the first conv, an odd side, so the floor-mode pool drops a row and a column.
const tiny = (head: 'gcp' | 'gap'): Architecture => ({
  name: `tiny-${head}`,
  blockSize: 23,
  layers: [{ kind: 'conv', channels: 3 }, { kind: 'pool' }, { kind: 'conv', channels: 4 }, { kind: 'pool' }, { kind: 'conv', channels: 5 }],
  head,
});

async function check(head: 'gcp' | 'gap') {
  const arch = tiny(head);
  const bands = 2;
  const n = 3;
  const session = await Session.create(buildTrainingGraph(arch, bands, n), { threads: 1 });
  const random = new Random(7);
  const weights = initialWeights(arch, bands, 11);
  // Non-uniform GCP kernel and biases so that every path carries gradient.
  for (const [name, w] of weights) if (!name.endsWith('conv0.weight')) for (let i = 0; i < w.length; i++) w[i] += 0.3 * random.normal();
  const input = Float32Array.from({ length: n * bands * 23 * 23 }, () => random.normal());
  const feeds = (): Feeds => {
    const f: Feeds = {
      input: { data: input, dims: [n, bands, 23, 23] },
      label: { data: new Float32Array([1, 0, 1]), dims: [n] },
      sample_weight: { data: new Float32Array([0.5, 0.25, 0.25]), dims: [n] },
    };
    for (const spec of parameterSpecs(arch, bands)) f[spec.name] = { data: weights.get(spec.name)!, dims: spec.shape };
    return f;
  };
  const lossAt = async () => (await session.run(feeds(), ['loss'])).loss.data[0];
  const analytic = await session.run(feeds());
  for (const spec of parameterSpecs(arch, bands)) {
    const w = weights.get(spec.name)!;
    const grad = analytic[gradientName(spec.name)].data;
    assert.equal(grad.length, w.length, `${spec.name} gradient size`);
    // Directional derivative along a random direction: one finite difference checks the whole tensor.
    const direction = Float32Array.from({ length: w.length }, () => random.normal());
    const norm = Math.hypot(...direction);
    for (let i = 0; i < w.length; i++) direction[i] /= norm;
    const eps = 1e-3;
    const original = Float32Array.from(w);
    for (let i = 0; i < w.length; i++) w[i] = original[i] + eps * direction[i];
    const plus = await lossAt();
    for (let i = 0; i < w.length; i++) w[i] = original[i] - eps * direction[i];
    const minus = await lossAt();
    w.set(original);
    const numeric = (plus - minus) / (2 * eps);
    let dot = 0;
    for (let i = 0; i < w.length; i++) dot += grad[i] * direction[i];
    const scale = Math.max(Math.abs(numeric), Math.abs(dot), 1e-3);
    assert.ok(Math.abs(numeric - dot) / scale < 1e-2, `${head} ${spec.name}: finite difference ${numeric} vs analytic ${dot}`);
  }
  await session.release();
}

test('gradients of a GCP network match finite differences', () => check('gcp'));
test('gradients of a GAP network match finite differences', () => check('gap'));
