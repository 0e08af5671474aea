// Global convolutional pooling (GCP) against global average pooling, and the paper's network (wdcd-vgg16):
// its size, its final map, one training step and one LPP activation map.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockGrid } from '../../src/detect/block-grid.js';
import { scoreBlocks } from '../../src/detect/block-scores.js';
import { perBlockCam } from '../../src/detect/per-block-cam.js';
import { buildFeatureGraph, buildScoringGraph } from '../../src/engine/inference-graphs.js';
import { Session, type Fetched } from '../../src/engine/session.js';
import { buildTrainingGraph, gradientName } from '../../src/engine/training-graph.js';
import { WDCD_VGG16, featureChannels, outputSide, poolIndices, type Architecture } from '../../src/model/architecture.js';
import { Network } from '../../src/model/network.js';
import { initialWeights, parameterSpecs, sizeOf, type Weights } from '../../src/model/parameters.js';
import { preparedArray } from '../../src/prepare/prepared-source.js';
import { Random } from '../../src/random.js';
import { tinyArchitecture, tinyModel } from './tiny-model.js';

const BANDS = 4;

async function score(arch: Architecture, weights: Weights, input: Float32Array, n: number) {
  const session = await Session.create(buildScoringGraph(arch, BANDS, weights), { threads: 1 });
  try {
    const out = await session.run({ input: { data: input, dims: [n, BANDS, arch.blockSize, arch.blockSize] } });
    return { logit: out.logit.data, pooled: out.pooled.data };
  } finally {
    await session.release();
  }
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * scale, `${label}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

describe('GCP head', () => {
  const gcpArch = tinyArchitecture(48, 'gcp');
  const gapArch = tinyArchitecture(48, 'gap');
  const side = outputSide(gcpArch.layers, gcpArch.blockSize);
  const C = featureChannels(gcpArch.layers);
  const n = 3;
  const random = new Random(5);
  const input = Float32Array.from({ length: n * BANDS * 48 * 48 }, () => random.normal());
  // Random conv biases too, so that the features are not just rectified zero-mean noise.
  const weights = initialWeights(gcpArch, BANDS, 3);
  for (const [name, w] of weights) if (name.endsWith('.bias')) for (let i = 0; i < w.length; i++) w[i] = 0.1 * random.normal();

  it('starts as a uniform 1/S^2 kernel and then equals global average pooling', async () => {
    assert.equal(side, 7);
    const kernel = weights.get('gcp.weight')!;
    assert.equal(kernel.length, C * side * side);
    for (const v of kernel) assert.equal(v, Math.fround(1 / (side * side)));
    // The GAP network has no gcp.weight; the same map serves both (the GAP graph ignores the extra tensor).
    assert.ok(!parameterSpecs(gapArch, BANDS).some((s) => s.name === 'gcp.weight'));
    const gcp = await score(gcpArch, weights, input, n);
    const gap = await score(gapArch, weights, input, n);
    assert.equal(gcp.pooled.length, n * C);
    assert.ok(gap.pooled.some((v) => v > 0.01), 'the pooled responses are not all zero');
    assertClose(gcp.pooled, gap.pooled, 1e-5, 'pooled');
    assertClose(gcp.logit, gap.logit, 1e-5, 'logit');
    // The logit is the linear unit on the pooled responses.
    const fc = weights.get('fc.weight')!;
    const bias = weights.get('fc.bias')![0];
    for (let s = 0; s < n; s++) {
      let z = bias;
      for (let k = 0; k < C; k++) z += fc[k] * gcp.pooled[s * C + k];
      assert.ok(Math.abs(z - gcp.logit[s]) < 1e-4, `logit ${s}`);
    }
  });

  it('a non-uniform kernel weights positions: g_k = sum_ij W[k,i,j] F[k,i,j], no longer the average', async () => {
    const shaped = new Map(weights);
    const kernel = Float32Array.from({ length: C * side * side }, () => random.next() * 0.2);
    shaped.set('gcp.weight', kernel);
    const gcp = await score(gcpArch, shaped, input, n);
    // The final (pooled-network) feature maps, from the feature graph with no pool pruned.
    const session = await Session.create(buildFeatureGraph(gcpArch, BANDS, weights, new Set()), { threads: 1 });
    const features = (await session.run({ input: { data: input, dims: [n, BANDS, 48, 48] } })).features;
    await session.release();
    assert.deepEqual(features.dims, [n, C, side, side]);
    const expected = new Float32Array(n * C);
    for (let s = 0; s < n; s++) {
      for (let k = 0; k < C; k++) {
        let g = 0;
        for (let p = 0; p < side * side; p++) g += kernel[k * side * side + p] * features.data[(s * C + k) * side * side + p];
        expected[s * C + k] = g;
      }
    }
    assertClose(gcp.pooled, expected, 1e-5, 'pooled');
    const gap = await score(gapArch, weights, input, n);
    const differs = gcp.logit.some((z, i) => Math.abs(z - gap.logit[i]) > 1e-3);
    assert.ok(differs, 'a shaped kernel must change the logits');
  });
});

describe('wdcd-vgg16, the paper network', () => {
  const arch = WDCD_VGG16;

  it('has ~10.4 M parameters and a 20 x 20 x 1024 final map for 250 px blocks', () => {
    // By hand: ten 3x3 convs (weights + biases), a 20 x 20 kernel per channel, the 1024 -> 1 unit.
    const convs = [[4, 64], [64, 64], [64, 128], [128, 128], [128, 256], [256, 256], [256, 256], [256, 512], [512, 512], [512, 1024]];
    const expected = convs.reduce((s, [i, o]) => s + o * i * 9 + o, 0) + 1024 * 20 * 20 + 1024 + 1;
    const count = parameterSpecs(arch, 4).reduce((s, p) => s + sizeOf(p.shape), 0);
    assert.equal(count, expected);
    assert.ok(count > 10.35e6 && count < 10.45e6, `${count} parameters`);
    assert.equal(arch.blockSize, 250);
    assert.equal(outputSide(arch.layers, 250), 20);
    assert.equal(featureChannels(arch.layers), 1024);
    assert.deepEqual(poolIndices(arch.layers), [2, 5, 9]);
    // LPP with every pool pruned: 250 - 2 * 10 convs = 230 px, as METHOD.md says.
    assert.equal(outputSide(arch.layers, 250, new Set(poolIndices(arch.layers))), 230);
    assert.deepEqual(parameterSpecs(arch, 4).find((s) => s.name === 'gcp.weight')!.shape, [1024, 20, 20]);
  });

  // ~27 GFLOP forward, ~3x that for the step: ~5 s on 2 idle cores. The pruned pass prunes only the last pool
  // (all pools would be ~1 TFLOP).
  it('one training step (batch 1) and a 250 px activation map (prune last)', { timeout: 30_000 }, async () => {
    const weights = initialWeights(arch, 4, 1);
    const random = new Random(9);
    const block = Float32Array.from({ length: 4 * 250 * 250 }, () => random.normal());
    const session = await Session.create(buildTrainingGraph(arch, 4, 1));
    const specs = parameterSpecs(arch, 4);
    let out: Fetched;
    try {
      const feeds: Record<string, { data: Float32Array; dims: number[] }> = {
        input: { data: block, dims: [1, 4, 250, 250] },
        label: { data: new Float32Array([1]), dims: [1] },
        sample_weight: { data: new Float32Array([1]), dims: [1] },
      };
      for (const s of specs) feeds[s.name] = { data: weights.get(s.name)!, dims: s.shape };
      out = await session.run(feeds);
    } finally {
      await session.release();
    }
    const loss = out.loss.data[0];
    const z = out.logit.data[0];
    assert.ok(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
    // Logistic loss of label 1: softplus(-z); its gradient for the bias: sigmoid(z) - 1.
    assert.ok(Math.abs(loss - Math.log1p(Math.exp(-z))) < 1e-4, `loss ${loss} for logit ${z}`);
    assert.ok(Math.abs(out[gradientName('fc.bias')].data[0] - (1 / (1 + Math.exp(-z)) - 1)) < 1e-4);
    for (const s of specs) {
      const g = out[gradientName(s.name)];
      assert.deepEqual(g.dims, s.shape, `${s.name} gradient shape`);
      assert.equal(g.data.length, sizeOf(s.shape));
      assert.ok(g.data.every(Number.isFinite), `${s.name} gradient finite`);
      assert.ok(g.data.some((v) => v !== 0), `${s.name} gradient not all zero`);
    }

    const model = tinyModel(arch, { seed: 1, prunedPools: [9], gate: false });
    model.weights = weights;
    const network = new Network(model, new Set([9]), { threads: 0 });
    try {
      assert.equal(network.geometry.stride, 4); // two pools kept
      const source = preparedArray(block, 4, 250, 250, { mean: [0, 0, 0, 0], std: [1, 1, 1, 1] });
      const grid = blockGrid(250, 250, 250, 250);
      const scores = await scoreBlocks(network, source, grid);
      assert.ok(Math.abs(scores.logit[0] - z) < 1e-3 * Math.max(1, Math.abs(z)), 'the scoring graph gives the training graph logit');
      const { cam, width, height } = await perBlockCam(network, source, grid, scores, { gate: false });
      assert.equal(width, 250);
      assert.equal(height, 250);
      let sum = 0;
      let min = Infinity;
      let max = -Infinity;
      for (const v of cam) {
        assert.ok(Number.isFinite(v));
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      assert.ok(max > min, 'the map has spatial detail');
      // The lattice mean equals the logit exactly; interpolation onto pixels moves the pixel mean only a little.
      assert.ok(Math.abs(sum / cam.length - z) < 0.05 * Math.max(Math.abs(z), max - min), `CAM mean ${sum / cam.length} vs logit ${z}`);
    } finally {
      await network.release();
    }
  });
});
