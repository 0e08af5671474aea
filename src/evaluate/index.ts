/** Pixel-level evaluation of cloud masks: confusion matrices, metrics, mask codings, reports. */
export { confusion, addConfusion, emptyConfusion, counted, CLEAR, CLOUD, NODATA, type Confusion } from './confusion.js';
export { metrics, overallAccuracy, precision, recall, f1Score, iou, kappa, type Metrics } from './metrics.js';
export {
  CODINGS,
  CODING_NAMES,
  isCodingName,
  parseCoding,
  readRawMask,
  readMask,
  decodeRawMask,
  decodeMask,
  guessCoding,
  histogram,
  type CodingName,
  type MaskCoding,
  type RawMask,
  type DecodedMask,
  type ValueHistogram,
} from './mask-codings.js';
export {
  buildReport,
  imageResult,
  reportToJson,
  renderReportJson,
  renderReportTable,
  type Report,
  type ReportEntry,
  type ImageResult,
  type PooledResult,
} from './report.js';
export { evaluateFiles, type EvaluationPair, type EvaluateOptions } from './evaluate-files.js';
