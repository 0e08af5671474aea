import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { polygonizeMask, type MaskPolygon } from '../../src/raster/polygonize.js';

/** Parses a picture: '.' clear, '#' cloud, 'x' nodata. */
function mask(rows: string[]): { m: Uint8Array; w: number; h: number } {
  const m = Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : c === 'x' ? 255 : 0));
  return { m, w: rows[0].length, h: rows.length };
}

const ringPoints = (flat: Int32Array): string[] => Array.from({ length: flat.length / 2 }, (_, i) => `${flat[2 * i]},${flat[2 * i + 1]}`);

/** Even-odd test of a point against every ring of a polygon (holes subtract). */
function covers(p: MaskPolygon, px: number, py: number): boolean {
  let inside = false;
  for (const r of [p.outline, ...p.holes]) {
    const n = r.length / 2;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const [xi, yi, xj, yj] = [r[2 * i], r[2 * i + 1], r[2 * j], r[2 * j + 1]];
      if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

/** 4-connected labels by flood fill, independent of the tracer: -1 where not cloud. */
function labels(m: Uint8Array, w: number, h: number): Int32Array {
  const out = new Int32Array(w * h).fill(-1);
  let next = 0;
  for (let s = 0; s < m.length; s++) {
    if (m[s] !== 1 || out[s] >= 0) continue;
    const stack = [s];
    out[s] = next;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % w;
      const y = (i - x) / w;
      for (const [xx, yy] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]]) {
        const j = yy * w + xx;
        if (xx >= 0 && yy >= 0 && xx < w && yy < h && m[j] === 1 && out[j] < 0) {
          out[j] = next;
          stack.push(j);
        }
      }
    }
    next++;
  }
  return out;
}

/** Every polygon covers exactly the pixel centres of one 4-connected region, and its rings are simple. */
function checkAgainstRegions(m: Uint8Array, w: number, h: number): MaskPolygon[] {
  const polygons = [...polygonizeMask(m, w, h)];
  const lab = labels(m, w, h);
  const regionCount = Math.max(-1, ...lab) + 1;
  assert.equal(polygons.length, regionCount, 'one polygon per 4-connected region');
  const claimed = new Set<number>();
  for (const p of polygons) {
    let region = -1;
    let pixels = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!covers(p, x + 0.5, y + 0.5)) continue;
        pixels++;
        const l = lab[y * w + x];
        assert.ok(l >= 0, `polygon covers non-cloud pixel ${x},${y}`);
        if (region < 0) region = l;
        assert.equal(l, region, 'a polygon covers one region');
      }
    }
    assert.ok(!claimed.has(region), 'two polygons for one region');
    claimed.add(region);
    assert.equal(pixels, lab.filter((l) => l === region).length, 'the polygon covers its whole region');
    assert.equal(p.pixels, pixels, 'pixels property is the covered count');
    for (const r of [p.outline, ...p.holes]) {
      const pts = ringPoints(r);
      assert.ok(pts.length >= 4, 'a ring has at least 4 corners');
      assert.equal(new Set(pts).size, pts.length, `ring passes a corner twice: ${pts.join(' ')}`);
    }
  }
  return polygons;
}

describe('polygonizeMask', () => {
  it('a single pixel is a unit square, its corners only', () => {
    const { m, w, h } = mask(['...', '.#.', '...']);
    const [p, ...rest] = polygonizeMask(m, w, h);
    assert.equal(rest.length, 0);
    assert.deepEqual(ringPoints(p.outline).sort(), ['1,1', '1,2', '2,1', '2,2']);
    assert.deepEqual(p.holes, []);
    assert.equal(p.pixels, 1);
    assert.deepEqual(p.bounds, [1, 1, 2, 2]);
  });

  it('a ring of cloud has one hole; an island in the hole is its own polygon; nodata is not cloud', () => {
    const { m, w, h } = mask(['#######', '#.....#', '#.x#..#', '#.....#', '#######']);
    const [island, ring, ...rest] = checkAgainstRegions(m, w, h);
    assert.equal(rest.length, 0);
    assert.equal(island.pixels, 1, 'the island ends first, on row 2');
    assert.equal(ring.holes.length, 1);
    assert.equal(ring.pixels, 20);
    assert.deepEqual(ringPoints(ring.holes[0]).sort(), ['1,1', '1,4', '6,1', '6,4']);
  });

  it('pixels meeting at a corner are separate regions (4-connectivity, as gdal_polygonize)', () => {
    const { m, w, h } = mask(['#.', '.#']);
    const polygons = checkAgainstRegions(m, w, h);
    assert.equal(polygons.length, 2);
  });

  it('a pocket pinched at a corner becomes a hole touching the outline, not a self-touching outline', () => {
    // The clear pixel at (2,1) reaches the outside only through the corner (3,1)... (3,0) is cloud-free above.
    const { m, w, h } = mask(['###.', '##.#', '####']);
    const [p, ...rest] = checkAgainstRegions(m, w, h);
    assert.equal(rest.length, 0);
    assert.equal(p.holes.length, 1);
    assert.deepEqual(ringPoints(p.holes[0]).sort(), ['2,1', '2,2', '3,1', '3,2']);
  });

  it('a hole pinched into two at a corner is two holes', () => {
    const { m, w, h } = mask(['#####', '#.###', '##.##', '#####']);
    const [p] = checkAgainstRegions(m, w, h);
    assert.equal(p.holes.length, 2);
  });

  it('regions touching the image edges and a full mask close along the border', () => {
    checkAgainstRegions(...Object.values(mask(['##..', '##..', '...#'])) as [Uint8Array, number, number]);
    const { m, w, h } = mask(['###', '###']);
    const [p] = checkAgainstRegions(m, w, h);
    assert.deepEqual(ringPoints(p.outline).sort(), ['0,0', '0,2', '3,0', '3,2']);
    assert.deepEqual([...polygonizeMask(new Uint8Array(6), 3, 2)], []);
  });

  it('random masks: every region traced exactly, rings simple (seeded, several densities)', () => {
    let s = 12345;
    const rand = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (const density of [0.2, 0.45, 0.55, 0.8]) {
      for (let t = 0; t < 5; t++) {
        const w = 23 + t * 3;
        const h = 17 + t * 2;
        const m = Uint8Array.from({ length: w * h }, () => (rand() < density ? 1 : rand() < 0.1 ? 255 : 0));
        checkAgainstRegions(m, w, h);
      }
    }
  });

  it('refuses a mask of the wrong length', () => {
    assert.throws(() => [...polygonizeMask(new Uint8Array(5), 2, 3)], /expected 2 x 3/);
  });
});
