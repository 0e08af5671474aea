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
