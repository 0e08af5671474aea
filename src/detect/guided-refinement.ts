/**
 * Edge-aware refinement of the activation map: a guided filter (He, Sun and Tang, TPAMI 2013) with the scene's
 * brightness as the guide. The LPP map knows where cloud is but is blurred by the network's receptive field; in
 * every window of radius r the filter fits the map as a linear function of brightness, q = a I + b, and averages
 * the fits, so the map takes the image's edges (cloud borders, gaps between cumulus) while keeping its level.
 * A plain blur of the map (the same windows, no guide) made the masks worse (README, Accuracy).
 *
 * Done in the "fast guided filter" form (He and Sun 2015) so that it streams: pass 1 sums, per cell of
 * `cell` x `cell` pixels, the valid pixels' count, I, p, I p and I I (from the map windows in any order); the
 * window means and the fit (a, b) are then computed on the cell grid, and pass 2 turns each pixel's brightness
 * into q with a and b interpolated bilinearly between cell centres. Only the cell grid is held (5 doubles per
 * cell plus 2 floats), so memory stays flat however the map is produced.
 */
import type { Model, RefinementSettings } from '../model/model-file.js';
import type { PixelWindow } from '../raster/types.js';

export type { RefinementSettings };

export const DEFAULT_REFINEMENT_EPS = 1e-3;

/** A per-pixel value linear in the prepared (normalised) input channels: sum_c weights[c] x[c] + bias. */
export interface LinearForm {
  weights: number[];
  bias: number;
}

/**
 * The guide: the mean of blue, green and red in the model's input units (reflectance or display values 0-1), as a
 * linear form of the normalised planes the network reads (x = (r - mean) / std), so it is made from the rows
 * the mosaic already holds. Brightness is what sets cloud apart from most ground at its borders.
 */
export function brightnessGuide(model: Model): LinearForm {
  const { bands, normalization } = model.description;
  const visible = ['blue', 'green', 'red'].map((b) => bands.indexOf(b));
  if (visible.some((c) => c < 0)) throw new Error(`the refinement's guide needs blue, green and red bands (model bands: ${bands.join(', ')})`);
  const weights = bands.map(() => 0);
  let bias = 0;
  for (const c of visible) {
    weights[c] = normalization.std[c] / 3;
    bias += normalization.mean[c] / 3;
  }
  return { weights, bias };
}

/** `out[x]` = the form at the `width` pixels of one row; `planes` holds the channels `planeLength` apart. */
export function linearRow(form: LinearForm, planes: Float32Array, planeLength: number, at: number, width: number, out: Float32Array): void {
  out.fill(form.bias, 0, width);
  form.weights.forEach((w, c) => {
    if (w === 0) return;
    const p = planes.subarray(c * planeLength + at, c * planeLength + at + width);
    for (let x = 0; x < width; x++) out[x] += w * p[x];
  });
}

/**
 * Cell edge for a radius: about a quarter of it (He and Sun's sampling ratio for a close match), a power of two
 * from 1 to 256 so that no cell straddles a column stripe (stripes are multiples of 256 px wide): each cell's sums
 * then add the same pixels in the same order however the scene is cut, and the refined map is identical.
 */
export function cellSizeFor(radius: number): number {
  let cell = 1;
  while (cell * 2 <= radius / 4 && cell < 256) cell *= 2;
  return cell;
}

export class GuidedRefinement {
  readonly cell: number;
  readonly cols: number;
  readonly rows: number;
  private readonly r: number;
  // Pass 1 sums per cell.
  private n: Float64Array;
  private sumI: Float64Array;
  private sumP: Float64Array;
  private sumIP: Float64Array;
  private sumII: Float64Array;
  /** The fit's mean coefficients per cell, after `finish`. */
  private a = new Float32Array(0);
  private b = new Float32Array(0);

  constructor(readonly width: number, readonly height: number, readonly settings: RefinementSettings) {
    if (!(Number.isInteger(settings.radius) && settings.radius >= 1)) throw new RangeError(`refinement radius must be a whole number of pixels >= 1, not ${settings.radius}`);
    if (!(settings.eps > 0)) throw new RangeError(`refinement eps must be > 0, not ${settings.eps}`);
    this.cell = cellSizeFor(settings.radius);
    this.cols = Math.ceil(width / this.cell);
    this.rows = Math.ceil(height / this.cell);
    this.r = Math.max(1, Math.round(settings.radius / this.cell));
    const cells = this.cols * this.rows;
    this.n = new Float64Array(cells);
    this.sumI = new Float64Array(cells);
    this.sumP = new Float64Array(cells);
    this.sumIP = new Float64Array(cells);
    this.sumII = new Float64Array(cells);
  }

  /** Pass 1: a window of the map with its guide and validity (row-major, `w.width * w.height`). */
  add(w: PixelWindow, cam: Float32Array, guide: Float32Array, valid: Uint8Array): void {
    const s = this.cell;
    for (let row = 0; row < w.height; row++) {
      const cellRow = Math.floor((w.y + row) / s) * this.cols;
      for (let col = 0; col < w.width; col++) {
        const i = row * w.width + col;
        if (!valid[i]) continue;
        const c = cellRow + Math.floor((w.x + col) / s);
        const I = guide[i];
        const p = cam[i];
        this.n[c]++;
        this.sumI[c] += I;
        this.sumP[c] += p;
        this.sumIP[c] += I * p;
        this.sumII[c] += I * I;
      }
    }
  }

  /** Between the passes: the fit of every cell's window, then its mean over the windows covering each cell. */
  finish(): void {
    const { cols, rows } = this;
    const N = this.box(this.n);
    const mI = this.box(this.sumI);
    const mP = this.box(this.sumP);
    const mIP = this.box(this.sumIP);
    const mII = this.box(this.sumII);
    // Fit per cell window, weighted by the cell's valid pixels for the second mean (as the pixel form weights each
    // pixel's own window once).
    const wa = new Float64Array(cols * rows);
    const wb = new Float64Array(cols * rows);
    for (let c = 0; c < wa.length; c++) {
      if (N[c] === 0 || this.n[c] === 0) continue;
      const mi = mI[c] / N[c];
      const mp = mP[c] / N[c];
      const varI = mII[c] / N[c] - mi * mi;
      const a = (mIP[c] / N[c] - mi * mp) / (Math.max(varI, 0) + this.settings.eps);
      wa[c] = a * this.n[c];
      wb[c] = (mp - a * mi) * this.n[c];
    }
    const sa = this.box(wa);
    const sb = this.box(wb);
    this.a = new Float32Array(cols * rows);
    this.b = new Float32Array(cols * rows);
    for (let c = 0; c < wa.length; c++) {
      if (N[c] === 0) continue; // no data within reach: never used by a valid pixel (see refine)
      this.a[c] = sa[c] / N[c];
      this.b[c] = sb[c] / N[c];
    }
    // The sums are no longer needed.
    this.n = this.sumI = this.sumP = this.sumIP = this.sumII = new Float64Array(0);
  }

  /**
   * Pass 2: the refined map of a window from its guide: q = a I + b, a and b interpolated between cell centres.
   * Every cell within one cell of a valid pixel has data in its window (the window reaches at least one cell), so
   * a valid pixel never reads an undefined fit; invalid pixels get 0 (callers mark them nodata).
   */
  refine(w: PixelWindow, guide: Float32Array, valid: Uint8Array, out = new Float32Array(w.width * w.height)): Float32Array {
    const { cell: s, cols, rows, a, b } = this;
    for (let row = 0; row < w.height; row++) {
      const fy = Math.min(Math.max((w.y + row + 0.5) / s - 0.5, 0), rows - 1);
      const y0 = Math.floor(fy);
      const y1 = Math.min(y0 + 1, rows - 1);
      const ty = fy - y0;
      for (let col = 0; col < w.width; col++) {
        const i = row * w.width + col;
        if (!valid[i]) {
          out[i] = 0;
          continue;
        }
        const fx = Math.min(Math.max((w.x + col + 0.5) / s - 0.5, 0), cols - 1);
        const x0 = Math.floor(fx);
        const x1 = Math.min(x0 + 1, cols - 1);
        const tx = fx - x0;
        const c00 = y0 * cols + x0;
        const c01 = y0 * cols + x1;
        const c10 = y1 * cols + x0;
        const c11 = y1 * cols + x1;
        const top = (1 - tx) * a[c00] + tx * a[c01];
        const bottom = (1 - tx) * a[c10] + tx * a[c11];
        const topB = (1 - tx) * b[c00] + tx * b[c01];
        const bottomB = (1 - tx) * b[c10] + tx * b[c11];
        out[i] = ((1 - ty) * top + ty * bottom) * guide[i] + (1 - ty) * topB + ty * bottomB;
      }
    }
    return out;
  }

  /** Sums over each cell's window of (2 r + 1)^2 cells (clipped at the grid's edges), by running sums. */
  private box(values: Float64Array): Float64Array {
    const { cols, rows, r } = this;
    const across = new Float64Array(cols * rows);
    for (let y = 0; y < rows; y++) {
      const row = y * cols;
      let sum = 0;
      for (let x = 0; x < Math.min(r, cols); x++) sum += values[row + x];
      for (let x = 0; x < cols; x++) {
        if (x + r < cols) sum += values[row + x + r];
        if (x - r - 1 >= 0) sum -= values[row + x - r - 1];
        across[row + x] = sum;
      }
    }
    const out = new Float64Array(cols * rows);
    for (let x = 0; x < cols; x++) {
      let sum = 0;
      for (let y = 0; y < Math.min(r, rows); y++) sum += across[y * cols + x];
      for (let y = 0; y < rows; y++) {
        if (y + r < rows) sum += across[(y + r) * cols + x];
        if (y - r - 1 >= 0) sum -= across[(y - r - 1) * cols + x];
        out[y * cols + x] = sum;
      }
    }
    return out;
  }
}
