/**
 * A raster's map coordinates as WGS 84 longitude and latitude, for GeoJSON (RFC 7946 allows no other CRS). The CRS
 * is read from the GeoTIFF geo keys by geotiff-geokeys-to-proj4 (EPSG's tables, and user-defined keys) and projected
 * by proj4js: the libraries of the geotiff.js ecosystem for this. A datum is accepted only where the result holds to
 * about 2 m: a datum on the WGS 84 or GRS 80 ellipsoid (WGS 84, NAD83, ETRS89, CGCS2000, GDA94, which GDAL, too,
 * takes as WGS 84 when it knows no shift), or one with published shift parameters (towgs84). Any other (OSGB 36, NAD27
 * or Amersfoort without them) would be off by tens to hundreds of metres, so the caller gets the reason instead.
 */
import { globals } from 'geotiff';
import { tagsForGeoref } from './georef.js';
import type { GeoReference } from './types.js';

/** Map x, y in the raster's CRS to [longitude, latitude] in degrees. */
export type ToWgs84 = (x: number, y: number) => [number, number];

const DOUBLE_PARAMS = 34736;
const ASCII_PARAMS = 34737;
const WGS84_SEMI_MAJOR = 6378137;

/** The geo keys by name, as geotiff.js's getGeoKeys() gives them, from the raw tags a GeoReference keeps. */
function geoKeysByName(georef: GeoReference): Record<string, unknown> {
  const tags = tagsForGeoref(georef);
  const directory = tags.geoKeyDirectory ?? [];
  const names = globals.geoKeyNames as Record<number, string>;
  const keys: Record<string, unknown> = {};
  for (let i = 0; i < (directory[3] ?? 0); i++) {
    const [id, location, count, offset] = directory.slice(4 + 4 * i, 8 + 4 * i);
    const name = names[id];
    if (name === undefined) continue;
    if (location === 0) keys[name] = offset;
    else if (location === DOUBLE_PARAMS && tags.geoDoubleParams) {
      const values = tags.geoDoubleParams.slice(offset, offset + count);
      keys[name] = count === 1 ? values[0] : values;
    } else if (location === ASCII_PARAMS && tags.geoAsciiParams !== undefined) {
      keys[name] = tags.geoAsciiParams.slice(offset, offset + count - 1);
    }
  }
  return keys;
}

/** A transform to WGS 84, or why there is none (a sentence to show the user). */
export async function wgs84Transform(georef: GeoReference): Promise<{ forward: ToWgs84 } | { reason: string }> {
  // Loaded only when asked for: together they take about 80 ms to load.
  const [{ default: geokeysToProj4 }, { default: proj4 }] = await Promise.all([import('geotiff-geokeys-to-proj4'), import('proj4')]);
  const keys = geoKeysByName(georef);
  const crs = geokeysToProj4.toProj4(keys as unknown as Parameters<typeof geokeysToProj4.toProj4>[0]);
  // Both a GCS and a PCS code: how GDAL writes every user-defined projection, not a fault.
  const faults = Object.keys(crs.errors).filter((e) => e !== 'bothGCSAndPCSAreSet');
  const tokens = new Map(crs.proj4.trim().split(/\s+/).map((t): [string, string | undefined] => [t.split('=')[0], t.split('=')[1]]));
  if (faults.length > 0 || !tokens.has('+a')) {
    return { reason: `its coordinate reference system could not be read from the GeoTIFF geo keys${faults.length > 0 ? ` (${faults.join(', ')})` : ''}` };
  }
  if (!tokens.has('+towgs84') && Number(tokens.get('+a')) !== WGS84_SEMI_MAJOR) {
    return { reason: `its datum (ellipsoid a = ${tokens.get('+a')} m) has no known shift to WGS 84` };
  }
  // GeoTIFF coordinates are always easting, northing (x, y), whatever axis order EPSG gives the CRS.
  const definition = crs.proj4.replace(/\s\+axis=\w+/, '');
  const converter = proj4(definition, 'WGS84');
  // A unit the definition names (+to_meter, EPSG's feet) is applied by proj4; a user-defined unit is not.
  const [sx, sy] = tokens.has('+to_meter') ? [1, 1] : [crs.coordinatesConversionParameters.x, crs.coordinatesConversionParameters.y];
  return { forward: (x, y) => converter.forward([x * sx, y * sy]) as [number, number] };
}
