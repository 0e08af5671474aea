/**
 * LPP's carry-over from the pooled network to the pruned one (METHOD.md section 3), per block b:
 * s_k = g_k / mean_b(F'_k), and the block's activation map CAM_b = bias + sum_k w_k s_k F'_k, so that the map's
 * mean over the block equals the block's cloud logit. Stored as a_k = w_k s_k and beta = bias.
 * A channel whose pruned mean is ~0 over the block cannot be rescaled; its evidence w_k g_k goes into beta, which
 * keeps the identity exact. The block gate replaces a block classified clear (logit < 0) by a flat map at its
 * logit: it keeps the identity and drops the block's spatial detail, which is where false alarms come from.
 */
export interface BlockWeights {
  /** [blocks, channels] */
  a: Float32Array;
  beta: Float32Array;
  /** 0 for blocks without one valid pixel: they take no part in the mosaic. */
  used: Uint8Array;
}

const TINY = 1e-6;

export function channelWeights(
  index: number,
  logit: number,
  pooled: Float32Array,
  featureSum: Float64Array,
  validCount: number,
  classifier: { weight: Float32Array; bias: number },
  gate: boolean,
  out: BlockWeights,
): void {
  const channels = classifier.weight.length;
  const base = index * channels;
  out.used[index] = validCount > 0 ? 1 : 0;
  if (validCount === 0) return;
  if (gate && logit < 0) {
    out.a.fill(0, base, base + channels);
    out.beta[index] = logit;
    return;
  }
  let beta = classifier.bias;
  for (let k = 0; k < channels; k++) {
    const mean = featureSum[k] / validCount;
    const g = pooled[base + k];
    if (Math.abs(mean) > TINY) out.a[base + k] = (classifier.weight[k] * g) / mean;
    else {
      out.a[base + k] = 0;
      beta += classifier.weight[k] * g;
    }
  }
  out.beta[index] = beta;
}

export function emptyWeights(blocks: number, channels: number): BlockWeights {
  return { a: new Float32Array(blocks * channels), beta: new Float32Array(blocks), used: new Uint8Array(blocks) };
}
