/**
 * Pixel confusion matrix for binary cloud masks (cloud = positive).
 *
 * Mask values, both for predictions and for truths: 0 clear, 1 cloud, 255 nodata / excluded.
 * A pixel that is 255 in either mask is counted in `excluded` and nowhere else. Any other value is a bug in the
 * caller (masks are decoded to 0/1/255 by `mask-codings.ts` first) and throws.
 */

export interface Confusion {
  /** Cloud in truth, cloud predicted. */
  tp: number;
  /** Clear in truth, cloud predicted. */
  fp: number;
  /** Clear in truth, clear predicted. */
  tn: number;
  /** Cloud in truth, clear predicted. */
  fn: number;
  /** Pixels left out because either mask is 255 there. */
  excluded: number;
}

import { CLEAR, CLOUD, NODATA } from '../mask-codes.js';

export { CLEAR, CLOUD, NODATA };

export function emptyConfusion(): Confusion {
  return { tp: 0, fp: 0, tn: 0, fn: 0, excluded: 0 };
}

/** Confusion matrix of one predicted mask against one truth mask of the same length. */
export function confusion(predicted: Uint8Array, truth: Uint8Array): Confusion {
  if (predicted.length !== truth.length) {
    throw new RangeError(`confusion: predicted has ${predicted.length} pixels, truth has ${truth.length}`);
  }
  // counts[p * 2 + t] for p, t in {0, 1}
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  let excluded = 0;
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i]!;
    const t = truth[i]!;
    if (p === NODATA || t === NODATA) {
      excluded++;
      continue;
    }
    if (p > 1 || t > 1) {
      throw new RangeError(`confusion: pixel ${i} has value ${p > 1 ? p : t}; masks must be 0, 1 or 255`);
    }
    if (t === CLOUD) {
      if (p === CLOUD) tp++;
      else fn++;
    } else if (p === CLOUD) fp++;
    else tn++;
  }
  return { tp, fp, tn, fn, excluded };
}

/** Element-wise sum: the pooled matrix of several images. */
export function addConfusion(...matrices: Confusion[]): Confusion {
  const sum = emptyConfusion();
  for (const m of matrices) {
    sum.tp += m.tp;
    sum.fp += m.fp;
    sum.tn += m.tn;
    sum.fn += m.fn;
    sum.excluded += m.excluded;
  }
  return sum;
}

/** Pixels that were compared (everything but `excluded`). */
export function counted(m: Confusion): number {
  return m.tp + m.fp + m.tn + m.fn;
}
