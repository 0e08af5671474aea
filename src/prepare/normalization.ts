/** Per-band input normalisation, (value - mean) / std, estimated on the training blocks and stored in the model. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export function estimateNormalization(blocks: { bands: Float32Array; bandCount: number }[]): Normalization {
  const bandCount = blocks[0].bandCount;
  const sum = new Float64Array(bandCount);
  const sumSq = new Float64Array(bandCount);
  let count = 0;
  for (const block of blocks) {
    const n = block.bands.length / bandCount;
    for (let b = 0; b < bandCount; b++) {
      for (let i = b * n; i < (b + 1) * n; i++) {
        const v = block.bands[i];
        sum[b] += v;
        sumSq[b] += v * v;
      }
    }
    count += n;
  }
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sumSq, (s, b) => Math.sqrt(Math.max(s / count - mean[b] ** 2, 0)) || 1);
  return { mean, std };
}

/** Normalises band-sequential values in place. */
export function normalizeInPlace(values: Float32Array, bandCount: number, norm: Normalization, offset = 0, length = values.length): void {
  const n = length / bandCount;
  for (let b = 0; b < bandCount; b++) {
    const m = norm.mean[b];
    const s = 1 / norm.std[b];
    const start = offset + b * n;
    for (let i = start; i < start + n; i++) values[i] = (values[i] - m) * s;
  }
}
