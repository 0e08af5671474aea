/**
 * Spectral guards: tests from the literature that a cloud pixel must pass, applied after the threshold. The
 * activation map says where cloud is likely; a guard vetoes pixels whose spectrum cannot be cloud (too dark:
 * ACCA's red floor; blue not raised over red: Fmask's HOT test; dark in the near infrared: the NIR bound of Fmask's
 * water test). They take nothing from training and are not part of the calibration: k is tuned on the map alone
 * (tune-k.ts), since tuned together with a guard, k drifted down until the guard alone decided (on the L8 Biome
 * val scenes, mostly thick cloud, that scores well).
 *
 * Each guard is linear in the input bands, so it is evaluated on the prepared (normalised) planes the network
 * reads: a pixel is ruled out where sum_c weights[c] * x[c] < below.
 */
import { InputError } from '../errors.js';
import type { Model } from '../model/model-file.js';

export interface LinearGuard {
  /** One weight per model input channel, in normalised units. */
  weights: number[];
  below: number;
}

export interface GuardOverrides {
  /** Red reflectance floor; null turns the dark guard off. Default the model's. */
  darkGuard?: number | null;
  /** HOT offset (blue - 0.5 red, reflectance); null turns the HOT guard off. Default the model's. */
  hotGuard?: number | null;
  /** NIR reflectance floor; null turns the water guard off. Default the model's. */
  waterGuard?: number | null;
}

/**
 * The model's guards with the overrides, as linear tests on normalised input. A guard given in reflectance,
 * `sum_c a_c r_c < b` with `r_c = x_c std_c + mean_c`, is `sum_c (a_c std_c) x_c < b - sum_c a_c mean_c`.
 */
export function guardsOf(model: Model, overrides: GuardOverrides = {}): LinearGuard[] {
  const { bands, normalization, detection } = model.description;
  const channel = (band: string, option: string) => {
    const c = bands.indexOf(band);
    if (c < 0) throw new InputError(`the model has no ${band} band for the ${option.slice(2)} (bands: ${bands.join(', ')})`, option);
    return c;
  };
  const inReflectance = (terms: [number, number][], below: number): LinearGuard => {
    const weights = bands.map(() => 0);
    let b = below;
    for (const [c, a] of terms) {
      weights[c] += a * normalization.std[c];
      b -= a * normalization.mean[c];
    }
    return { weights, below: b };
  };
  const guards: LinearGuard[] = [];
  const floor = overrides.darkGuard === undefined ? detection.darkGuard?.reflectance : overrides.darkGuard;
  if (floor !== undefined && floor !== null) guards.push(inReflectance([[channel(detection.darkGuard?.band ?? 'red', '--dark-guard'), 1]], floor));
  const offset = overrides.hotGuard === undefined ? detection.hotGuard?.offset : overrides.hotGuard;
  if (offset !== undefined && offset !== null) guards.push(inReflectance([[channel('blue', '--hot-guard'), 1], [channel('red', '--hot-guard'), -0.5]], offset));
  const nirFloor = overrides.waterGuard === undefined ? detection.waterGuard?.reflectance : overrides.waterGuard;
  if (nirFloor !== undefined && nirFloor !== null) guards.push(inReflectance([[channel('nir', '--water-guard'), 1]], nirFloor));
  return guards;
}

/**
 * Marks `out[x] = 1` for the `width` pixels of one row that a guard rules out. `planes` holds the channels one
 * after another, `planeLength` apart; the row starts at `at` in each.
 */
export function ruleOutRow(guards: LinearGuard[], planes: Float32Array, planeLength: number, at: number, width: number, out: Uint8Array): void {
  out.fill(0, 0, width);
  for (const { weights, below } of guards) {
    const channels = weights.flatMap((w, c) => (w !== 0 ? [c] : []));
    // guardsOf makes guards of one or two terms: a plain loop for each (this runs on every pixel, on the main thread).
    if (channels.length === 1) {
      const [c] = channels;
      const w = weights[c];
      const p = planes.subarray(c * planeLength + at, c * planeLength + at + width);
      for (let x = 0; x < width; x++) if (w * p[x] < below) out[x] = 1;
    } else if (channels.length === 2) {
      const [c0, c1] = channels;
      const [w0, w1] = [weights[c0], weights[c1]];
      const p0 = planes.subarray(c0 * planeLength + at, c0 * planeLength + at + width);
      const p1 = planes.subarray(c1 * planeLength + at, c1 * planeLength + at + width);
      for (let x = 0; x < width; x++) if (w0 * p0[x] + w1 * p1[x] < below) out[x] = 1;
    } else {
      throw new Error(`a spectral guard has one or two terms, not ${channels.length}`);
    }
  }
}
