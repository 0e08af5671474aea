/**
 * A look at the input's values, in the model's units, before the long pass. A scene given in the wrong units
 * (Sentinel-2 or Landsat DN without `--sensor` or `--scale`, 8-bit display values to the reflectance model,
 * reflectance scaled a second time) does not fail: the network maps any number to a logit, and the mask comes out
 * all clear or all cloud without a word. Such units are off by orders of magnitude, so a small sample tells them:
 * nine 64 px windows spread over the scene (a few tiles decoded per band, whatever the scene's size).
 */
import type { PixelWindow, RasterSource } from '../raster/types.js';
import { nodataTest, type InputMapping } from './prepared-source.js';

/** Model units (reflectance or display values, both 0-1) no real pixel leaves by much: TOA reflectance of bright cloud at low sun reaches about 1.5. */
export const PLAUSIBLE_RANGE: [number, number] = [-0.5, 2];
/** Share of sampled values outside the range above which the units are called wrong. */
const OUTSIDE_SHARE = 0.05;
/** Below this brightest sampled value the input holds nothing a sensor records in daylight (TOA blue alone is above 0.05). */
const DARKEST_MAX = 0.02;
const SAMPLE_SIZE = 64;
const SAMPLE_AT = [1 / 6, 1 / 2, 5 / 6];

export interface InputRange {
  /** Values sampled (valid pixels times bands). */
  sampled: number;
  /** Share of them outside `PLAUSIBLE_RANGE`. */
  outsideShare: number;
  /** Smallest and largest sampled value, in the model's units (null without a valid pixel). */
  min: number | null;
  max: number | null;
  /** What looks wrong, in words, or absent. */
  problem?: string;
}

/**
 * Windows of `SAMPLE_SIZE` px centred at the sample positions; along a side too short for them not to overlap,
 * one window spans it whole, so no pixel is counted twice.
 */
export function sampleWindows(width: number, height: number): PixelWindow[] {
  const spans = (size: number): [number, number][] =>
    size <= SAMPLE_AT.length * SAMPLE_SIZE ? [[0, size]] : SAMPLE_AT.map((f) => [Math.round(f * size - SAMPLE_SIZE / 2), SAMPLE_SIZE]);
  return spans(height).flatMap(([y, h]) => spans(width).map(([x, w]) => ({ x, y, width: w, height: h })));
}

/** Samples the scene through the input mapping (nodata and NaN left out) and judges its units. */
export async function checkInputRange(source: RasterSource, mapping: InputMapping): Promise<InputRange> {
  const isNodata = nodataTest(mapping, source);
  const [lo, hi] = PLAUSIBLE_RANGE;
  let sampled = 0;
  let outside = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const window of sampleWindows(source.width, source.height)) {
    const planes = await source.readWindow(window, mapping.bands);
    const n = window.width * window.height;
    for (let i = 0; i < n; i++) {
      let ok = true;
      for (const plane of planes) {
        const v = plane[i];
        if (isNodata(v)) ok = false;
      }
      if (!ok) continue;
      for (let b = 0; b < planes.length; b++) {
        const v = planes[b][i] * mapping.scale[b] + mapping.offset[b];
        sampled++;
        if (v < lo || v > hi) outside++;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
  }
  const range: InputRange = { sampled, outsideShare: sampled > 0 ? outside / sampled : 0, min: sampled > 0 ? min : null, max: sampled > 0 ? max : null };
  if (sampled === 0) return range;
  const shown = (v: number) => Number(v.toPrecision(4));
  if (range.outsideShare > OUTSIDE_SHARE) {
    range.problem = `${(range.outsideShare * 100).toFixed(0)} % of sampled values are outside ${lo} to ${hi} once scaled (${shown(min)} to ${shown(max)}): ` +
      'the input looks like digital numbers, not the 0-1 values the model takes; give --sensor, --metadata or --scale';
  } else if (max < DARKEST_MAX) {
    range.problem = `the brightest sampled value is ${shown(max)} once scaled: the input looks scaled twice (reflectance scaled again by --scale or a preset) or nearly black`;
  }
  return range;
}
