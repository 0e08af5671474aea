/**
 * Polygons that cross the antimeridian, cut there as RFC 7946 (section 3.1.9) asks: a cloud over Fiji, Chukotka or
 * the Aleutians, mapped in UTM zone 1 or 60, would otherwise run from longitude 179.9 to -179.9 the long way round
 * the globe, and web maps draw a band across the whole world. Like GDAL's RFC 7946 writer, each such polygon is
 * written as a MultiPolygon of its parts east and west of the line.
 *
 * The cut is a boolean intersection of the unwrapped polygon (longitudes made continuous across 180) with the
 * half-planes on either side of the line, made by polyclip-ts (the clipping library of Turf): a polygon with holes
 * and many crossings can give any number of parts, each of which must stay a valid simple feature, which a
 * hand-made line split would have to get right in every case.
 */
import { intersection } from 'polyclip-ts';

/** [longitude, latitude] in degrees. */
export type LonLat = [number, number];
/** A ring, closed (its last point equals its first), outline first, then holes. */
export type LonLatPolygon = LonLat[][];

/** Whether an edge of a ring jumps more than half the globe in longitude: it crosses the antimeridian. */
function crosses(polygon: LonLatPolygon): boolean {
  for (const ring of polygon) {
    for (let i = 1; i < ring.length; i++) {
      if (Math.abs(ring[i][0] - ring[i - 1][0]) > 180) return true;
    }
  }
  return false;
}

/** The ring with each longitude moved by whole turns to lie within half a turn of the previous one, starting near `near`. */
function unwrap(ring: LonLat[], near: number): LonLat[] {
  let previous = near;
  return ring.map(([lon, lat]) => {
    const continuous = lon + 360 * Math.round((previous - lon) / 360);
    previous = continuous;
    return [continuous, lat];
  });
}

/**
 * The polygon's parts on either side of the antimeridian, as MultiPolygon coordinates, each part in -180..180; or
 * null where it does not cross (write it as it is). A ring that winds around a pole (its unwrapped longitudes do not
 * close) is not cut either: no half-plane split describes it, so it is returned as null too.
 */
export function cutAtAntimeridian(polygon: LonLatPolygon): LonLatPolygon[] | null {
  if (!crosses(polygon)) return null;
  const start = polygon[0][0][0];
  const unwrapped = polygon.map((ring) => unwrap(ring, start));
  if (unwrapped.some((ring) => Math.abs(ring[ring.length - 1][0] - ring[0][0]) > 1e-9)) return null;
  // Put the crossing at +180: the polygon then spans lo..hi with lo < 180 < hi.
  // (A loop, not Math.min(...points): a large cloud's outline can hold more points than a call takes arguments.)
  let [lo, hi] = [Infinity, -Infinity];
  for (const ring of unwrapped) for (const [lon] of ring) [lo, hi] = [Math.min(lo, lon), Math.max(hi, lon)];
  const turn = lo >= 180 ? -360 : lo < -180 ? 360 : 0;
  const shifted = unwrapped.map((ring) => ring.map(([lon, lat]): LonLat => [lon + turn, lat]));
  hi += turn;
  const box = (west: number, east: number): LonLatPolygon => [[[west, -90], [east, -90], [east, 90], [west, 90], [west, -90]]];
  const westParts = intersection(shifted, box(-180, 180)) as LonLatPolygon[];
  const eastParts = hi > 180 ? (intersection(shifted, box(180, 540)) as LonLatPolygon[]) : [];
  return [...westParts, ...eastParts.map((part) => part.map((ring) => ring.map(([lon, lat]): LonLat => [lon - 360, lat])))];
}
