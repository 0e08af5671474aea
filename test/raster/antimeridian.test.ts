// Cutting polygons at the antimeridian (RFC 7946 section 3.1.9): parts on either side, areas kept, holes kept.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cutAtAntimeridian, type LonLat, type LonLatPolygon } from '../../src/raster/antimeridian.js';

/** A closed ring through the given corners. */
const ring = (...points: LonLat[]): LonLat[] => [...points, points[0]];
/** Signed area (positive counter-clockwise) in square degrees, longitudes taken as given. */
function signedArea(r: LonLat[]): number {
  let doubled = 0;
  for (let i = 0; i + 1 < r.length; i++) doubled += r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1];
  return doubled / 2;
}
const area = (polygon: LonLatPolygon): number => polygon.reduce((sum, r) => sum + signedArea(r), 0);
/** The parts' total area, and which side (-1 west of 180 W, 1 east of 180 E) each lies on. */
function describeParts(parts: LonLatPolygon[]): { area: number; sides: number[] } {
  return {
    area: parts.reduce((sum, p) => sum + area(p), 0),
    sides: parts.map((p) => {
      const lons = p.flat().map((q) => q[0]);
      assert.ok(lons.every((lon) => lon >= -180 && lon <= 180), `longitudes in -180..180: ${lons}`);
      assert.ok(Math.max(...lons) - Math.min(...lons) < 180, 'no part runs round the globe');
      return Math.sign(lons[0]);
    }),
  };
}

describe('cutAtAntimeridian', () => {
  it('a polygon that does not cross is left alone', () => {
    assert.equal(cutAtAntimeridian([ring([10, 0], [11, 0], [11, 1], [10, 1])]), null);
    assert.equal(cutAtAntimeridian([ring([179, 0], [180, 0], [180, 1], [179, 1])]), null);
  });

  it('a square across 180 degrees becomes two parts, one on each side, its area kept, outlines counter-clockwise', () => {
    const square = [ring([179.5, 10], [-179.5, 10], [-179.5, 11], [179.5, 11])];
    const parts = cutAtAntimeridian(square)!;
    assert.equal(parts.length, 2);
    const { area: total, sides } = describeParts(parts);
    assert.deepEqual(sides.sort(), [-1, 1]);
    assert.ok(Math.abs(total - 1) < 1e-12, `area ${total}`);
    for (const part of parts) {
      assert.ok(signedArea(part[0]) > 0);
      assert.ok(Math.abs(area(part) - 0.5) < 1e-12);
      // Each part meets the line exactly.
      assert.ok(part[0].some(([lon]) => Math.abs(lon) === 180));
    }
    // The same polygon started on the western side gives the same parts.
    const fromWest = cutAtAntimeridian([ring([-179.5, 10], [-179.5, 11], [179.5, 11], [179.5, 10]).reverse()])!;
    assert.ok(Math.abs(describeParts(fromWest).area - 1) < 1e-12);
    assert.equal(fromWest.length, 2);
  });

  it('holes: one on a side stays a hole of that part; one across the line opens both parts into notches', () => {
    const outline = ring([178, 0], [-178, 0], [-178, 4], [178, 4]);
    const westHole = ring([178.5, 1], [178.5, 2], [179, 2], [179, 1]);
    const parts = cutAtAntimeridian([outline, westHole])!;
    assert.equal(parts.length, 2);
    const east = parts.find((p) => p[0][0][0] > 0)!;
    assert.equal(east.length, 2, 'the eastern-hemisphere part (178 E to 180) keeps the hole');
    assert.ok(signedArea(east[1]) < 0, 'holes clockwise');
    assert.ok(Math.abs(describeParts(parts).area - (16 - 0.5)) < 1e-9);

    const crossingHole = ring([179, 1], [179, 3], [-179, 3], [-179, 1]);
    const notched = cutAtAntimeridian([outline, crossingHole])!;
    assert.equal(notched.length, 2);
    assert.ok(notched.every((p) => p.length === 1), 'the hole is open to the line on both sides');
    assert.ok(Math.abs(describeParts(notched).area - (16 - 4)) < 1e-9);
  });

  it('a U-shaped polygon across the line twice gives three parts', () => {
    // Its base lies in the eastern hemisphere (179 E to 179.5 E), its two arms reach across the line to 179 W.
    const u = [ring([179, 0], [-179, 0], [-179, 1], [179.5, 1], [179.5, 2], [-179, 2], [-179, 3], [179, 3])];
    const parts = cutAtAntimeridian(u)!;
    const { area: total, sides } = describeParts(parts);
    assert.equal(parts.length, 3);
    assert.deepEqual(sides.sort(), [-1, -1, 1]);
    assert.ok(Math.abs(total - area([unwrapForArea(u[0])])) < 1e-9);
  });

  it('a ring round a pole is not cut (no half-plane split describes it)', () => {
    const polar = [ring([0, 85], [90, 85], [180, 85], [-90, 85])];
    assert.equal(cutAtAntimeridian(polar), null);
  });
});

/** The ring with longitudes moved east of 0, for its area. */
function unwrapForArea(r: LonLat[]): LonLat[] {
  return r.map(([lon, lat]) => [lon < 0 ? lon + 360 : lon, lat]);
}
