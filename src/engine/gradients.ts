/**
 * Per-layer gradient rules, written as ordinary ONNX ops, for the closed set of layers wdcd networks use:
 * valid 3x3 convolution, ReLU, 2x2 max-pool, GCP, GAP, the linear cloud unit and the logistic loss.
 * Each rule is proven against finite differences in test/engine/gradients.test.ts.
 */
import type { GraphBuilder, Value } from './graph-builder.js';

/**
 * Valid, stride-1 convolution y = conv(x, w) + b.
 * dx: the transposed convolution of dy with the same weights ([out, in, k, k] is already ConvTranspose's layout).
 * dw[o,i,:,:] = sum_n corr(x[n,i], dy[n,o]): a convolution with the batch as channels and dy as the kernel.
 */
export function convBackward(b: GraphBuilder, dy: Value, x: Value, w: Value, needInputGradient: boolean): { dx: Value | null; dw: Value; db: Value } {
  const dx = needInputGradient ? b.node('ConvTranspose', [dy, w], { kernel_shape: [3, 3] }) : null;
  const xT = b.node('Transpose', [x], { perm: [1, 0, 2, 3] });
  const dyT = b.node('Transpose', [dy], { perm: [1, 0, 2, 3] });
  const dwT = b.node('Conv', [xT, dyT]);
  const dw = b.node('Transpose', [dwT], { perm: [1, 0, 2, 3] });
  const db = b.node('ReduceSum', [dy, b.ints([0, 2, 3])], { keepdims: 0 });
  return { dx, dw, db };
}

/** ReLU: the gradient passes where the output is positive. */
export function reluBackward(b: GraphBuilder, dy: Value, y: Value): Value {
  return b.node('Where', [b.node('Greater', [y, b.scalar(0)]), dy, b.scalar(0)]);
}

/**
 * 2x2 stride-2 max-pool (floor mode). The gradient goes to the input that equals its window's maximum; the
 * pooled output and its gradient are repeated 2x2 by reshape + expand. Ties only happen between zeros coming out
 * of a ReLU, whose gradient the ReLU rule then stops, so no tie ever receives gradient twice.
 * Odd rows/columns that floor mode dropped get zero gradient.
 */
export function poolBackward(b: GraphBuilder, dy: Value, x: Value, y: Value, inShape: number[], outShape: number[]): Value {
  const [n, c, h, w] = inShape;
  const [, , ho, wo] = outShape;
  const up = (v: Value) =>
    b.node('Reshape', [b.node('Expand', [b.node('Reshape', [v, b.ints([n, c, ho, 1, wo, 1])]), b.ints([n, c, ho, 2, wo, 2])]), b.ints([n, c, 2 * ho, 2 * wo])]);
  const cropped = 2 * ho === h && 2 * wo === w ? x : b.node('Slice', [x, b.ints([0, 0]), b.ints([2 * ho, 2 * wo]), b.ints([2, 3])]);
  const dxCropped = b.node('Where', [b.node('Equal', [cropped, up(y)]), up(dy), b.scalar(0)]);
  if (cropped === x) return dxCropped;
  return b.node('Pad', [dxCropped, b.ints([0, 0, 0, 0, 0, 0, h - 2 * ho, w - 2 * wo])]);
}

/** GCP g[n,k] = sum_ij W[k,i,j] F[n,k,i,j]. */
export function gcpBackward(b: GraphBuilder, dg: Value, features: Value, kernel: Value): { dFeatures: Value; dKernel: Value } {
  const dg4 = b.node('Unsqueeze', [dg, b.ints([2, 3])]);
  return {
    dFeatures: b.node('Mul', [dg4, kernel]),
    dKernel: b.node('ReduceSum', [b.node('Mul', [features, dg4]), b.ints([0])], { keepdims: 0 }),
  };
}

/** GAP g[n,k] = mean_ij F[n,k,i,j]: every position gets dg / (H W). */
export function gapBackward(b: GraphBuilder, dg: Value, featureShape: number[]): Value {
  const [, , h, w] = featureShape;
  const scaled = b.node('Mul', [b.node('Unsqueeze', [dg, b.ints([2, 3])]), b.scalar(1 / (h * w))]);
  return b.node('Expand', [scaled, b.ints(featureShape)]);
}

/** Linear cloud unit z[n] = sum_k w[k] g[n,k] + bias. */
export function linearBackward(b: GraphBuilder, dz: Value, pooled: Value, weight: Value): { dPooled: Value; dWeight: Value; dBias: Value } {
  const dz2 = b.node('Unsqueeze', [dz, b.ints([1])]);
  return {
    dPooled: b.node('Mul', [dz2, weight]),
    dWeight: b.node('ReduceSum', [b.node('Mul', [pooled, dz2]), b.ints([0])], { keepdims: 0 }),
    dBias: b.node('ReduceSum', [dz, b.ints([0])], { keepdims: 1 }),
  };
}

/**
 * Weighted logistic loss on the cloud logit: L = sum_n s_n (softplus(z_n) - y_n z_n), with per-sample weights s
 * that sum to one (class balance and batch mean in one). dL/dz = s (sigmoid(z) - y).
 */
export function logisticLoss(b: GraphBuilder, z: Value, y: Value, sampleWeight: Value): { loss: Value; dz: Value } {
  // softplus(z) = max(z, 0) + log(1 + exp(-|z|)), stable for large |z|.
  const softplus = b.node('Add', [b.node('Relu', [z]), b.node('Log', [b.node('Add', [b.scalar(1), b.node('Exp', [b.node('Neg', [b.node('Abs', [z])])])])])]);
  const perSample = b.node('Sub', [softplus, b.node('Mul', [y, z])]);
  const loss = b.node('ReduceSum', [b.node('Mul', [perSample, sampleWeight]), b.ints([0])], { keepdims: 1 });
  const dz = b.node('Mul', [sampleWeight, b.node('Sub', [b.node('Sigmoid', [z]), y])]);
  return { loss, dz };
}
