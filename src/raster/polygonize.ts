/**
 * Cloud polygons from a mask: the outline of every 4-connected region of one value along pixel edges, with its
 * holes, as gdal_polygonize draws them by default (its 4-connectivity). Rings are valid simple-feature rings:
 * where an outline passes a corner twice (two cloud pixels of one region meeting only at that corner around a
 * pocket of clear ground), it is cut there, and the pocket becomes a hole touching the outline at one point.
 *
 * Written here because no npm package traces pixel-edge outlines with holes: contour libraries (d3-contour,
 * marching squares) cut pixel corners and interpolate, so their polygons do not cover the mask's pixels.
 *
 * One pass over the rows. A region's outline is traced when the scan meets its top-left pixel; a hole when the
 * scan meets the hole's top-left pixel, and it belongs to the region of the run of pixels just left of it. A
 * region is yielded once the scan has passed its last row, so little more than the mask itself is held.
 */

/** One region: rings of pixel-corner coordinates (x column, y row, y down), flat [x0, y0, x1, y1, ...], unclosed. */
export interface MaskPolygon {
  /** The outline. */
  outline: Int32Array;
  /** The holes (pixels of other values enclosed by the region). */
  holes: Int32Array[];
  /** Pixels of the region: the outline's area less the holes'. */
  pixels: number;
  /** Bounding box in pixel corners: [minX, minY, maxX, maxY]. */
  bounds: [number, number, number, number];
}

/** Twice the signed area of a flat ring; negative for outlines (traced counter-clockwise on screen, y down). */
function doubledArea(ring: ArrayLike<number>): number {
  let sum = 0;
  const n = ring.length;
  for (let i = 0; i < n; i += 2) {
    const j = (i + 2) % n;
    sum += ring[i] * ring[j + 1] - ring[j] * ring[i + 1];
  }
  return sum;
}

interface OpenRegion {
  loops: number[][];
  /** Last pixel row + 1 (the outline's largest y). */
  bottom: number;
  bounds: [number, number, number, number];
}

/**
 * Yields every 4-connected region of pixels equal to `value` (default 1, cloud), as the scan passes its last row
 * (regions ending on one row in the order their top-left pixels were met). Pixels outside the image count as other
 * values.
 */
export function* polygonizeMask(mask: Uint8Array, width: number, height: number, value = 1): Generator<MaskPolygon> {
  if (mask.length !== width * height) throw new RangeError(`mask has ${mask.length} pixels, expected ${width} x ${height}`);
  const stride = width + 1; // vertical edges per row
  const inside = (x: number, y: number): boolean => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] === value;
  // Vertical edges already traced: going down (region on the east) -> the ring's region; going up -> a bit.
  // Down edges are removed as the scan passes them, so the map holds only outlines still open below the scan.
  const downRegion = new Map<number, number>();
  const upSeen = new Uint8Array(Math.ceil((stride * height) / 8));
  const regions = new Map<number, OpenRegion>();
  let nextRegion = 0;

  /**
   * Walks one ring with the region on its left, from the vertical edge at (x, y)-(x, y+1), downward for an
   * outline and upward for a hole, turning left at corners where two region pixels meet diagonally (that keeps
   * regions 4-connected). Returns its loops: the ring cut wherever it passes a corner twice.
   */
  const trace = (x0: number, y0: number, down: boolean, region: number): number[][] => {
    const loops: number[][] = [];
    const ring: number[] = [];
    const cornerAt = new Map<number, number>(); // diagonal corner -> its index in `ring`
    let vx = x0;
    let vy = down ? y0 : y0 + 1;
    let dx = 0;
    let dy = down ? 1 : -1;
    const startX = vx;
    const startY = vy;
    const startDy = dy;
    for (;;) {
      // Take the edge from (vx, vy) in direction (dx, dy).
      if (dx === 0) {
        const top = dy > 0 ? vy : vy - 1;
        const key = top * stride + vx;
        if (dy > 0) downRegion.set(key, region);
        else upSeen[key >> 3] |= 1 << (key & 7);
      }
      vx += dx;
      vy += dy;
      // The pixels ahead of the new vertex, on the left and on the right: left of (dx, dy) is (dy, -dx) on screen.
      const lx = dy;
      const ly = -dx;
      const aheadLeft = inside(vx + ((dx + lx - 1) >> 1), vy + ((dy + ly - 1) >> 1));
      const aheadRight = inside(vx + ((dx - lx - 1) >> 1), vy + ((dy - ly - 1) >> 1));
      let ndx = dx;
      let ndy = dy;
      if (!aheadLeft) {
        ndx = lx;
        ndy = ly;
      } else if (aheadRight) {
        ndx = -lx;
        ndy = -ly;
      }
      if (ndx !== dx || ndy !== dy) {
        if (!aheadLeft && aheadRight) {
          // A diagonal corner: the ring may come back to it around the other pixel. Cut the loop between visits.
          const key = vy * stride + vx;
          const at = cornerAt.get(key);
          if (at !== undefined && at * 2 < ring.length && ring[at * 2] === vx && ring[at * 2 + 1] === vy) {
            loops.push(ring.splice(at * 2));
          }
          cornerAt.set(key, ring.length / 2);
        }
        ring.push(vx, vy);
      }
      dx = ndx;
      dy = ndy;
      if (vx === startX && vy === startY && dx === 0 && dy === startDy) break;
    }
    loops.push(ring);
    return loops;
  };

  const finish = (r: OpenRegion): MaskPolygon => {
    let outline: Int32Array | null = null;
    const holes: Int32Array[] = [];
    let doubled = 0;
    for (const loop of r.loops) {
      const a = doubledArea(loop);
      doubled += a;
      if (a < 0) {
        if (outline) throw new Error('polygonize: a region has two outlines');
        outline = Int32Array.from(loop);
      } else holes.push(Int32Array.from(loop));
    }
    if (!outline) throw new Error('polygonize: a region has no outline');
    return { outline, holes, pixels: -doubled / 2, bounds: r.bounds };
  };

  for (let y = 0; y < height; y++) {
    let runRegion = -1;
    const row = y * width;
    for (let x = 0; x <= width; x++) {
      const left = x > 0 && mask[row + x - 1] === value;
      const right = x < width && mask[row + x] === value;
      if (left === right) continue;
      const key = y * stride + x;
      if (right) {
        // A run starts: its west edge is on a ring traced already, or on a new region's outline.
        let region = downRegion.get(key);
        if (region === undefined) {
          region = nextRegion++;
          const loops = trace(x, y, true, region);
          let [minX, minY, maxX, maxY] = [x, y, x, y];
          for (const loop of loops) {
            for (let i = 0; i < loop.length; i += 2) {
              if (loop[i] < minX) minX = loop[i];
              if (loop[i] > maxX) maxX = loop[i];
              if (loop[i + 1] > maxY) maxY = loop[i + 1];
            }
          }
          regions.set(region, { loops, bottom: maxY, bounds: [minX, minY, maxX, maxY] });
        }
        downRegion.delete(key);
        runRegion = region;
      } else if (!(upSeen[key >> 3] & (1 << (key & 7)))) {
        // A run ends at a hole's top-left pixel: the hole is the run's region's.
        regions.get(runRegion)!.loops.push(...trace(x, y, false, runRegion));
      }
    }
    for (const [id, r] of regions) {
      if (r.bottom > y + 1) continue;
      regions.delete(id);
      yield finish(r);
    }
  }
}
