/**
 * Accuracy measures from a confusion matrix (cloud = positive).
 *
 * Every measure is a fraction in [0, 1] (kappa in [-1, 1]), never a percentage. When a measure's denominator is
 * zero it is undefined and returned as NaN, never 0 or 1: e.g. precision of a mask with no predicted cloud, recall
 * and F1 of an image with no true cloud and no predicted cloud, IoU when neither mask has cloud, kappa when
 * expected agreement is 1 (both masks constant and equal). Renderers print NaN as "n/a"; JSON carries null.
 *
 *   OA        = (TP + TN) / N
 *   precision = TP / (TP + FP)
 *   recall    = TP / (TP + FN)
 *   F1        = 2 TP / (2 TP + FP + FN)      (harmonic mean of precision and recall; defined when either is)
 *   IoU       = TP / (TP + FP + FN)
 *   kappa     = (po - pe) / (1 - pe),  po = OA,
 *               pe = ((TP + FP)(TP + FN) + (FN + TN)(FP + TN)) / N^2
 */
import type { Confusion } from './confusion.js';

export interface Metrics {
  oa: number;
  precision: number;
  recall: number;
  f1: number;
  iou: number;
  kappa: number;
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? Number.NaN : numerator / denominator;
}

export function overallAccuracy(m: Confusion): number {
  return ratio(m.tp + m.tn, m.tp + m.fp + m.tn + m.fn);
}

export function precision(m: Confusion): number {
  return ratio(m.tp, m.tp + m.fp);
}

export function recall(m: Confusion): number {
  return ratio(m.tp, m.tp + m.fn);
}

export function f1Score(m: Confusion): number {
  return ratio(2 * m.tp, 2 * m.tp + m.fp + m.fn);
}

export function iou(m: Confusion): number {
  return ratio(m.tp, m.tp + m.fp + m.fn);
}

export function kappa(m: Confusion): number {
  const n = m.tp + m.fp + m.tn + m.fn;
  if (n === 0) return Number.NaN;
  const po = (m.tp + m.tn) / n;
  // Work with fractions to keep the products small for pooled matrices of many large scenes.
  const predCloud = (m.tp + m.fp) / n;
  const trueCloud = (m.tp + m.fn) / n;
  const pe = predCloud * trueCloud + (1 - predCloud) * (1 - trueCloud);
  return ratio(po - pe, 1 - pe);
}

export function metrics(m: Confusion): Metrics {
  return {
    oa: overallAccuracy(m),
    precision: precision(m),
    recall: recall(m),
    f1: f1Score(m),
    iou: iou(m),
    kappa: kappa(m),
  };
}
