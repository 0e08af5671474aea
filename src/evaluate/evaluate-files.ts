/** Evaluation of mask files on disk: what `wdcd eval` calls. */
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { InputError } from '../errors.js';
import { maskGridDifference } from '../raster/georef.js';
import { CLEAR, confusion, counted, NODATA } from './confusion.js';
import { CODINGS, parseCoding, readMask, type CodingName, type DecodedMask } from './mask-codings.js';
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

/** The file's identity (device and inode), after checking that it exists and is a file, as openRaster words it. */
async function fileIdentity(path: string): Promise<string> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new InputError('is a folder, not a raster file', path);
    return `${info.dev}:${info.ino}`;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'file not found' : `cannot read the file (${code})`, path);
  }
}

/**
 * Refuses, before any pair is read, what would score wrong without a sign or fail late: a missing file in pair 40
 * (after minutes of reading), a prediction that is its own truth (a perfect score), and a pair given twice (counted
 * twice in the pooled figures). Returns the truths scored against more than one prediction (methods compared in one
 * run), whose pixels the pooled figures count once per prediction.
 */
async function checkPairs(pairs: EvaluationPair[]): Promise<string[]> {
  const seen = new Map<string, number>();
  const truths = new Map<string, number>();
  const shared: string[] = [];
  for (const [i, pair] of pairs.entries()) {
    const [p, t] = [await fileIdentity(pair.prediction), await fileIdentity(pair.truth)];
    if (p === t) throw new InputError(`is given as both the prediction and its truth (pair ${i + 1}); it would score itself 100 %`, pair.prediction);
    const earlier = seen.get(`${p} ${t}`);
    if (earlier !== undefined) {
      throw new InputError(
        `pairs ${earlier + 1} and ${i + 1} are the same prediction and truth (${pair.truth}); the pooled figures would count it twice`,
        pair.prediction,
      );
    }
    seen.set(`${p} ${t}`, i);
    const uses = (truths.get(t) ?? 0) + 1;
    truths.set(t, uses);
    if (uses === 2) shared.push(pair.truth);
  }
  return shared;
}

/** A declared nodata value that the coding scores: the file says no data, the coding says clear or cloud. */
export function scoredNodataWarning(mask: DecodedMask, role: string): string | null {
  const n = mask.scoredNodata;
  if (!n) return null;
  return `the ${role} declares nodata ${n.value}, which the ${mask.coding} coding reads as ${n.as}: its ${n.pixels} ` +
    `pixels of ${n.value} are scored as ${n.as}, not excluded. If they are no data, the coding is wrong for this file ` +
    `(${role === 'prediction' ? '--prediction-coding' : '--coding'}) or the file must mark them with the coding's fill value`;
}

/**
 * A truth read in a coding whose 0 is fill (l8biome, gf1-whu) that comes out as fill and cloud only: most likely a
 * binary 0/255 mask (binarised Biome masks are common), whose every clear pixel is then left out while the scores
 * still look fine.
 */
export function fillAndCloudOnly(truth: DecodedMask): string | null {
  if (CODINGS[truth.coding].table[0] !== NODATA) return null;
  let fill = 0;
  for (const v of truth.mask) {
    if (v === CLEAR) return null;
    if (v === NODATA) fill++;
  }
  if (fill === 0) return null;
  return `read as ${truth.coding}, the truth holds fill and cloud only, not one clear pixel: its ${fill} pixels of 0 ` +
    '(or nodata) are left out as fill. If 0 means clear in it (a binary 0/255 mask), give --coding 38cloud';
}

/** Pixels the truth labels (clear or cloud) where the prediction is nodata, and how many of them are cloud. */
function unpredictedPixels(prediction: Uint8Array, truth: Uint8Array): { pixels: number; cloud: number } {
  let pixels = 0;
  let cloud = 0;
  for (let i = 0; i < prediction.length; i++) {
    if (prediction[i] === NODATA && truth[i] !== NODATA) {
      pixels++;
      cloud += truth[i]!;
    }
  }
  return { pixels, cloud };
}

/**
 * Row names: the truth file's name; where two rows would share it (scene1/mask.tif, scene2/mask.tif) the truth's
 * path, and where that is shared too (one truth, two predictions) the prediction's path.
 */
function rowNames(pairs: EvaluationPair[]): string[] {
  const unique = (names: string[], next: (i: number) => string) => {
    const count = new Map<string, number>();
    for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
    return names.map((n, i) => (pairs[i]!.name === undefined && count.get(n)! > 1 ? next(i) : n));
  };
  const byTruth = unique(pairs.map((p) => p.name ?? defaultName(p.truth)), (i) => pairs[i]!.truth);
  return unique(byTruth, (i) => pairs[i]!.prediction);
}

/**
 * Reads each (prediction, truth) pair, decodes both to 0/1/255, and reports per-image and pooled metrics.
 * Pairs are read one at a time (only one pair of masks in memory). Throws InputError for missing or unreadable
 * files, a file given as its own truth, a pair given twice, unknown or ambiguous codings, predictions whose size
 * differs from their truth, and georeferenced predictions on another grid than their georeferenced truth. Warns
 * (nothing refused) about a 0/255 prediction read as wdcd, declared nodata that the coding scores, truth pixels left
 * without a prediction, a pair with no pixel scored, a truth shared by several predictions, and a truth read with 0 as
 * fill that has no clear pixel.
 */
export async function evaluateFiles(pairs: EvaluationPair[], options: EvaluateOptions = {}): Promise<Report> {
  if (pairs.length === 0) throw new InputError('nothing to evaluate: no (prediction, truth) pairs given');
  const defaultCoding = parseCoding(options.coding);
  const predictionCoding = parseCoding(options.predictionCoding ?? 'wdcd', '--prediction-coding');
  for (const pair of pairs) if (pair.coding !== undefined) parseCoding(pair.coding);
  const shared = await checkPairs(pairs);
  const names = rowNames(pairs);
  const warn = (path: string, message: string | null) => {
    if (message) options.onWarning?.(`${path}: ${message}`);
  };
  for (const truth of shared) {
    warn(truth, 'is the truth of more than one prediction: the pooled figures count its pixels once for each');
  }
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
    const zeroTwoFiftyFiveWarning = options.predictionCoding === undefined ? zeroTwoFiftyFive(prediction.mask) : null;
    warn(pair.prediction, zeroTwoFiftyFiveWarning);
    warn(pair.truth, fillAndCloudOnly(truth));
    warn(pair.truth, scoredNodataWarning(truth, 'truth'));
    warn(pair.prediction, scoredNodataWarning(prediction, 'prediction'));
    const matrix = confusion(prediction.mask, truth.mask);
    const unpredicted = unpredictedPixels(prediction.mask, truth.mask);
    // Left out, these pixels do not lower any measure: a prediction that skips the hard part scores high. (The 0/255
    // warning has said it of the same pixels.)
    if (unpredicted.pixels > 0 && !zeroTwoFiftyFiveWarning) {
      warn(pair.prediction, `${unpredicted.pixels} pixels that the truth labels (${unpredicted.cloud} of them cloud) are nodata in ` +
        'the prediction and are left out of every measure');
    }
    if (counted(matrix) === 0) {
      warn(pair.truth, `no pixel is scored against ${pair.prediction}: all ${matrix.excluded} are fill or nodata in the truth ` +
        'or the prediction, so every measure of this pair is undefined and it adds nothing to the pooled figures');
    }
    const name = names[i]!;
    entries.push({
      name, coding: truth.coding, predictionCoding: prediction.coding, confusion: matrix,
      prediction: pair.prediction, truth: pair.truth, unpredicted: unpredicted.pixels,
    });
    options.onImage?.(i + 1, pairs.length, name);
  }
  return buildReport(entries);
}
