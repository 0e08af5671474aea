// Windows that reach past the scene (prepared-source.ts): outside pixels are mirrored from inside ones and marked
// invalid, whatever side or distance; inside pixels keep their values and validity. Checked pixel by pixel
// against the definition (`mirror`) on a small real-valued scene with a nodata pixel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mirror, preparedArray } from '../../src/prepare/prepared-source.js';

describe('prepared source windows', () => {
  const width = 7;
  const height = 5;
  const bands = 2;
  const values = Float32Array.from({ length: bands * width * height }, (_, i) => (i * 37) % 101);
  values[width * 2 + 3] = NaN; // band 0, row 2, column 3: nodata
  const source = preparedArray(values, bands, width, height, { mean: [0, 0], std: [1, 1] });

  const windows = [
    { x: -3, y: -2, width: 13, height: 9 }, // past every edge
    { x: 4, y: 1, width: 6, height: 2 }, // past the right edge only
    { x: -9, y: 0, width: 4, height: 3 }, // wholly left of the scene
    { x: 1, y: 1, width: 3, height: 3 }, // inside
  ];
  for (const w of windows) {
    it(`mirrors window ${JSON.stringify(w)}`, async () => {
      const { data, valid } = await source.read(w);
      const n = w.width * w.height;
      for (let y = 0; y < w.height; y++) {
        for (let x = 0; x < w.width; x++) {
          const sx = mirror(w.x + x, width);
          const sy = mirror(w.y + y, height);
          const inside = w.x + x >= 0 && w.x + x < width && w.y + y >= 0 && w.y + y < height;
          const nodata = sx === 3 && sy === 2;
          assert.equal(valid[y * w.width + x], inside && !nodata ? 1 : 0, `valid at ${x},${y}`);
          for (let b = 0; b < bands; b++) {
            const expected = nodata ? 0 : values[b * width * height + sy * width + sx];
            assert.equal(data[b * n + y * w.width + x], expected, `band ${b} at ${x},${y}`);
          }
        }
      }
    });
  }
});
