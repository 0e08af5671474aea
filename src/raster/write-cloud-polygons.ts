/**
 * Cloud polygons as GeoJSON, for a GIS or a web map: one Polygon feature per 4-connected cloud region of a mask
 * (raster/polygonize.ts). By default in WGS 84 longitude and latitude, as RFC 7946 asks, to 7 decimals (about
 * 1 cm) as GDAL's RFC 7946 writer rounds them (raster/to-wgs84.ts). With crs 'native', or where the datum has no
 * known shift to WGS 84 (a warning says so), in the mask's own CRS and coordinates, exact pixel corners, as
 * `gdal_polygonize -f GeoJSON` writes them: a projected CRS is named in the old `crs` member (GDAL, QGIS and OGR
 * read it); EPSG:4326 needs none. Outlines run counter-clockwise and holes clockwise on the map (RFC 7946). Without
 * georeferencing the coordinates are pixel corners (column, row). A polygon across the antimeridian is cut there
 * into a MultiPolygon (raster/antimeridian.ts), as RFC 7946 and GDAL's writer do. Streamed to a temporary file
 * renamed into place, so a failed run leaves nothing.
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { CLOUD } from '../mask-codes.js';
import { polygonizeMask } from './polygonize.js';
import { placeTemporary, settleTemporary, temporaryPath, type OutputGroup } from './temporary-files.js';
import { wgs84Transform, type ToWgs84 } from './to-wgs84.js';
import type { cutAtAntimeridian } from './antimeridian.js';
import type { GeoReference } from './types.js';

export interface CloudPolygonsOptions {
  width: number;
  height: number;
  georef: GeoReference | null;
  /** 'wgs84' (default): longitude and latitude where the CRS allows; 'native': the mask's CRS. */
  crs?: 'wgs84' | 'native';
  overwrite?: boolean;
  /** The group whose outputs stand or fall together (raster/temporary-files.ts). */
  group?: OutputGroup;
}

export interface CloudPolygonsWriter {
  /** Why the polygons are not in WGS 84 though it was asked for (no georeferencing, a datum without a shift). */
  readonly warning?: string;
  /** Traces the mask (0 clear, 1 cloud, 255 nodata; row-major, width x height) and writes the file. Returns the polygon count. */
  finish(mask: Uint8Array): Promise<number>;
  abort(): Promise<void>;
}

const PROJ_LINEAR_UNITS = 3076;
const LINEAR_METRE = 9001;

/** Whether the CRS's unit is the metre: its ProjLinearUnitsGeoKey, or WGS 84 / UTM and Web Mercator by code. */
function inMetres(georef: GeoReference): boolean {
  const keys = georef.geoKeyDirectory;
  if (keys) {
    for (let i = 4; i + 3 < keys.length; i += 4) {
      if (keys[i] === PROJ_LINEAR_UNITS && keys[i + 1] === 0) return keys[i + 3] === LINEAR_METRE;
    }
  }
  const e = georef.epsg ?? 0;
  return (e >= 32601 && e <= 32660) || (e >= 32701 && e <= 32760) || e === 3857;
}

/** Checks the target now (it exists and overwrite is not given: an error before the long run, not after). */
export async function createCloudPolygonsWriter(path: string, options: CloudPolygonsOptions): Promise<CloudPolygonsWriter> {
  if (!options.overwrite && (await stat(path).then(() => true, () => false))) {
    throw new InputError('the output file already exists (use the overwrite option to replace it)', path);
  }
  let toWgs84: ToWgs84 | null = null;
  let cutParts: typeof cutAtAntimeridian | null = null;
  let warning: string | undefined;
  if ((options.crs ?? 'wgs84') === 'wgs84') {
    if (!options.georef) {
      warning = `${path}: the mask has no georeferencing, so the cloud polygons are in pixel coordinates (column, row)`;
    } else {
      const transform = await wgs84Transform(options.georef);
      if ('forward' in transform) {
        toWgs84 = transform.forward;
        // Loaded only for WGS 84 output, as proj4 is.
        cutParts = (await import('./antimeridian.js')).cutAtAntimeridian;
      } else warning = `${path}: the cloud polygons are in the mask's CRS, not WGS 84: ${transform.reason}`;
    }
  }
  const tmp = temporaryPath(path);
  let out: WriteStream | null = null;
  const abort = async (): Promise<void> => {
    out?.destroy();
    await unlink(tmp).catch(() => {});
    settleTemporary(tmp);
  };
  return {
    warning,
    abort,
    async finish(mask) {
      const { width, height, georef } = options;
      const [ox, a, b, oy, d, e] = georef?.geoTransform ?? [0, 1, 0, 0, 0, 1];
      // A transform that keeps the screen's turn (y down, as pixel rows) would leave outlines clockwise.
      const flip = a * e - b * d > 0;
      const pixelArea = Math.abs(a * e - b * d);
      const metres = georef !== null && inMetres(georef);
      // 15 significant digits: exact for pixel corners, without float noise such as 0.30000000000000004.
      const round = (v: number): number => +v.toPrecision(15);
      // A ring's points in map coordinates, closed, counter-clockwise on the map for an outline.
      const mapRing = (flat: Int32Array): [number, number][] => {
        const n = flat.length / 2;
        const points: [number, number][] = [];
        for (let k = 0; k <= n; k++) {
          const i = (flip ? n - (k % n) : k) % n;
          const x = flat[2 * i];
          const y = flat[2 * i + 1];
          points.push([ox + x * a + y * b, oy + x * d + y * e]);
        }
        return points;
      };
      const coordinates = (rings: number[][][], digits: (v: number) => number): string =>
        `[${rings.map((r) => `[${r.map(([x, y]) => `[${digits(x)},${digits(y)}]`).join(',')}]`).join(',')}]`;
      const degrees = (v: number): number => +v.toFixed(7);
      const geometry = (polygon: { outline: Int32Array; holes: Int32Array[] }): string => {
        const rings = [polygon.outline, ...polygon.holes].map(mapRing);
        if (!toWgs84) return `{"type":"Polygon","coordinates":${coordinates(rings, round)}}`;
        const lonLat = rings.map((r) => r.map(([x, y]) => toWgs84!(x, y)));
        const parts = cutParts!(lonLat);
        if (parts && parts.length > 1) {
          return `{"type":"MultiPolygon","coordinates":[${parts.map((part) => coordinates(part, degrees)).join(',')}]}`;
        }
        return `{"type":"Polygon","coordinates":${coordinates(parts?.[0] ?? lonLat, degrees)}}`;
      };
      try {
        out = createWriteStream(tmp, { flags: 'wx' });
        // A failed write (a full disk) is thrown by the next one; writes still queued when the stream is
        // destroyed on failure are dropped without an uncaught error.
        let failure: Error | null = null;
        out.on('error', (e) => (failure ??= e));
        await once(out, 'open');
        const write = async (text: string): Promise<void> => {
          if (failure) throw failure;
          if (!out!.write(text)) await once(out!, 'drain');
        };
        const crs = !toWgs84 && georef?.epsg && georef.epsg !== 4326
          ? `"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::${georef.epsg}"}},\n`
          : '';
        await write(`{"type":"FeatureCollection",\n${crs}"features":[\n`);
        let count = 0;
        for (const polygon of polygonizeMask(mask, width, height, CLOUD)) {
          const area = metres ? `,"area_m2":${round(polygon.pixels * pixelArea)}` : '';
          const properties = `{"id":${count + 1},"class":"cloud","pixels":${polygon.pixels}${area}}`;
          await write(`${count > 0 ? ',\n' : ''}{"type":"Feature","properties":${properties},"geometry":${geometry(polygon)}}`);
          count++;
        }
        await write('\n]}\n');
        out.end();
        await once(out, 'finish');
        await placeTemporary(tmp, path, options.group);
        return count;
      } catch (err) {
        await abort();
        if (err instanceof InputError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        throw new InputError(`cannot write the cloud polygons (${code ?? (err as Error).message})`, path);
      }
    },
  };
}
