/**
 * Clean-up of cloud masks coded 0 clear, 1 cloud, 255 nodata. Both operations return a new mask, change only
 * clear and cloud pixels (nodata is never grown into, eroded or counted) and use 8-connectivity: pixels
 * touching at a corner are neighbours.
 */

import { CLEAR, CLOUD, NODATA } from '../mask-codes.js';

export { CLEAR, CLOUD, NODATA };

function checkSize(mask: Uint8Array, width: number, height: number): void {
  if (mask.length !== width * height) throw new RangeError(`mask has ${mask.length} pixels, expected ${width} x ${height}`);
}

/**
 * Grows cloud by a disc of `radiusPx` (Euclidean distance <= radius): a clear pixel becomes cloud when a cloud
 * pixel lies within the radius. Radius 1 is the 3x3 cross, radius 1.5 the full 3x3 square.
 * Cost O(width * height * radius), using per-row distances to the nearest cloud pixel.
 */
export function dilate(mask: Uint8Array, width: number, height: number, radiusPx: number): Uint8Array {
  checkSize(mask, width, height);
  const out = mask.slice();
  const r = Math.floor(radiusPx);
  if (r < 1) return out;
  // rowDist[i]: horizontal distance from pixel i to the nearest cloud pixel in its row, capped at r + 1.
  const cap = r + 1;
  const rowDist = new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let d = cap;
    for (let x = 0; x < width; x++) {
      d = mask[row + x] === CLOUD ? 0 : Math.min(d + 1, cap);
      rowDist[row + x] = d;
    }
    d = cap;
    for (let x = width - 1; x >= 0; x--) {
      d = mask[row + x] === CLOUD ? 0 : Math.min(d + 1, cap);
      if (d < rowDist[row + x]) rowDist[row + x] = d;
    }
  }
  // Half-width of the disc at vertical offset dy.
  const half = Array.from({ length: r + 1 }, (_, dy) => Math.floor(Math.sqrt(radiusPx * radiusPx - dy * dy) + 1e-9));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (mask[i] !== CLEAR) continue;
      for (let dy = -r; dy <= r; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        if (rowDist[yy * width + x] <= half[Math.abs(dy)]) {
          out[i] = CLOUD;
          break;
        }
      }
    }
  }
  return out;
}

/** Sets cloud regions (8-connected) of fewer than `minSize` pixels to clear. */
export function removeSmall(mask: Uint8Array, width: number, height: number, minSize: number): Uint8Array {
  checkSize(mask, width, height);
  const out = mask.slice();
  if (minSize <= 1) return out;
  const seen = new Uint8Array(width * height);
  // The current region's pixels; also the flood-fill stack (pixels at index >= `next` are still to expand).
  const region = new Int32Array(width * height);
  for (let start = 0; start < out.length; start++) {
    if (out[start] !== CLOUD || seen[start]) continue;
    let size = 0;
    region[size++] = start;
    seen[start] = 1;
    for (let next = 0; next < size; next++) {
      const i = region[next];
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const j = yy * width + xx;
          if (out[j] === CLOUD && !seen[j]) {
            seen[j] = 1;
            region[size++] = j;
          }
        }
      }
    }
    if (size < minSize) for (let k = 0; k < size; k++) out[region[k]] = CLEAR;
  }
  return out;
}
