// Windows that reach past the scene (prepared-source.ts): outside pixels are mirrored from inside ones and marked
// invalid, whatever side or distance; inside pixels keep their values and validity. Checked pixel by pixel
// against the definition (`mirror`) on a small real-valued scene with a nodata pixel. A scene prepared over a
// column range (one stripe) gives the values of the scene prepared whole, nodata fill included, on the real
// Landsat scene whose footprint edges cross the range's sides. Reading top to bottom in overlapping windows, as
// detection does (strips and raw samples reused, windows given back to the shared pool and handed out again with
// the last window's values in them), gives the values of one whole read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharedFloats } from '../../src/engine/shared-floats.js';
import { mirror, preparedArray, preparedRaster, stripRowsFor, StripMemory, STRIP_ROWS } from '../../src/prepare/prepared-source.js';
import { openRaster } from '../../src/raster/open.js';
import { resolveBands } from '../../src/raster/sensors.js';

const L8 = ['B2', 'B3', 'B4', 'B5'].map((b) => `/work/shared/data/landsat8-scene-120m/LC80130312015295LGN00_${b}_toa.tif`);

describe('prepared over a column range', () => {
  it('equals the scene prepared whole, where nodata runs cross the range sides (nearest valid pixel beyond them)', async () => {
    const raster = await openRaster(L8);
    try {
      const mapping = resolveBands('landsat8-biome', raster.bandCount);
      const norm = { mean: [0.1, 0.1, 0.1, 0.2], std: [0.1, 0.1, 0.1, 0.1] };
      const [x0, x1] = [150, 350];
      const window = { x: x0, y: 0, width: x1 - x0, height: raster.height };
      const whole = await preparedRaster(raster, mapping, norm).read(window);
      const part = await preparedRaster(raster, mapping, norm, { columns: [x0, x1], stripRows: 64 }).read(window);
      assert.deepEqual(part.valid, whole.valid);
      assert.deepEqual(part.data, whole.data);
      // The case the full-row fallback is for: rows whose nodata run reaches a side of the range while the row
      // holds data beyond that side only.
      const w = x1 - x0;
      let cut = 0;
      for (let y = 0; y < raster.height; y++) {
        const row = whole.valid.subarray(y * w, (y + 1) * w);
        if (row.indexOf(1) < 0 || (!row[0] || !row[w - 1])) {
          const [blue] = await raster.readWindow({ x: 0, y, width: raster.width, height: 1 });
          if (blue.some((v) => v > 0)) cut++;
        }
      }
      assert.ok(cut > 20, `${cut} rows with a nodata run cut by the range`);
      await assert.rejects(() => preparedRaster(raster, mapping, norm, { columns: [x0, x1] }).read({ ...window, x: x0 - 1 }), /outside the prepared columns/);
    } finally {
      await raster.close();
    }
  });
});

/** The Landsat scene opened and prepared whole, for reads in parts to be compared with. */
async function landsatWhole() {
  const raster = await openRaster(L8);
  const mapping = resolveBands('landsat8-biome', raster.bandCount);
  const norm = { mean: [0.1, 0.1, 0.1, 0.2], std: [0.1, 0.1, 0.1, 0.1] };
  const { width, height } = raster;
  const whole = await preparedRaster(raster, mapping, norm).read({ x: 0, y: 0, width, height });
  return { raster, mapping, norm, width, height, whole };
}

describe('prepared top to bottom', () => {
  it('gives every window the values of one whole read, though strips, samples and windows are reused', async () => {
    const { raster, mapping, norm, width, height, whole } = await landsatWhole();
    try {
      const stream = preparedRaster(raster, mapping, norm, { stripRows: 32, lookBehind: 40 });
      let windows = 0;
      // Steps back as detection's reads do: each window starts 40 rows above the last one's end.
      for (let y = -6; y < height; y += 24) {
        const w = { x: -6, y, width: width + 12, height: 64 };
        const got = await stream.read(w);
        const n = w.width * w.height;
        for (let r = 0; r < w.height; r++) {
          const sy = mirror(w.y + r, height);
          for (let b = 0; b < 4; b++) {
            const row = got.data.subarray(b * n + r * w.width + 6, b * n + r * w.width + 6 + width);
            const expected = whole.data.subarray(b * width * height + sy * width, b * width * height + (sy + 1) * width);
            assert.deepEqual(row, expected, `band ${b}, window row ${w.y + r}`);
          }
        }
        sharedFloats.give(got.data);
        windows++;
      }
      assert.ok(windows > 10 && height > 4 * 32, `${windows} windows over ${height} rows, strips of 32`);
    } finally {
      await raster.close();
    }
  });

  it('column stripes read one after another pass their strips and row runs on: the values of one whole read, no new strips after the first stripe, no row read whole twice', async () => {
    const { raster, mapping, norm, width, height, whole } = await landsatWhole();
    try {
      const memory = new StripMemory();
      const made: ArrayBufferLike[][] = [];
      const take = memory.take.bind(memory);
      memory.take = (d, v) => {
        const strip = take(d, v);
        made[made.length - 1].push(strip.data.buffer);
        return strip;
      };
      // Rows read whole for the nodata fill at the stripes' sides: once each, whatever the stripes after.
      const wholeRows = new Uint16Array(height);
      const readWindow = raster.readWindow.bind(raster);
      raster.readWindow = (w, ...rest) => {
        if (w.width === width) for (let y = w.y; y < w.y + w.height; y++) wholeRows[y]++;
        return readWindow(w, ...rest);
      };
      const stripe = 120;
      for (let x0 = 0; x0 + stripe <= width; x0 += stripe) {
        made.push([]);
        const source = preparedRaster(raster, mapping, norm, { columns: [x0, x0 + stripe], stripRows: 32, lookBehind: 40, memory });
        for (let y = -6; y < height; y += 24) {
          const w = { x: x0, y, width: stripe, height: 64 };
          const got = await source.read(w);
          const n = w.width * w.height;
          for (let r = 0; r < w.height; r++) {
            const sy = mirror(w.y + r, height);
            for (let b = 0; b < 4; b++) {
              const row = got.data.subarray(b * n + r * stripe, b * n + (r + 1) * stripe);
              const from = b * width * height + sy * width + x0;
              assert.deepEqual(row, whole.data.subarray(from, from + stripe), `stripe at ${x0}, band ${b}, window row ${w.y + r}`);
            }
          }
          sharedFloats.give(got.data);
        }
        source.release!();
      }
      assert.ok(made.length >= 3, `${made.length} stripes`);
      assert.ok(wholeRows.filter((n) => n > 0).length > 20, 'rows are read whole for the fill');
      assert.ok(wholeRows.every((n) => n <= 1), `a row read whole ${Math.max(...wholeRows)} times`);
      const first = new Set(made[0]);
      for (const [i, buffers] of made.entries()) assert.ok(buffers.every((b) => first.has(b)), `stripe ${i} made a new strip`);
    } finally {
      await raster.close();
    }
  });

  it('reads strips as tall as the file\'s blocks, so each block is decoded once', async () => {
    const raster = await openRaster(L8);
    try {
      assert.equal(raster.blockRows, 4, 'the band files are stored in 4-row strips');
      assert.equal(stripRowsFor(raster), STRIP_ROWS);
      for (const [blockRows, strip] of [[128, STRIP_ROWS], [512, 512], [300, 300], [1024, 1024], [4096, STRIP_ROWS]]) {
        assert.equal(stripRowsFor({ ...raster, blockRows }), strip, `blocks of ${blockRows} rows`);
      }
      // The scene seen as stored in 300-row blocks: reading it top to bottom as detection does, every read starts
      // on a block boundary and no row is read twice.
      const reads: { y: number; height: number }[] = [];
      const tiled = { ...raster, blockRows: 300, readWindow: (w: Parameters<typeof raster.readWindow>[0], bands?: number[], into?: Float32Array[]) => {
        reads.push({ y: w.y, height: w.height });
        return raster.readWindow(w, bands, into);
      } };
      const mapping = resolveBands('landsat8-biome', raster.bandCount);
      const stream = preparedRaster(tiled, mapping, { mean: [0, 0, 0, 0], std: [1, 1, 1, 1] }, { lookBehind: 40 });
      for (let y = -6; y < raster.height; y += 24) sharedFloats.give((await stream.read({ x: 0, y, width: raster.width, height: 64 })).data);
      assert.deepEqual(reads, [{ y: 0, height: 300 }, { y: 300, height: raster.height - 300 }]);
    } finally {
      await raster.close();
    }
  });
});

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
