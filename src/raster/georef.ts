/**
 * GeoTIFF georeferencing: the geotransform GDAL would report for a set of raw geo tags, and the raw tags a
 * writer needs for a GeoReference that carries only a geotransform and an EPSG code.
 */
import type { GeoReference } from './types.js';

/** The raw tags as read from a TIFF directory (any may be missing). */
export interface RawGeoTags {
  modelPixelScale?: number[];
  modelTiepoint?: number[];
  modelTransformation?: number[];
  geoKeyDirectory?: number[];
  geoDoubleParams?: number[];
  geoAsciiParams?: string;
}

const GT_MODEL_TYPE = 1024;
const GT_RASTER_TYPE = 1025;
const RASTER_PIXEL_IS_POINT = 2;
const GEOGRAPHIC_TYPE = 2048;
const PROJECTED_CS_TYPE = 3072;
const USER_DEFINED = 32767;

/** Value of a geo key stored inline in the directory (location 0), or undefined. */
function geoKey(directory: number[] | undefined, key: number): number | undefined {
  if (!directory || directory.length < 4) return undefined;
  const count = directory[3];
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 4;
    if (directory[at] === key && directory[at + 1] === 0) return directory[at + 3];
  }
  return undefined;
}

/** Ground control points: several tiepoints and neither a pixel scale nor a transformation (GDAL's GCPs). */
function isGcps(tags: Pick<RawGeoTags, 'modelPixelScale' | 'modelTiepoint' | 'modelTransformation'>): boolean {
  return !tags.modelTransformation && !tags.modelPixelScale && (tags.modelTiepoint?.length ?? 0) >= 12;
}

/**
 * The affine geotransform that fits GCPs best (least squares, as GDALGCPsToGeoTransform): GDAL itself reports
 * GCPs and no geotransform, but GeoReference needs one for comparing grids and placing pixels on a map; the mask
 * is written with the GCPs themselves (tagsForGeoref). Null where the points cannot fix one (all on a line).
 */
export function geoTransformFromGcps(tiepoints: number[]): GeoReference['geoTransform'] | null {
  const n = Math.floor(tiepoints.length / 6);
  const px = (i: number) => tiepoints[i * 6];
  const ln = (i: number) => tiepoints[i * 6 + 1];
  if (n === 2) {
    // Two points: north up, no rotation (GDAL's rule for two).
    const dx = (tiepoints[9] - tiepoints[3]) / (px(1) - px(0));
    const dy = (tiepoints[10] - tiepoints[4]) / (ln(1) - ln(0));
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) return null;
    return [tiepoints[3] - px(0) * dx, dx, 0, tiepoints[4] - ln(0) * dy, 0, dy];
  }
  // Normal equations of x = a + b*pixel + c*line (and of y), solved by Cramer's rule on centred sums.
  let sp = 0, sl = 0;
  for (let i = 0; i < n; i++) { sp += px(i); sl += ln(i); }
  const mp = sp / n, ml = sl / n;
  let spp = 0, sll = 0, spl = 0;
  for (let i = 0; i < n; i++) { const p = px(i) - mp, l = ln(i) - ml; spp += p * p; sll += l * l; spl += p * l; }
  const det = spp * sll - spl * spl;
  if (!(Math.abs(det) > 1e-12 * Math.max(spp * sll, 1))) return null;
  const fit = (k: number): [number, number, number] => {
    let mv = 0;
    for (let i = 0; i < n; i++) mv += tiepoints[i * 6 + k];
    mv /= n;
    let sp2 = 0, sl2 = 0;
    for (let i = 0; i < n; i++) { const v = tiepoints[i * 6 + k] - mv; sp2 += (px(i) - mp) * v; sl2 += (ln(i) - ml) * v; }
    const b = (sp2 * sll - sl2 * spl) / det;
    const c = (sl2 * spp - sp2 * spl) / det;
    return [mv - b * mp - c * ml, b, c];
  };
  const [x0, xp, xl] = fit(3);
  const [y0, yp, yl] = fit(4);
  return [x0, xp, xl, y0, yp, yl];
}

/** Builds a GeoReference from raw tags; null when the file has no geotransform at all. */
export function georefFromTags(tags: RawGeoTags): GeoReference | null {
  let gt: GeoReference['geoTransform'];
  const m = tags.modelTransformation;
  const tie = tags.modelTiepoint;
  const scale = tags.modelPixelScale;
  if (m && m.length >= 16) {
    gt = [m[3], m[0], m[1], m[7], m[4], m[5]];
  } else if (tie && tie.length >= 6 && scale && scale.length >= 2) {
    gt = [tie[3] - tie[0] * scale[0], scale[0], 0, tie[4] + tie[1] * scale[1], 0, -scale[1]];
  } else if (tie && isGcps(tags)) {
    const fitted = geoTransformFromGcps(tie);
    if (!fitted) return null;
    gt = fitted;
  } else {
    return null;
  }
  // GDAL reports the corner of the first pixel; with PixelIsPoint the tags name its centre.
  if (geoKey(tags.geoKeyDirectory, GT_RASTER_TYPE) === RASTER_PIXEL_IS_POINT) {
    gt = [gt[0] - 0.5 * gt[1] - 0.5 * gt[2], gt[1], gt[2], gt[3] - 0.5 * gt[4] - 0.5 * gt[5], gt[4], gt[5]];
  }
  const projected = geoKey(tags.geoKeyDirectory, PROJECTED_CS_TYPE);
  const geographic = geoKey(tags.geoKeyDirectory, GEOGRAPHIC_TYPE);
  const epsg = projected !== undefined && projected !== USER_DEFINED ? projected
    : geographic !== undefined && geographic !== USER_DEFINED ? geographic : undefined;
  const georef: GeoReference = { geoTransform: gt };
  if (tags.geoKeyDirectory) georef.geoKeyDirectory = tags.geoKeyDirectory;
  if (tags.geoDoubleParams) georef.geoDoubleParams = tags.geoDoubleParams;
  if (tags.geoAsciiParams !== undefined) georef.geoAsciiParams = tags.geoAsciiParams;
  if (scale) georef.modelPixelScale = scale;
  if (tie) georef.modelTiepoint = tie;
  if (m) georef.modelTransformation = m;
  if (epsg !== undefined) georef.epsg = epsg;
  return georef;
}

/**
 * The raw tags to write for a GeoReference: its own raw tags when it has them (so CRS and transform
 * round-trip exactly), otherwise tags synthesised from the geotransform and EPSG code.
 */
export function tagsForGeoref(georef: GeoReference): RawGeoTags {
  const tags: RawGeoTags = {};
  if (isGcps(georef)) {
    // GCPs are written as read, so the output carries the same points (not the fitted geotransform).
    tags.modelTiepoint = georef.modelTiepoint;
  } else if (georef.modelTransformation || (georef.modelTiepoint && georef.modelPixelScale)) {
    tags.modelTransformation = georef.modelTransformation;
    tags.modelTiepoint = georef.modelTiepoint;
    tags.modelPixelScale = georef.modelPixelScale;
  } else {
    const [x0, dx, rx, y0, ry, dy] = georef.geoTransform;
    if (rx === 0 && ry === 0) {
      tags.modelPixelScale = [dx, -dy, 0];
      tags.modelTiepoint = [0, 0, 0, x0, y0, 0];
    } else {
      tags.modelTransformation = [dx, rx, 0, x0, ry, dy, 0, y0, 0, 0, 0, 0, 0, 0, 0, 1];
    }
  }
  if (georef.geoKeyDirectory) {
    tags.geoKeyDirectory = georef.geoKeyDirectory;
    tags.geoDoubleParams = georef.geoDoubleParams;
    tags.geoAsciiParams = georef.geoAsciiParams;
  } else if (georef.epsg !== undefined) {
    // EPSG 4000-4999 are geographic CRSs; everything else we treat as projected.
    const geographic = georef.epsg >= 4000 && georef.epsg < 5000;
    tags.geoKeyDirectory = [
      1, 1, 0, 3,
      GT_MODEL_TYPE, 0, 1, geographic ? 2 : 1,
      GT_RASTER_TYPE, 0, 1, 1,
      geographic ? GEOGRAPHIC_TYPE : PROJECTED_CS_TYPE, 0, 1, georef.epsg,
    ];
  }
  return tags;
}

export interface GridComparison {
  /** Largest difference allowed in each geotransform term, in pixels. */
  tolerance: number;
  /** Require the same CRS keys as stored (band files of one product); otherwise EPSG codes are compared where both
   * files have one, since other tools store one CRS in different keys. */
  sameCrsKeys: boolean;
}

/** Why two georeferenced rasters do not lie on the same pixel grid, or null when they do. */
export function gridDifference(a: GeoReference | null, b: GeoReference | null, how: GridComparison): string | null {
  if (!a || !b) return a === b ? null : `${a ? 'the first file' : 'this file'} is georeferenced and the other is not`;
  const tolerance = how.tolerance * Math.max(Math.abs(a.geoTransform[1]), Math.abs(a.geoTransform[5]));
  if (a.geoTransform.some((v, i) => Math.abs(v - b.geoTransform[i]) > tolerance)) {
    return `geotransform [${b.geoTransform.join(', ')}] differs from [${a.geoTransform.join(', ')}]`;
  }
  // Geo keys are compared only where both files store them: georeferencing from a sidecar (.aux.xml, world file)
  // comes with an EPSG code alone.
  const keysDiffer = how.sameCrsKeys && a.geoKeyDirectory !== undefined && b.geoKeyDirectory !== undefined &&
    JSON.stringify(a.geoKeyDirectory) !== JSON.stringify(b.geoKeyDirectory);
  const codesDiffer = how.sameCrsKeys ? a.epsg !== b.epsg : a.epsg !== undefined && b.epsg !== undefined && a.epsg !== b.epsg;
  if (codesDiffer) return `coordinate reference system (EPSG ${b.epsg ?? 'unknown'}) differs from EPSG ${a.epsg ?? 'unknown'}`;
  return keysDiffer ? `coordinate reference system differs (GeoTIFF geo keys ${JSON.stringify(b.geoKeyDirectory)}, not ${JSON.stringify(a.geoKeyDirectory)})` : null;
}

/**
 * gridDifference for a mask and the raster it describes, which other tools may have written: a file without
 * georeferencing (PNG, plain TIFF) is taken as aligned, and CRSs are compared by EPSG code.
 */
export function maskGridDifference(raster: GeoReference | null, mask: GeoReference | null): string | null {
  return raster && mask ? gridDifference(raster, mask, { tolerance: 0.01, sameCrsKeys: false }) : null;
}
