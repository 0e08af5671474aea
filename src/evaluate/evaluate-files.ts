/** Evaluation of mask files on disk: what `wdcd eval` calls. */
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import { maskGridDifference } from '../raster/georef.js';
import { confusion } from './confusion.js';
import { parseCoding, readMask, type CodingName } from './mask-codings.js';
import { buildReport, type Report, type ReportEntry } from './report.js';

export interface EvaluationPair {
  /** wdcd's output mask (0 clear, 1 cloud, 255 nodata), or another coding given by `predictionCoding`. */
  prediction: string;
  /** The truth mask. */
  truth: string;
  /** Coding of this truth mask; overrides `options.coding`. */
  coding?: string;
  /** Row name in the report; default: the truth file's name without extension. */
  name?: string;
}

export interface EvaluateOptions {
  /** Coding of the truth masks: a coding name or 'auto' (default). */
  coding?: string;
  /** Coding of the predictions; default 'wdcd' (0/1/255). */
  predictionCoding?: string;
  /** Called with a warning about a pair (e.g. a prediction that looks 0/255 coded); nothing is refused for it. */
  onWarning?: (message: string) => void;
  /** Called after each pair. */
  onImage?: (done: number, total: number, name: string) => void;
}

function defaultName(path: string): string {
  return basename(path, extname(path));
}

/**
 * Many tools write cloud as 255; in the default wdcd coding 255 is no data, so such a prediction would score with
 * every cloud pixel excluded (recall 0 or undefined). A clear wdcd mask with a nodata border holds the same values,
 * so this is a warning, not a refusal.
 */
function zeroTwoFiftyFive(mask: Uint8Array): string | null {
  let zeros = 0;
  let fill = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i]!;
    if (v === 1) return null;
    if (v === 0) zeros++;
    else if (v === 255) fill++;
  }
  if (fill === 0) return null;
  return `the prediction holds only the values ${zeros > 0 ? '0 and 255' : '255'}, read in the wdcd coding (0 clear, 1 cloud, ` +
    `255 nodata): its ${fill} pixels of 255 are excluded, not scored as cloud. If 255 means cloud in it, give ` +
    '--prediction-coding 38cloud (0 clear, 255 cloud); --prediction-coding wdcd keeps this reading without the warning';
}

/**
 * Reads each (prediction, truth) pair, decodes both to 0/1/255, and reports per-image and pooled metrics.
 * Pairs are read one at a time (only one pair of masks in memory). Throws InputError for unreadable files, unknown
 * or ambiguous codings, predictions whose size differs from their truth, and georeferenced predictions on another
 * grid than their georeferenced truth.
 */
export async function evaluateFiles(pairs: EvaluationPair[], options: EvaluateOptions = {}): Promise<Report> {
  if (pairs.length === 0) throw new InputError('nothing to evaluate: no (prediction, truth) pairs given');
  const defaultCoding = parseCoding(options.coding);
  const predictionCoding = parseCoding(options.predictionCoding ?? 'wdcd', '--prediction-coding');
  const entries: ReportEntry[] = [];
  for (const [i, pair] of pairs.entries()) {
    const truthCoding: CodingName | 'auto' = pair.coding !== undefined ? parseCoding(pair.coding) : defaultCoding;
    const truth = await readMask(pair.truth, truthCoding);
    const prediction = await readMask(pair.prediction, predictionCoding);
    if (prediction.width !== truth.width || prediction.height !== truth.height) {
      throw new InputError(
        `prediction is ${prediction.width} x ${prediction.height} px but its truth ${pair.truth} is ` +
          `${truth.width} x ${truth.height} px; they must cover the same pixels`,
        pair.prediction,
      );
    }
    // A truth of the right size but of another place would score as if it were right.
    const difference = maskGridDifference(truth.georef, prediction.georef);
    if (difference) throw new InputError(`does not lie on the pixel grid of its truth ${pair.truth}: ${difference}`, pair.prediction);
    if (options.predictionCoding === undefined) {
      const warning = zeroTwoFiftyFive(prediction.mask);
      if (warning) options.onWarning?.(`${pair.prediction}: ${warning}`);
    }
    const name = pair.name ?? defaultName(pair.truth);
    entries.push({ name, coding: truth.coding, predictionCoding: prediction.coding, confusion: confusion(prediction.mask, truth.mask) });
    options.onImage?.(i + 1, pairs.length, name);
  }
  return buildReport(entries);
}
