/**
 * The detect pipeline: raster in -> prepared blocks -> pooled scores -> LPP activation-map mosaic -> clear-sky
 * threshold -> mask (and CAM, pictures) out, streamed by rows within column stripes so memory stays flat as
 * scenes grow.
 * The CLI, the web page and the tests call `detect` (files) or `sceneCam` (in memory).
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { resolveDevice, type DeviceChoice } from '../engine/device.js';
import type { SessionOptions } from '../engine/session.js';
import { cpuWorkerLayout } from '../engine/worker-session.js';
import { InputError } from '../errors.js';
import { checkNumbers, positiveWhole, wholeNumber, type NumberRule } from '../number-rules.js';
import { loadModel, type Model, type RefinementSettings } from '../model/model-file.js';
import { dihedralCopies, TTA_COPIES } from '../model/dihedral-copies.js';
import { Network } from '../model/network.js';
import { poolIndices } from '../model/architecture.js';
import { checkInputRange, type InputRange } from '../prepare/input-range.js';
import { preparedRaster, StripMemory, STRIP_ROWS, type InputMapping, type PreparedSource } from '../prepare/prepared-source.js';
import { sharedFloats } from '../engine/shared-floats.js';
import { noProgress, type ProgressCallback, type ProgressEvent } from '../progress.js';
import { openRaster } from '../raster/open.js';
import { PRESETS, resolveBands, sentinel2OffsetWarning, type BandOverrides, type ResolvedBands, type Sensor } from '../raster/sensors.js';
import { checkBandFiles } from '../raster/product-metadata.js';
import { dataBands, type PixelWindow, type RasterSource } from '../raster/types.js';
import { createGeoTiffWriter, type GeoTiffWriter } from '../raster/write-geotiff.js';
import { checkOutputPaths } from '../raster/output-paths.js';
import { OutputGroup, writeFileAtomic } from '../raster/temporary-files.js';
import { createHeatmapQuicklook, createOverlayQuicklook, type HeatmapQuicklook, type OverlayQuicklook } from '../raster/quicklook.js';
import { isFolder, readProductFolder } from '../raster/product-folder.js';
import { isProductArchive, openProductArchive, relabelError } from '../raster/product-archive.js';
import { createCloudPolygonsWriter, type CloudPolygonsWriter } from '../raster/write-cloud-polygons.js';
import { dilate, removeSmall } from '../raster/post-process.js';
import { blockGrid } from './block-grid.js';
import { chunkRowsOf, GPU_TILE_WIDTH, latticeOf, TILE_WIDTH } from './cam-mosaic.js';
import { columnStripes, stripedCam, STRIPE_WIDTH, type CamWindow } from './column-stripes.js';
import { parallelStripedCam } from './stripe-workers.js';
import { thresholdOf } from './clear-sky.js';
import { guardsOf, ruleOutRow, type GuardOverrides, type LinearGuard } from './spectral-guards.js';
import { brightnessGuide, DEFAULT_REFINEMENT_EPS, GuidedRefinement, linearRow, type LinearForm } from './guided-refinement.js';

/** Which max-pools LPP removes: all (full-resolution map), the last one, or an explicit list of layer indices. */
export type PruneChoice = 'all' | 'last' | number[];

export interface CamOptions extends BandOverrides, GuardOverrides {
  /** Bundled model name (`default`, `rgb`), a model folder, or a loaded model. Default `default`. */
  model?: string | Model;
  /** Sensor preset for band choice and scaling; default the metadata's sensor, else the model's (`wdcd models`). */
  sensor?: string;
  /** Sliding-window stride in pixels; default the model's (half a block). */
  stride?: number;
  /** Skip (flatten) blocks the pooled network classifies clear; default the model's. */
  gate?: boolean;
  /** Default the model's choice. */
  prune?: PruneChoice;
  /** CPU threads for the network (default every core; see `cpuWorkerLayout`). */
  threads?: number;
  /** Where the network runs (engine/device.ts). Default `auto`: the GPU where there is one. */
  device?: DeviceChoice;
  /** Lattice rows per feature pass (memory / speed trade-off). */
  chunkRows?: number;
  /** Scenes wider than this many pixels are mosaicked in column stripes this wide (a multiple of 256); default 2048. */
  stripeWidth?: number;
  /** Threads that mosaic stripes at once (stripe-workers.ts); default 1. Each holds a stripe's state (~350 MB). */
  stripeThreads?: number;
  /**
   * Test-time augmentation: the map averaged over this many orientations of the scene (1, 2, 4 or 8; default 1),
   * as one network of that many turned copies (model/dihedral-copies.ts): N times the network's work.
   */
  tta?: number;
  /**
   * Radius in pixels of the map's edge-aware refinement (detect/guided-refinement.ts); 0 or null turns it off.
   * Default the model's. A model's k was tuned with its own refinement: change it and the threshold may want --k.
   */
  refine?: number | null;
  /** The refinement's regularisation (squared guide units); default the model's, else 1e-3. */
  refineEps?: number;
  onProgress?: ProgressCallback;
}

export interface DetectOptions extends CamOptions {
  /** The mask GeoTIFF: 0 clear, 1 cloud, 255 nodata. */
  mask: string;
  /** Optional float32 CAM GeoTIFF (NaN nodata). A summary is always written beside the mask as MASK.json. */
  cam?: string;
  /** Optional RGB overlay PNG and CAM heat-map PNG. */
  png?: string;
  heatmap?: string;
  /**
   * Optional GeoJSON of the cloud: one polygon per 4-connected cloud region, along pixel edges
   * (raster/write-cloud-polygons.ts). The uint8 mask is then held whole (1 byte per pixel) to trace it.
   */
  vector?: string;
  /** The polygons' coordinates: 'wgs84' (default, RFC 7946 longitude and latitude) or 'native' (the mask's CRS). */
  vectorCrs?: 'wgs84' | 'native';
  /** Write Cloud Optimized GeoTIFFs. */
  cog?: boolean;
  overwrite?: boolean;
  /** T = mean + k std of the clear-sky statistics; default the model's k. */
  k?: number;
  /** Use this threshold instead of the statistics. */
  threshold?: number;
  /** Grow cloud by this radius in pixels; drop cloud regions smaller than this many pixels. */
  dilate?: number;
  minSize?: number;
}

const reflectance = (n: number) => n >= 0;

/**
 * The numeric options' valid values, checked by `detect` and `sceneCam` (a library caller's NaN k made every pixel
 * clear without a word) and by the CLI as it parses them: the option each is, and what it takes. null (a guard or
 * the refinement off) passes.
 */
export const DETECT_NUMBER_RULES = {
  nodata: ['--nodata', Number.isFinite, 'a number'],
  stride: ['--stride', positiveWhole, 'a whole number of pixels'],
  k: ['--k', Number.isFinite, 'a number'],
  threshold: ['--threshold', Number.isFinite, 'a number'],
  darkGuard: ['--dark-guard', reflectance, 'a reflectance or none'],
  hotGuard: ['--hot-guard', Number.isFinite, 'a reflectance or none'],
  waterGuard: ['--water-guard', reflectance, 'a reflectance or none'],
  refine: ['--refine', wholeNumber, 'a radius in pixels or none'],
  refineEps: ['--refine-eps', (n) => n > 0, 'a positive number'],
  dilate: ['--dilate', (n) => n >= 0, 'a radius in pixels'],
  minSize: ['--min-size', wholeNumber, 'a whole number of pixels'],
  threads: ['--threads', positiveWhole, 'a whole number'],
  chunkRows: ['chunkRows', positiveWhole, 'a whole number'],
  stripeWidth: ['--stripe-width', positiveWhole, 'a whole number'],
  stripeThreads: ['--stripe-threads', positiveWhole, 'a whole number'],
  tta: ['--tta', (n) => (TTA_COPIES as readonly number[]).includes(n), `one of ${TTA_COPIES.join(', ')}`],
} satisfies Partial<Record<keyof DetectOptions, NumberRule>>;

export interface DetectSummary {
  inputs: string[];
  width: number;
  height: number;
  model: string;
  sensor: string;
  threshold: number;
  k: number | null;
  /** The map's refinement (guided filter radius and eps), or null. */
  refine: RefinementSettings | null;
  /** Red reflectance below which no pixel is cloud, or null. */
  darkGuard: number | null;
  /** HOT offset: no pixel with blue - 0.5 red below it is cloud, or null. */
  hotGuard: number | null;
  /** NIR reflectance below which no pixel is cloud (water), or null. */
  waterGuard: number | null;
  /**
   * Whether the input became the units the model expects: false where a DN preset only scaled it to 0-1
   * (GF/ZY without --gain, --esun and --sun-elevation) or Landsat 8 DN lack the sun angle (--sun-elevation).
   */
  calibrated: boolean;
  /** A sample of the input in the model's units, and what looks wrong in it (input-range.ts). */
  inputRange: InputRange;
  /** The product metadata file the reflectance scaling came from, and what it describes. */
  metadata?: { file: string; product: string };
  gate: boolean;
  prunedPools: number[];
  /** Orientations the map is averaged over (test-time augmentation; 1: none). */
  tta: number;
  /** Where the network ran. */
  device: 'cpu' | 'gpu';
  /** Threads that mosaicked column stripes at once. */
  stripeThreads: number;
  /**
   * Share of the activation map's points the pruned network computed features for: with the block gate on, points
   * that lie only in blocks classified clear need none (their map is the blocks' logits).
   */
  featureShare: number;
  blocks: { total: number; gatedClear: number };
  cloudFraction: number;
  /** Polygons written to the GeoJSON (with the vector option). */
  cloudPolygons?: number;
  nodataFraction: number;
  outputs: Record<string, string>;
  seconds: Record<string, number>;
}

export interface Prepared {
  model: Model;
  source: RasterSource;
  /** The scene prepared for the network over the given columns. */
  prepared: (columns: [number, number]) => PreparedSource;
  mapping: InputMapping & { channels: string[]; calibrated: boolean; uncalibrated?: string };
  sensor: string;
  network: Network;
  device: 'cpu' | 'gpu';
  gate: boolean;
  stride: number;
  guards: LinearGuard[];
  refine: RefinementSettings | null;
  /** The refinement's guide, with a refinement. */
  guide?: LinearForm;
}

function prunedPools(model: Model, choice: PruneChoice | undefined): Set<number> {
  const pools = poolIndices(model.description.architecture.layers);
  if (choice === undefined) return new Set(model.description.prunedPools);
  if (choice === 'all') return new Set(pools);
  if (choice === 'last') return new Set(pools.slice(-1));
  for (const p of choice) if (!pools.includes(p)) throw new InputError(`layer ${p} is not a max-pool (pools: ${pools.join(', ')})`, '--prune');
  return new Set(choice);
}

/** The refinement the options ask for: the model's, another radius or eps, or none. */
export function refinementOf(model: Model, options: Pick<CamOptions, 'refine' | 'refineEps'>): RefinementSettings | null {
  const own = model.description.detection.refine ?? null;
  if (options.refine === null || options.refine === 0) return null;
  if (options.refine !== undefined && !(Number.isInteger(options.refine) && options.refine > 0)) {
    throw new InputError('the refinement radius must be a whole number of pixels (0 turns it off)', '--refine');
  }
  if (options.refineEps !== undefined && !(options.refineEps > 0)) throw new InputError('the refinement eps must be > 0', '--refine-eps');
  const radius = options.refine ?? own?.radius;
  if (radius === undefined) return null;
  return { radius, eps: options.refineEps ?? own?.eps ?? DEFAULT_REFINEMENT_EPS };
}

const NUMBER_WORDS = ['none', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const inWords = (n: number) => NUMBER_WORDS[n] ?? String(n);

/**
 * Several files whose bands outnumber what the sensor reads, with no --bands: the preset would quietly take the
 * first ones (Landsat B1..B5 puts the coastal band in as blue), so the choice is left to the user.
 */
function checkUnusedFiles(inputs: string[], dataBandCount: number, sensor: string, resolved: ResolvedBands): void {
  const used = resolved.bands.length;
  if (used >= dataBandCount) return;
  const given = dataBandCount === inputs.length ? `${inputs.length} band files given` : `${inputs.length} files given with ${dataBandCount} bands`;
  const inOrder = resolved.bands.every((b, i) => b === i);
  const which = inOrder ? `the first ${inWords(used)}, in order` : `input bands ${resolved.bands.map((b) => b + 1).join(', ')}`;
  const give = dataBandCount === inputs.length ? `give those ${inWords(used)} files` : 'give only the files that hold them';
  throw new InputError(
    `${given}; sensor ${sensor} reads ${used}: ${resolved.channels.join(', ')} (${which}); ${give}, or choose with --bands`,
    inputs.join(', '),
  );
}

/**
 * One file with more bands than the sensor reads, where the product's usual stack does not begin with the preset's
 * bands (Landsat 8 B1..B7: coastal aerosol first): bands 1-4 would quietly feed coastal aerosol as blue and red as
 * NIR, so the choice is left to the user.
 */
function checkStackedBands(input: string, dataBandCount: number, sensor: string, resolved: ResolvedBands): void {
  const stack = PRESETS[sensor as Sensor]?.usualStack;
  if (!stack || dataBandCount <= resolved.bands.length) return;
  const first = resolved.bands.map((b) => b + 1).join(',');
  throw new InputError(
    `holds ${dataBandCount} bands; sensor ${sensor} takes bands ${first} as ${stack.presetBands} (${resolved.channels.join(', ')}), ` +
      `but a stack of ${stack.layout} holds those as bands ${stack.bands.join(',')}: give --bands ${stack.bands.join(',')} for such a stack, ` +
      `or --bands ${first} if the file's first bands are ${stack.presetBands}`,
    input,
  );
}

/**
 * The scene opened and checked against the model, with its network; also what each stripe thread does first.
 * `checks.bandChoice` (detect's): a band chosen twice in `bands`, or band files left over without `bands`, are
 * refused. Training's tuning scenes, read after the training, and the stripe threads skip them.
 */
export async function prepareScene(inputs: string[], options: CamOptions, checks: { bandChoice?: boolean } = {}): Promise<Prepared> {
  checkNumbers(DETECT_NUMBER_RULES, options);
  const model = dihedralCopies(typeof options.model === 'object' ? options.model : loadModel(options.model ?? 'default'), options.tta ?? 1);
  const description = model.description;
  const sensor = options.sensor ?? options.metadata?.sensor ?? description.sensor;
  const source = await openRaster(inputs);
  try {
    if (checks.bandChoice && options.bands) {
      const twice = options.bands.find((b, i) => options.bands!.indexOf(b) !== i);
      if (twice !== undefined) throw new InputError(`band ${twice} is chosen twice (${options.bands.join(',')}); each model band needs its own input band`, '--bands');
    }
    let resolved;
    try {
      resolved = resolveBands(sensor, source.bandCount, options, source.alphaBand);
    } catch (e) {
      // The band choice is checked against this input: name it (e.g. a 2-band file for a 4-band model). A message
      // about an option's own values (--gain needs 4 numbers) names the option first, not the input.
      if (!(e instanceof InputError) || e.path || e.message.startsWith('--')) throw e;
      // The usual case: a photo or display render given to the 4-band reflectance model.
      const rgbHint = dataBands(source).length === 3 && source.sampleType === 'uint8' && description.bands.length === 4 ? '; for 8-bit RGB imagery use --model rgb' : '';
      throw new InputError(e.message + rgbHint, inputs.join(', '));
    }
    const warn = (message: string) => (options.onProgress ?? noProgress)({ kind: 'warning', message });
    for (const w of source.warnings ?? []) warn(w);
    if (options.metadata && source.bandCount === inputs.length) {
      // Files the metadata does not list are not checked; users rename files, but it may describe another scene.
      const unlisted = checkBandFiles(options.metadata, inputs, resolved.bands, resolved.channels);
      if (unlisted.length > 0) {
        warn(`${unlisted.join(', ')} ${unlisted.length === 1 ? 'is' : 'are'} not named in ${basename(options.metadata.file)}: check that it describes this scene`);
      }
    }
    if (checks.bandChoice && options.bands === undefined) {
      if (inputs.length > 1) checkUnusedFiles(inputs, dataBands(source).length, sensor, resolved);
      else checkStackedBands(inputs[0], dataBands(source).length, sensor, resolved);
    }
    if (resolved.bands.length !== description.bands.length) {
      throw new InputError(`the model takes ${description.bands.length} bands (${description.bands.join(', ')}) but sensor ${sensor} gives ${resolved.bands.length}`, inputs.join(', '));
    }
    const mapping = resolved;
    if (options.stripeWidth !== undefined && !(Number.isInteger(options.stripeWidth) && options.stripeWidth > 0 && options.stripeWidth % 256 === 0)) {
      throw new InputError('the stripe width must be a positive multiple of 256 pixels', '--stripe-width');
    }
    const stride = options.stride ?? description.detection.stride;
    if (!Number.isInteger(stride) || stride < 1 || stride > description.architecture.blockSize) {
      throw new InputError(`stride must be a whole number from 1 to the block size (${description.architecture.blockSize})`, '--stride');
    }
    const refine = refinementOf(model, options);
    let guide: LinearForm | undefined;
    try {
      guide = refine ? brightnessGuide(model) : undefined;
    } catch (e) {
      throw new InputError((e as Error).message, '--refine');
    }
    const device = await resolveDevice(options.device ?? 'auto');
    // The network runs on a worker thread, so reading and mosaicking go on while it computes.
    const network = new Network(model, prunedPools(model, options.prune), networkRuntime(device, options.threads));
    // Reads step back: a chunk's feature rows are read after the next chunk's block rows (scored ahead, so the
    // gate's verdict is in before the feature pass; cam-mosaic.ts). Keep a chunk and two block heights of them.
    const lattice = latticeOf(network);
    const lookBehind = 2 * description.architecture.blockSize + chunkRowsOf(lattice, options.chunkRows) * lattice.stride;
    // One scene's column stripes are read one after another: they pass their strips on.
    const memory = new StripMemory();
    return {
      model,
      source,
      prepared: (columns) => preparedRaster(source, mapping, description.normalization, { lookBehind, columns, memory }),
      mapping,
      sensor,
      network,
      device,
      gate: options.gate ?? description.detection.gate,
      stride,
      guards: guardsOf(model, options),
      refine,
      guide,
    };
  } catch (e) {
    await source.close();
    throw e;
  }
}

interface CamRun {
  timings: Record<string, number>;
  stripeThreads: number;
  points: { features: number; total: number };
}

/** The network's sessions: on workers, so reading and mosaicking go on meanwhile (worker-session.ts). */
export function networkRuntime(device: 'cpu' | 'gpu', threads?: number): SessionOptions {
  return device === 'gpu' ? { worker: true, device, threads, workers: 1 } : { worker: true, device, ...cpuWorkerLayout(threads) };
}

export const tileWidthFor = (device: 'cpu' | 'gpu') => (device === 'gpu' ? GPU_TILE_WIDTH : TILE_WIDTH);

/**
 * `run` receives the seconds each stage kept its thread busy, the number of threads that mosaicked stripes and the
 * feature pass's point counts.
 */
async function* camStream(
  inputs: string[], p: Prepared, onProgress: ProgressCallback, run: CamRun, options: CamOptions,
): AsyncGenerator<CamWindow, Float32Array> {
  const { width, height } = p.source;
  const grid = blockGrid(width, height, p.model.description.architecture.blockSize, p.stride);
  onProgress({ kind: 'stage', stage: 'activation map' });
  const seconds: Record<string, number> = {};
  const stripeWidth = options.stripeWidth ?? STRIPE_WIDTH;
  const stripes = columnStripes(grid, width, stripeWidth, latticeOf(p.network).stride);
  const threads = Math.max(1, Math.min(stripes.length, options.stripeThreads ?? 1));
  run.stripeThreads = threads;
  if (threads > 1) {
    const cloneable: CamOptions = { ...options, model: p.model, tta: undefined, device: p.device, onProgress: undefined };
    const logits = yield* parallelStripedCam(inputs, cloneable, [width, height], grid, stripes, stripeWidth, threads, onProgress, seconds, run.points);
    Object.assign(run.timings, { read: 0, scoreBlocks: 0, features: 0, mosaic: 0 }, seconds);
    return logits;
  }
  const logits = yield* stripedCam(p.network, p.prepared, [width, height], grid, {
    gate: p.gate, chunkRows: options.chunkRows, tileWidth: tileWidthFor(p.device), stripeWidth, onProgress, seconds, guards: p.guards, guide: p.guide,
    points: run.points, sweep: (columns) => p.source.sweep?.(columns),
  });
  // One pass does it all, the network on its worker thread while this one reads and mosaics, so the stages
  // overlap: each figure is the time that stage kept its thread busy.
  const busy = await p.network.busySeconds();
  Object.assign(run.timings, { read: seconds.read ?? 0, scoreBlocks: busy.score, features: busy.features, mosaic: seconds.mosaic ?? 0 });
  return logits;
}

/**
 * The map detection thresholds: the mosaic's windows as they come, or with a refinement, the mosaic pass feeding
 * the refinement's cell sums, then a second pass that reads the scene again, stripe by stripe, and yields the
 * refined map (guided-refinement.ts). Neither pass holds the scene.
 */
async function* mapStream(
  inputs: string[], p: Prepared, onProgress: ProgressCallback, run: CamRun, options: CamOptions,
): AsyncGenerator<CamWindow, Float32Array> {
  const stream = camStream(inputs, p, onProgress, run, options);
  if (!p.refine) return yield* stream;
  const { width, height } = p.source;
  const refinement = new GuidedRefinement(width, height, p.refine);
  let step;
  while (!(step = await stream.next()).done) {
    const w = step.value;
    refinement.add(w, w.cam, w.guide!, w.valid);
  }
  const started = performance.now();
  onProgress({ kind: 'stage', stage: 'refinement' });
  refinement.finish();
  // Column stripes again, each top to bottom, so that what this pass holds is bounded by the stripe's width too.
  const stripeWidth = options.stripeWidth ?? STRIPE_WIDTH;
  for (let x0 = 0; x0 < width; x0 += stripeWidth) {
    const x1 = Math.min(width, x0 + stripeWidth);
    const source = p.prepared([x0, x1]);
    for (let y = 0; y < height; y += STRIP_ROWS) {
      const window = { x: x0, y, width: x1 - x0, height: Math.min(STRIP_ROWS, height - y) };
      const { data, valid } = await source.read(window);
      const n = window.width * window.height;
      // The strip's planes are [bands][rows][columns]: each plane is one run of n pixels.
      const guide = new Float32Array(n);
      linearRow(p.guide!, data, n, 0, n, guide);
      const ruledOut = p.guards.length > 0 ? new Uint8Array(n) : undefined;
      if (ruledOut) ruleOutRow(p.guards, data, n, 0, n, ruledOut);
      sharedFloats.give(data);
      yield { ...window, cam: refinement.refine(window, guide, valid), valid, ruledOut };
      // Progress in rows of the whole scene's width.
      onProgress({ kind: 'progress', stage: 'refinement', done: Math.round((x0 * height + window.width * (y + window.height)) / width), total: height, unit: 'rows' });
    }
    source.release?.();
  }
  run.timings.refine = (performance.now() - started) / 1000;
  return step.value;
}

/** The mosaicked activation map of a whole scene, in memory (for evaluation, threshold tuning and tests). */
export async function sceneCam(inputs: string[], options: CamOptions = {}): Promise<{ width: number; height: number; cam: Float32Array; valid: Uint8Array; ruledOut?: Uint8Array; model: Model }> {
  const p = await prepareScene(inputs, options);
  try {
    const { width, height } = p.source;
    const cam = new Float32Array(width * height);
    const valid = new Uint8Array(width * height);
    const ruledOut = p.guards.length > 0 ? new Uint8Array(width * height) : undefined;
    for await (const w of mapStream(inputs, p, options.onProgress ?? noProgress, { timings: {}, stripeThreads: 1, points: { features: 0, total: 0 } }, options)) {
      for (let r = 0; r < w.height; r++) {
        const at = (w.y + r) * width + w.x;
        cam.set(w.cam.subarray(r * w.width, (r + 1) * w.width), at);
        valid.set(w.valid.subarray(r * w.width, (r + 1) * w.width), at);
        if (ruledOut) ruledOut.set(w.ruledOut!.subarray(r * w.width, (r + 1) * w.width), at);
      }
    }
    return { width, height, cam, valid, ruledOut, model: p.model };
  } finally {
    await p.network.release();
    await p.source.close();
  }
}

/** Applies the threshold: 1 where CAM >= T (and no guard rules it out), 0 otherwise, 255 where the input has no data. */
export function thresholdRows(cam: Float32Array, valid: Uint8Array, threshold: number, ruledOut?: Uint8Array, out = new Uint8Array(cam.length)): Uint8Array {
  if (ruledOut) for (let i = 0; i < cam.length; i++) out[i] = valid[i] ? (cam[i] >= threshold && !ruledOut[i] ? 1 : 0) : 255;
  else for (let i = 0; i < cam.length; i++) out[i] = valid[i] ? (cam[i] >= threshold ? 1 : 0) : 255;
  return out;
}

/**
 * False where the input is not in its preset's units (DN only scaled to 0-1, Landsat 8 without the sun angle)
 * while the model was trained on true reflectance (its own preset is calibrated). The rgb model was trained on
 * display values, so they suit it.
 */
function inputCalibrated(p: Prepared): boolean {
  const own = PRESETS[p.model.description.sensor as Sensor];
  return p.mapping.calibrated || !own?.calibrated;
}

export function resolveThreshold(model: Model, options: { k?: number; threshold?: number }): { threshold: number; k: number | null } {
  if (options.threshold !== undefined) return { threshold: options.threshold, k: null };
  const stats = model.description.detection.clearSky;
  if (!stats) throw new InputError('the model has no clear-sky statistics; give --threshold', 'model');
  const k = options.k ?? model.description.detection.k;
  return { threshold: thresholdOf(stats, k), k };
}

/** The outputs `detect` writes, by what they are (for messages). */
function outputsOf(options: DetectOptions): Record<string, string> {
  const named: Record<string, string | undefined> = { 'the mask': options.mask, 'the summary': `${options.mask}.json`, 'the CAM': options.cam, 'the overlay': options.png, 'the heat map': options.heatmap, 'the cloud polygons': options.vector };
  return Object.fromEntries(Object.entries(named).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * Detects cloud in one scene and writes the mask (and the optional CAM and pictures). The scene is its raster
 * files, or alone a product folder or a product archive (.tar, .tar.gz, .tgz), whose metadata names the band files.
 */
export async function detect(inputs: string[], options: DetectOptions): Promise<DetectSummary> {
  checkNumbers(DETECT_NUMBER_RULES, options);
  const onProgress = options.onProgress ?? noProgress;
  const started = performance.now();
  // An earlier run's outputs are refused before any input is read (checking a JPEG 2000 scene's range alone decodes
  // dozens of tiles); the writers look again when they start.
  if (!options.overwrite) {
    const existing = Object.entries(outputsOf(options)).find(([name, path]) => name !== 'the summary' && existsSync(path) && !isFolder(path)); // a folder is named as such below
    if (existing) throw new InputError('the output file already exists (use the overwrite option to replace it)', existing[1]);
  }
  if (inputs.length === 1 && isFolder(inputs[0])) {
    // A product folder: its metadata names the band files (raster/product-folder.ts).
    if (options.metadata) throw new InputError('is a product folder, which brings its own metadata; to use --metadata, give its band files', inputs[0]);
    const product = readProductFolder(inputs[0]);
    onProgress({ kind: 'log', message: `${product.folder}: ${product.inputs.map((f) => basename(f)).join(', ')} with ${basename(product.metadata.file)}` });
    return detectFiles(product.inputs, { ...options, metadata: product.metadata }, started);
  }
  if (inputs.length === 1 && isProductArchive(inputs[0])) {
    // A product archive: the folder's rule on its list of members, and those chosen taken out to a temporary
    // folder (raster/product-archive.ts), which is gone when the scene is done. Messages and the summary name the
    // files taken out as ARCHIVE/MEMBER, never the temporary folder.
    const archive = inputs[0];
    if (options.metadata) throw new InputError('is a product archive, which brings its own metadata; to use --metadata, give its band files', archive);
    // Before the archive is read, which takes a while: an output named as the archive would replace it.
    checkOutputPaths(outputsOf(options), [archive]);
    const product = await openProductArchive(archive, onProgress);
    const shown = product.shown;
    try {
      const relabelled: ProgressCallback = (e) => onProgress('message' in e && e.message !== undefined ? ({ ...e, message: shown(e.message) } as ProgressEvent) : e);
      relabelled({ kind: 'log', message: `${archive}: ${product.inputs.map((f) => basename(f)).join(', ')} with ${basename(product.metadata.file)}` });
      return await detectFiles(product.inputs, { ...options, metadata: product.metadata, onProgress: relabelled }, started, shown);
    } catch (e) {
      throw relabelError(e, shown);
    } finally {
      await product.remove();
    }
  }
  return detectFiles(inputs, options, started);
}

/** `detect` on raster files; `shown` names them in the summary (an archive's members). */
async function detectFiles(inputs: string[], options: DetectOptions, started: number, shown: (path: string) => string = (path) => path): Promise<DetectSummary> {
  const onProgress = options.onProgress ?? noProgress;
  checkOutputPaths(outputsOf(options), options.metadata ? [...inputs, options.metadata.file] : inputs);
  const p = await prepareScene(inputs, options, { bandChoice: true });
  const writers: { abort(): Promise<void> }[] = [];
  // The mask, its extras and its summary stand or fall together: a run stopped or failed between them keeps none.
  const group = new OutputGroup();
  try {
    const { width, height, georef, rpc } = p.source;
    const { threshold, k } = resolveThreshold(p.model, options);
    const calibrated = inputCalibrated(p);
    if (options.metadata) {
      const m = options.metadata;
      onProgress({ kind: 'log', message: `${m.file}: ${m.product}` });
      // Atmospheric correction lowers blue most, which the model's threshold and HOT guard were set without.
      if (m.surface && PRESETS[p.model.description.sensor as Sensor]?.calibrated) {
        onProgress({ kind: 'warning', message: `${m.file}: surface reflectance, but model ${p.model.description.name} learned ${p.model.description.units} at the top of the atmosphere` });
      }
    }
    const offsetWarning = p.sensor === 'sentinel2' ? sentinel2OffsetWarning(inputs.map(shown), options) : undefined;
    if (offsetWarning) onProgress({ kind: 'warning', message: offsetWarning });
    // Wrong units give a quietly wrong mask (all clear or all cloud): say so before the long pass.
    const inputRange = await checkInputRange(p.source, p.mapping);
    if (inputRange.problem) onProgress({ kind: 'warning', message: `${inputs.join(', ')}: ${inputRange.problem}` });
    if (!calibrated) {
      onProgress({
        kind: 'warning',
        message: `${inputs.join(', ')}: sensor ${p.sensor} gives ${p.mapping.uncalibrated}, but model ${p.model.description.name} ` +
          `expects ${p.model.description.units}, and its threshold and spectral guards assume it`,
      });
    }
    const postProcess = (options.dilate ?? 0) > 0 || (options.minSize ?? 0) > 1;
    const outputs: Record<string, string> = { mask: options.mask };
    const timings: Record<string, number> = {};
    const common = { width, height, georef, rpc, cog: options.cog, overwrite: options.overwrite, group };
    const maskWriter = await createGeoTiffWriter(options.mask, { ...common, sampleType: 'uint8', nodata: 255 });
    writers.push(maskWriter);
    let camWriter: GeoTiffWriter | undefined;
    if (options.cam) {
      camWriter = await createGeoTiffWriter(options.cam, { ...common, sampleType: 'float32', nodata: NaN });
      writers.push(camWriter);
      outputs.cam = options.cam;
    }
    let overlay: OverlayQuicklook | undefined;
    let heatmap: HeatmapQuicklook | undefined;
    if (options.png) {
      overlay = await createOverlayQuicklook(options.png, { width, height, overwrite: options.overwrite, group });
      outputs.png = options.png;
    }
    if (options.heatmap) {
      heatmap = await createHeatmapQuicklook(options.heatmap, { width, height, threshold, label: 'cloud activation (logit)', overwrite: options.overwrite, group });
      outputs.heatmap = options.heatmap;
    }
    let polygons: CloudPolygonsWriter | undefined;
    if (options.vector) {
      polygons = await createCloudPolygonsWriter(options.vector, { width, height, georef, crs: options.vectorCrs, overwrite: options.overwrite, group });
      writers.push(polygons);
      if (polygons.warning) onProgress({ kind: 'warning', message: polygons.warning });
      outputs.vector = options.vector;
    }
    const rgbBands = ['red', 'green', 'blue'].map((c) => p.mapping.bands[p.mapping.channels.indexOf(c)]);
    const fullMask = postProcess || polygons ? new Uint8Array(width * height) : null;
    let cloud = 0;
    let nodata = 0;
    const run: CamRun = { timings, stripeThreads: 1, points: { features: 0, total: 0 } };
    const stream = mapStream(inputs, p, onProgress, run, options);
    let writing = 0; // seconds spent thresholding and writing windows
    let step = await stream.next();
    while (!step.done) {
      const w = step.value;
      const t = performance.now();
      const mask = thresholdRows(w.cam, w.valid, threshold, w.ruledOut);
      if (camWriter || heatmap) {
        const camOut = w.cam.map((v, i) => (w.valid[i] ? v : NaN));
        await camWriter?.writeWindow(w, camOut);
        heatmap?.write(w, camOut);
      }
      if (fullMask) for (let r = 0; r < w.height; r++) fullMask.set(mask.subarray(r * w.width, (r + 1) * w.width), (w.y + r) * width + w.x);
      else {
        await maskWriter.writeWindow(w, mask);
        for (const v of mask) v === 1 ? cloud++ : v === 255 ? nodata++ : 0;
        if (overlay) await writeOverlay(overlay, p.source, rgbBands, w, mask);
      }
      writing += (performance.now() - t) / 1000;
      step = await stream.next();
    }
    const logits = step.value;
    const t = performance.now();
    let cloudPolygons: number | undefined;
    if (fullMask) {
      // Cloud regions are not local, so post-processing and tracing work on the whole uint8 mask (1 byte per pixel).
      let mask: Uint8Array = fullMask;
      if ((options.minSize ?? 0) > 1) mask = removeSmall(mask, width, height, options.minSize!);
      if ((options.dilate ?? 0) > 0) mask = dilate(mask, width, height, options.dilate!);
      const strip = 256;
      for (let y = 0; y < height; y += strip) {
        const h = Math.min(strip, height - y);
        const rows = mask.subarray(y * width, (y + h) * width);
        await maskWriter.writeRows(y, h, rows);
        if (overlay) await writeOverlay(overlay, p.source, rgbBands, { x: 0, y, width, height: h }, rows);
      }
      for (const v of mask) v === 1 ? cloud++ : v === 255 ? nodata++ : 0;
      if (polygons) cloudPolygons = await polygons.finish(mask);
    }
    await maskWriter.finish();
    await camWriter?.finish();
    await overlay?.finish();
    await heatmap?.finish();
    timings.write = writing + (performance.now() - t) / 1000;
    timings.total = (performance.now() - started) / 1000;
    let gatedClear = 0;
    for (const z of logits) if (z < 0) gatedClear++;
    const summary: DetectSummary = {
      inputs: inputs.map(shown),
      width,
      height,
      model: p.model.description.name,
      sensor: p.sensor,
      threshold,
      k,
      refine: p.refine,
      darkGuard: options.darkGuard === undefined ? p.model.description.detection.darkGuard?.reflectance ?? null : options.darkGuard,
      hotGuard: options.hotGuard === undefined ? p.model.description.detection.hotGuard?.offset ?? null : options.hotGuard,
      waterGuard: options.waterGuard === undefined ? p.model.description.detection.waterGuard?.reflectance ?? null : options.waterGuard,
      calibrated,
      inputRange,
      ...(options.metadata ? { metadata: { file: shown(options.metadata.file), product: options.metadata.product } } : {}),
      gate: p.gate,
      prunedPools: [...p.network.prunedPools],
      tta: p.model.description.architecture.copies ?? 1,
      device: p.device,
      stripeThreads: run.stripeThreads,
      featureShare: run.points.total > 0 ? run.points.features / run.points.total : 1,
      blocks: { total: logits.length, gatedClear: p.gate ? gatedClear : 0 },
      cloudFraction: cloud / (width * height),
      ...(cloudPolygons !== undefined ? { cloudPolygons } : {}),
      nodataFraction: nodata / (width * height),
      outputs: { ...outputs, summary: `${options.mask}.json` },
      seconds: timings,
    };
    // The summary beside the mask (threshold, fractions, timings): `wdcd view` shows it, and a user finds it later.
    writeFileAtomic(`${options.mask}.json`, JSON.stringify(summary, null, 2) + '\n', 'the summary');
    group.confirm();
    return summary;
  } catch (e) {
    for (const w of writers) await w.abort().catch(() => {});
    await group.discard();
    throw e;
  } finally {
    await p.network.release();
    await p.source.close();
  }
}

async function writeOverlay(overlay: OverlayQuicklook, source: RasterSource, rgbBands: number[], window: PixelWindow, mask: Uint8Array): Promise<void> {
  const planes = await source.readWindow({ x: window.x, y: window.y, width: window.width, height: window.height }, rgbBands);
  overlay.write(window, [planes[0], planes[1], planes[2]], mask);
}
