/**
 * Per-image and pooled accuracy reports, as a fixed-width text table and as JSON.
 *
 * Pooled metrics are computed from the sum of the per-image confusion matrices (every pixel weighs the same), not
 * as the mean of per-image metrics.
 *
 * JSON shape (stable field names; metric values are fractions in [0, 1], undefined ones are null):
 *   { "images": [{ "name", "coding", "predictionCoding", "prediction", "truth", "oa", "precision", "recall", "f1", "iou", "kappa", "tp", "fp", "tn", "fn", "excluded", "unpredicted" }],
 *     "pooled": { "images", "oa", "precision", "recall", "f1", "iou", "kappa", "tp", "fp", "tn", "fn", "excluded", "unpredicted" } }
 * `prediction`, `truth` (the files) and `unpredicted` (pixels the truth labels but the prediction leaves nodata; a
 * part of `excluded`) are there when known, as they are from `evaluateFiles`.
 */
import { addConfusion, type Confusion } from './confusion.js';
import { metrics, type Metrics } from './metrics.js';

export interface ImageResult extends Metrics, Confusion {
  name: string;
  /** The truth coding used, when known. */
  coding?: string;
  /** The prediction's coding, when known. */
  predictionCoding?: string;
  /** The prediction and truth files, when known. */
  prediction?: string;
  truth?: string;
  /** Of `excluded`: pixels the truth labels where the prediction is nodata, when known. */
  unpredicted?: number;
}

export interface PooledResult extends Metrics, Confusion {
  /** Number of images pooled. */
  images: number;
  /** Sum of the images' `unpredicted`, when every image has it. */
  unpredicted?: number;
}

export interface Report {
  images: ImageResult[];
  pooled: PooledResult;
}

export interface ReportEntry {
  name: string;
  confusion: Confusion;
  coding?: string;
  predictionCoding?: string;
  prediction?: string;
  truth?: string;
  unpredicted?: number;
}

export function imageResult(name: string, m: Confusion, coding?: string, predictionCoding?: string): ImageResult {
  const r: ImageResult = {
    name, ...(coding ? { coding } : {}), ...(predictionCoding ? { predictionCoding } : {}),
    ...metrics(m), tp: m.tp, fp: m.fp, tn: m.tn, fn: m.fn, excluded: m.excluded,
  };
  return r;
}

export function buildReport(entries: ReportEntry[]): Report {
  const images = entries.map((e) => ({
    ...imageResult(e.name, e.confusion, e.coding, e.predictionCoding),
    ...(e.prediction !== undefined ? { prediction: e.prediction } : {}),
    ...(e.truth !== undefined ? { truth: e.truth } : {}),
    ...(e.unpredicted !== undefined ? { unpredicted: e.unpredicted } : {}),
  }));
  const sum = addConfusion(...entries.map((e) => e.confusion));
  const unpredicted = entries.every((e) => e.unpredicted !== undefined) ? entries.reduce((a, e) => a + e.unpredicted!, 0) : undefined;
  return {
    images,
    pooled: {
      images: entries.length, ...metrics(sum), tp: sum.tp, fp: sum.fp, tn: sum.tn, fn: sum.fn, excluded: sum.excluded,
      ...(unpredicted !== undefined && entries.length > 0 ? { unpredicted } : {}),
    },
  };
}

const METRIC_KEYS = ['oa', 'precision', 'recall', 'f1', 'iou', 'kappa'] as const;
const COUNT_KEYS = ['tp', 'fp', 'tn', 'fn', 'excluded'] as const;

function jsonNumber(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** The report as a plain JSON-ready object (NaN -> null), fields in a fixed order. */
export function reportToJson(report: Report): unknown {
  const row = (r: Metrics & Confusion & { unpredicted?: number }) => {
    const o: Record<string, number | null> = {};
    for (const k of METRIC_KEYS) o[k] = jsonNumber(r[k]);
    for (const k of COUNT_KEYS) o[k] = r[k];
    if (r.unpredicted !== undefined) o['unpredicted'] = r.unpredicted;
    return o;
  };
  return {
    images: report.images.map((r) => ({
      name: r.name, ...(r.coding ? { coding: r.coding } : {}), ...(r.predictionCoding ? { predictionCoding: r.predictionCoding } : {}),
      ...(r.prediction !== undefined ? { prediction: r.prediction } : {}), ...(r.truth !== undefined ? { truth: r.truth } : {}), ...row(r),
    })),
    pooled: { images: report.pooled.images, ...row(report.pooled) },
  };
}

export function renderReportJson(report: Report): string {
  return `${JSON.stringify(reportToJson(report), null, 2)}\n`;
}

function pct(v: number): string {
  return Number.isFinite(v) ? (v * 100).toFixed(2) : 'n/a';
}

/**
 * Fixed-width text table: one row per image and a final "pooled" row. Metrics in percent with two decimals
 * (kappa x 100 too), undefined ones as "n/a"; counts of pixels.
 */
export function renderReportTable(report: Report): string {
  const header = ['image', 'OA%', 'prec%', 'recall%', 'F1%', 'IoU%', 'kappa%', 'TP', 'FP', 'TN', 'FN', 'excluded'];
  const toCells = (name: string, r: Metrics & Confusion) => [
    name,
    ...METRIC_KEYS.map((k) => pct(r[k])),
    ...COUNT_KEYS.map((k) => String(r[k])),
  ];
  const rows = report.images.map((r) => toCells(r.name, r));
  const pooled = toCells(`pooled (${report.pooled.images})`, report.pooled);
  const all = [header, ...rows, pooled];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line), rule, line(pooled)].join('\n') + '\n';
}
