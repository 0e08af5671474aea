/**
 * The JSON the viewer's server sends (`/api/info`, `/api/summary`, `/api/pixel`) and its page reads. Types only,
 * so the browser page can share them without pulling server code into its bundle.
 */
import type { Confusion } from '../evaluate/confusion.js';
import type { Metrics } from '../evaluate/metrics.js';
import type { ERROR_COLOURS, MASK_COLOURS } from './colormap.js';

/** What the page needs to lay out the map and its layers. */
export interface ViewerInfo {
  title: string;
  width: number;
  height: number;
  tileSize: number;
  maxZoom: number;
  georef: { geoTransform: number[]; epsg: number | null } | null;
  /** Display stretch of each band (lo, hi in file values) and the initial red, green, blue bands (0-based). */
  image: { paths: string[]; sampleType: string; bands: { name: string; lo: number; hi: number }[]; rgb: [number, number, number] };
  cam: { path: string; lo: number; hi: number; colormap: string } | null;
  mask: { path: string; coding: string; codingDescription: string };
  truth: { path: string; coding: string } | null;
  threshold: { value: number; source: string } | null;
  colours: { mask: typeof MASK_COLOURS; errors: typeof ERROR_COLOURS };
}

/** Fractions and counts of the mask, and metrics against the truth when one was given. */
export interface ViewerSummary {
  pixels: number;
  cloud: number;
  clear: number;
  nodata: number;
  cloudFraction: number;
  nodataFraction: number;
  /** Cloud as a fraction of the valid (non-nodata) pixels. */
  cloudFractionOfValid: number | null;
  threshold: { value: number; source: string } | null;
  /** Scalar fields of the sidecar `<mask>.json`, if present. */
  sidecar: { path: string; fields: Record<string, string | number | boolean> } | null;
  warnings: string[];
  truth: {
    path: string;
    coding: string;
    confusion: Confusion;
    /** Fractions; null where undefined (NaN). */
    metrics: Record<keyof Metrics, number | null>;
  } | null;
}

/** The values under one pixel; `map` is the pixel centre in the CRS when the mask is georeferenced. */
export interface PixelValues {
  col: number;
  row: number;
  map: { x: number; y: number } | null;
  image: { name: string; value: number | null }[];
  imageNodata: boolean;
  cam: number | null;
  mask: { value: number | null; class: string };
  truth: { value: number | null; class: string } | null;
}
