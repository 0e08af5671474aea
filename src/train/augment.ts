/**
 * The eight flips and quarter turns of a square block (the dihedral group): cloud has no preferred orientation,
 * so each is an equally valid training example. Operates on band-sequential [bands, size, size] arrays.
 */
export function dihedral(src: Float32Array, bands: number, size: number, transform: number, out: Float32Array, outOffset = 0): void {
  const n = size * size;
  const flip = transform >= 4;
  const turns = transform % 4;
  for (let b = 0; b < bands; b++) {
    const base = b * n;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let sx = flip ? size - 1 - x : x;
        let sy = y;
        for (let t = 0; t < turns; t++) [sx, sy] = [sy, size - 1 - sx];
        out[outOffset + base + y * size + x] = src[base + sy * size + sx];
      }
    }
  }
}

/** The most each jitter moves a block at strength 1 (factors are exp(±value)). */
const JITTER_RANGE = { gamma: 0.4, contrast: 0.3, brightness: 0.2, bandGain: 0.1 };

/**
 * Photometric jitter of one block in place: a random gamma, a contrast change about the block's mean, a
 * brightness and a gain per band, drawn uniformly in log scale with `strength` from 0 (none) to 1. Display RGB
 * from different processors differs exactly so (tone curve, stretch, colour balance), and a network trained on one
 * sensor's renderings should not learn them. Values stay at or above 0 and at or below the larger of 1 and the
 * block's own maximum, as a display product saturates and reflectance rarely passes 1.
 */
export function colourJitter(
  data: Float32Array,
  bands: number,
  size: number,
  strength: number,
  random: { next(): number },
  offset = 0,
): void {
  const draw = (range: number) => Math.exp((2 * random.next() - 1) * range * strength);
  const gamma = draw(JITTER_RANGE.gamma);
  const contrast = draw(JITTER_RANGE.contrast);
  const brightness = draw(JITTER_RANGE.brightness);
  const gains = Array.from({ length: bands }, () => brightness * draw(JITTER_RANGE.bandGain));
  const length = bands * size * size;
  let ceiling = 1;
  let sum = 0;
  let count = 0;
  for (let i = offset; i < offset + length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) continue;
    if (v > ceiling) ceiling = v;
    const toned = Math.max(v, 0) ** gamma;
    data[i] = toned;
    sum += toned;
    count++;
  }
  const mean = count > 0 ? sum / count : 0;
  const n = size * size;
  for (let b = 0; b < bands; b++) {
    const start = offset + b * n;
    for (let i = start; i < start + n; i++) {
      const v = data[i];
      if (Number.isFinite(v)) data[i] = Math.min(Math.max((mean + (v - mean) * contrast) * gains[b], 0), ceiling);
    }
  }
}
