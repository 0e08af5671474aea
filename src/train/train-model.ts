/**
 * `wdcd train` as one library call: block labels from the named sources, training, the clear-sky statistics of
 * the clear training blocks, k tuned on validation scenes with pixel masks, and the model folder written.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadBlocks, labelCounts, type BandOptions, type LabelledBlock } from '../datasets/index.js';
import { readSceneMask, type SceneSpec } from '../datasets/scene-blocks.js';
import { resolveBands } from '../datasets/blocks.js';
import { openRaster } from '../raster/open.js';
import { dataBands } from '../raster/types.js';
import { bandNamesOf, blocksOf, isUserSource, scenesOf } from '../datasets/source-spec.js';
import { bandOptionsOf } from '../datasets/wdcd-layout.js';
import { resolveDevice, type DeviceChoice } from '../engine/device.js';
import { InputError } from '../errors.js';
import { checkNumbers, positiveWhole, type NumberRule } from '../number-rules.js';
import { ARCHITECTURES, architectureByName, minimumBlockSize, outputSide, poolIndices } from '../model/architecture.js';
import { loadModel, saveModel, type Model } from '../model/model-file.js';
import { Network } from '../model/network.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import { clearSkyStatistics } from '../detect/clear-sky.js';
import { tuneK, type KScore, type TuneMetric } from '../detect/tune-k.js';
import { DEFAULT_REFINEMENT_EPS } from '../detect/guided-refinement.js';
import { PLAUSIBLE_RANGE, checkInputRange } from '../prepare/input-range.js';
import { PRESETS, type Sensor } from '../raster/sensors.js';
import { TRAIN_DEFAULTS, train, type EpochRecord } from './trainer.js';

export interface TrainModelOptions {
  /** Model folder to write. */
  output: string;
  /** Replace a model already in `output`. Default false: a folder holding a model is refused before training. */
  overwrite?: boolean;
  train: string[];
  val?: string[];
  /** Scenes with pixel masks to choose k on; default the validation sources that are scenes. */
  tune?: string[];
  /**
   * Fine-tuning: a model (bundled name or folder) whose weights training starts from. Its architecture, block
   * size, bands, normalisation, sensor preset and detection settings (LPP, gate, guards, refinement) are kept
   * unless given; the clear-sky statistics are estimated afresh, and k is tuned afresh where there are scenes to tune
   * on (else the model's is kept).
   */
  init?: string;
  architecture?: string;
  blockSize?: number;
  /** Step between training blocks cut from scenes. */
  trainStride?: number;
  /**
   * Cloud share a scene block needs to be labelled cloudy; blocks with less (but some) cloud are left out as
   * ambiguous, never labelled clear. 0: any cloud pixel makes a block cloudy.
   */
  minCloudFraction?: number;
  /** LPP default stored in the model. */
  prune?: 'all' | 'last';
  gate?: boolean;
  /** Dark guard stored in the model (reflectance floor of the red band; see DarkGuard); default none. */
  darkGuard?: number;
  /** HOT guard stored in the model (offset of blue - 0.5 red; see HotGuard); default none. */
  hotGuard?: number;
  /** Water guard stored in the model (reflectance floor of the nir band; see WaterGuard); default none. */
  waterGuard?: number;
  /**
   * Refinement stored in the model (guided filter radius in px; detect/guided-refinement.ts); default none. The
   * clear-sky statistics stay those of the unrefined map of clear blocks; k is tuned on the refined map.
   */
  refine?: number;
  /** Its regularisation (default DEFAULT_REFINEMENT_EPS). */
  refineEps?: number;
  tuneMetric?: TuneMetric;
  statistic?: 'pixel' | 'block';
  /** Band choice and scaling for every source, catalogue ones included (they override the preset's). */
  bandOptions?: BandOptions;
  bandNames?: string[];
  /** Default: from the sensor preset (reflectance, display values, or uncalibrated DN). */
  units?: string;
  /**
   * The preset detection applies to inputs by default. Its band order and scaling (and fill value) also apply
   * in training to the user's sources (blocks:, scenes:, wdcd:), so that the network learns the values detection
   * will give it; catalogue sources keep their own. Default: gf1-wfv where every training source is `wdcd:` (the
   * WDCD dataset is GaoFen-1 WFV DN), else rgb for 3 bands and landsat8-biome (reflectance as stored) otherwise.
   */
  sensor?: Sensor;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  patience?: number;
  /** Photometric jitter of training blocks, 0 (none, the default) to 1 (train/augment.ts). */
  colourJitter?: number;
  checkpointDir?: string;
  resume?: boolean;
  threads?: number;
  /** Where the networks run (engine/device.ts). Default `auto`: the GPU where there is one. */
  device?: DeviceChoice;
  command?: string;
  onProgress?: ProgressCallback;
}

const reflectance = (n: number) => n >= 0;

/**
 * The numeric options' valid values, checked by `trainModel` (a library caller's batch size of 0 would spin, 0
 * epochs would save the starting weights) and by the CLI as it parses them: the option each is, and what it takes.
 */
export const TRAIN_NUMBER_RULES = {
  blockSize: ['--block-size', positiveWhole, 'a whole number of pixels'],
  trainStride: ['--train-stride', positiveWhole, 'a whole number of pixels'],
  minCloudFraction: ['--min-cloud', (n) => n >= 0 && n < 1, 'a fraction from 0 to 1'],
  epochs: ['--epochs', positiveWhole, 'a whole number'],
  batchSize: ['--batch-size', positiveWhole, 'a whole number'],
  learningRate: ['--lr', (n) => n > 0, 'a positive number'],
  seed: ['--seed', Number.isInteger, 'a whole number'],
  patience: ['--patience', positiveWhole, 'a whole number'],
  colourJitter: ['--colour-jitter', (n) => n >= 0 && n <= 1, 'a strength from 0 to 1'],
  darkGuard: ['--dark-guard', reflectance, 'a reflectance'],
  hotGuard: ['--hot-guard', Number.isFinite, 'a reflectance'],
  waterGuard: ['--water-guard', reflectance, 'a reflectance'],
  refine: ['--refine', positiveWhole, 'a radius in pixels'],
  refineEps: ['--refine-eps', (n) => n > 0, 'a positive number'],
  threads: ['--threads', positiveWhole, 'a whole number'],
} satisfies Partial<Record<keyof TrainModelOptions, NumberRule>>;

function checkOptions(options: TrainModelOptions): void {
  checkNumbers(TRAIN_NUMBER_RULES, options);
  if (options.architecture !== undefined && !ARCHITECTURES[options.architecture]) {
    throw new InputError(`unknown architecture "${options.architecture}" (${Object.keys(ARCHITECTURES).join(', ')})`, '--arch');
  }
}

export interface TrainModelResult {
  model: Model;
  history: EpochRecord[];
  kScores: KScore[];
  blocks: { train: { clear: number; cloudy: number }; val: { clear: number; cloudy: number } };
}

/**
 * Refuses, before hours of training, an output that is a file, a folder that already holds a model, a folder of
 * the training data itself, or one that cannot be made (a file where a parent folder should be).
 */
function checkOutputFolder(output: string, overwrite: boolean, specs: string[]): void {
  const target = resolve(output);
  for (const spec of specs) {
    const folder = dataFolderOf(spec);
    if (folder && resolve(folder) === target) throw new InputError(`is a folder of the training data (${spec}); write the model to a folder of its own`, output);
  }
  if (!existsSync(output)) return checkFolderCanBeMade(output);
  if (!statSync(output).isDirectory()) throw new InputError('is a file; the model is written as a folder (model.json + weights.bin)', output);
  if (!overwrite && existsSync(join(output, 'model.json'))) throw new InputError('already holds a model; give --overwrite to replace it', output);
}

/** A folder written after training (the model, checkpoints) whose path has a file where a folder should be fails now. */
function checkFolderCanBeMade(folder: string, what = ''): void {
  let parent = resolve(folder);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) throw new InputError(`${what}cannot be made: ${parent} is a file, not a folder`, folder);
}

/** The folder a `blocks:DIR` or `wdcd:DIR[:SPLIT]` spec reads, or undefined. */
function dataFolderOf(spec: string): string | undefined {
  const [kind, ...rest] = spec.split(':');
  if (kind === 'blocks' && !rest.join(':').toLowerCase().endsWith('.csv')) return rest.join(':');
  if (kind === 'wdcd') return rest[0];
  return undefined;
}

/** A sensor preset as the band options of a user source: 1-based bands to 0-based, its scaling and fill value. */
function presetBandOptions(sensor: Sensor | undefined): BandOptions {
  if (!sensor) return {};
  const p = PRESETS[sensor];
  return { bands: p.bands.map((b) => b - 1), scale: p.scale, offset: p.offset, ...(p.nodata === null ? {} : { nodataValue: p.nodata }) };
}

/**
 * The preset for the user's sources when --sensor is not given, from what they hold: the WDCD dataset is GaoFen-1
 * WFV DN; three bands are taken for 8-bit display RGB (what a JPEG or PNG holds); more bands for reflectance with
 * blue, green, red and NIR first, as the L8 Biome subsets (bands 1-4, as stored).
 */
async function defaultSensor(train: string[], userSpecs: string[]): Promise<Sensor> {
  if (train.every((spec) => spec.startsWith('wdcd:'))) return 'gf1-wfv';
  // Every user source is read through the one preset: three-band display RGB and more-band reflectance side by side
  // would read one of them in the other's units (bands swapped, or reflectance over 255) without a word.
  const counts = await Promise.all(userSpecs.map(storedBandCount));
  const rgb = counts.findIndex((n) => n === 3);
  const other = counts.findIndex((n) => n !== 3);
  if (rgb >= 0 && other >= 0) {
    throw new InputError(
      `${userSpecs[rgb]} holds 3 bands (read as display RGB) but ${userSpecs[other]} holds ${counts[other]} (read as reflectance); ` +
        'sources read through one preset must hold the same bands: give --sensor and --bands to say how to read them',
      '--sensor',
    );
  }
  return rgb >= 0 ? 'rgb' : 'landsat8-biome';
}

async function storedBandCount(spec: string): Promise<number> {
  const scenes = await scenesOf(spec);
  if (!scenes) return (await blocksOf(spec, 1, 1)).bandCount; // block sources open only their first file for this
  const source = await openRaster(scenes[0]!.image);
  try {
    return dataBands(source).length;
  } finally {
    await source.close();
  }
}

/** What the model's inputs are, for its description and detection's messages. */
function unitsOf(sensor: Sensor): string {
  if (PRESETS[sensor].calibrated) return 'reflectance (0-1)';
  return sensor === 'rgb' ? 'display values (0-1)' : `${sensor} values scaled to 0-1, not calibrated`;
}

/** Blocks with the file(s) each was read from (a key per block: paths joined by newlines). */
interface Loaded {
  blocks: LabelledBlock[];
  files: string[];
}

/** Like scene blocks (scene-blocks.ts): a block more than half no data says little about its label. */
const MAX_NODATA_FRACTION = 0.5;
/** As detection's check of its input (prepare/input-range.ts): a block with more of its values outside the plausible range is in other units. */
const OUTSIDE_SHARE = 0.05;
/** Below this brightest value a whole source holds nothing a sensor records in daylight. */
const DARKEST_MAX = 0.02;

async function load(specs: string[], size: number, stride: number, optionsFor: (spec: string) => BandOptions, minCloudPixels: number, onProgress: ProgressCallback, what: string, readAs: (spec: string) => string): Promise<Loaded> {
  const all: Loaded = { blocks: [], files: [] };
  for (const spec of specs) {
    const source = await blocksOf(spec, size, stride, optionsFor(spec), minCloudPixels);
    for (const w of source.warnings) onProgress({ kind: 'warning', message: w });
    if (source.size !== size) throw new InputError(`blocks are ${source.size} px but the network is set for ${size} px blocks (use --block-size ${source.size})`, spec);
    const blocks = await loadBlocks(source.blocks, { onProgress: (done, total) => onProgress({ kind: 'progress', stage: `load ${what} blocks`, done, total, unit: 'blocks' }) });
    const files = source.blocks.map((ref) => ref.paths.join('\n'));
    // NaN and nodata pixels are filled with 0: a block mostly of them would teach its label from the fill.
    const keep = blocks.map((b) => 1 - (b.validFraction ?? 1) <= MAX_NODATA_FRACTION);
    const dropped = keep.flatMap((k, i) => (k ? [] : [files[i]!]));
    if (dropped.length > 0) {
      onProgress({ kind: 'warning', message: `${spec}: ${dropped.length} ${what} block(s) left out, more than half their pixels no data (NaN or the file's nodata value): ${listed(dropped)}` });
    }
    const kept = blocks.filter((_, i) => keep[i]);
    const keptFiles = files.filter((_, i) => keep[i]);
    checkUnits(spec, kept, keptFiles, readAs(spec));
    all.blocks.push(...kept);
    all.files.push(...keptFiles);
  }
  return all;
}

/** The first few of a list of files, for messages. */
function listed(files: string[]): string {
  const unique = [...new Set(files)].map((f) => f.replace(/\n/g, ' + '));
  return unique.slice(0, 3).join(', ') + (unique.length > 3 ? ` and ${unique.length - 3} more` : '');
}

/**
 * Refuses blocks whose values, as read (preset and --scale applied), are not in the 0-1 units every model records
 * (reflectance or display values): DN read as reflectance, or reflectance scaled again. The network learns from
 * any numbers, so such a model trains without a word and then fails on inputs in the units it says it takes.
 */
function checkUnits(spec: string, blocks: LabelledBlock[], files: string[], readAs: string): void {
  const [lo, hi] = PLAUSIBLE_RANGE;
  const f = (v: number) => Number(v.toPrecision(4));
  const hint = `give --sensor or --scale so that they read as 0-1 reflectance (or display values), as the model records`;
  let brightest = -Infinity;
  const off: { file: string; share: number; min: number; max: number }[] = [];
  blocks.forEach((block, i) => {
    let outside = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const v of block.bands) {
      if (v < lo || v > hi) outside++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (max > brightest) brightest = max;
    if (outside > OUTSIDE_SHARE * block.bands.length) off.push({ file: files[i]!, share: outside / block.bands.length, min, max });
  });
  if (off.length > 0) {
    const first = off[0]!;
    const others = off.length > 1 ? `; also ${listed(off.slice(1).map((o) => o.file))}` : '';
    throw new InputError(
      `${off.length} of ${blocks.length} blocks have more than ${OUTSIDE_SHARE * 100} % of their values outside ${lo} to ${hi} as read ${readAs} ` +
        `(${listed([first.file])}: ${(first.share * 100).toFixed(0)} %, ${f(first.min)} to ${f(first.max)}${others}): they look like digital numbers, not 0-1 values; ${hint}`,
      spec,
    );
  }
  if (blocks.length > 0 && brightest < DARKEST_MAX) {
    throw new InputError(`the brightest value of its ${blocks.length} blocks is ${f(brightest)} as read ${readAs}: they look scaled twice (reflectance scaled again by --scale or the preset) or black; ${hint}`, spec);
  }
}

export async function trainModel(options: TrainModelOptions): Promise<TrainModelResult> {
  checkOptions(options);
  const onProgress = options.onProgress ?? noProgress;
  const initial = options.init === undefined ? undefined : loadModel(options.init);
  const arch = initial ? initialArchitecture(initial, options) : { ...architectureByName(options.architecture ?? 'wdcd-light') };
  if (!initial) arch.blockSize = options.blockSize ?? arch.blockSize;
  const size = arch.blockSize;
  try {
    outputSide(arch.layers, size);
  } catch {
    throw new InputError(`${size} px blocks are too small for ${arch.name}: its convolutions and pools need at least ${minimumBlockSize(arch.layers)} px`, '--block-size');
  }
  checkOutputFolder(options.output, options.overwrite ?? false, [...options.train, ...(options.val ?? [])]);
  for (const spec of [...options.train, ...(options.val ?? []), ...(options.tune ?? [])]) {
    if (/^[a-z0-9-]+:$/.test(spec)) throw new InputError('names no file or folder after the colon', spec);
  }
  // Mistakes in the tuning scenes would otherwise surface only after the training.
  const tuneSpecs = options.tune ?? options.val ?? [];
  const tuneSceneLists = await Promise.all(tuneSpecs.map(scenesOf));
  options.tune?.forEach((spec, i) => {
    if (!tuneSceneLists[i]) throw new InputError('holds block labels only; --tune needs scenes with pixel masks (scenes:LIST.csv or a catalogue split)', spec);
  });
  // The user's own sources are read through the sensor preset the model records, as detection will read its inputs;
  // explicit --bands/--scale/--offset win over the preset's, for every source.
  const given = bandOptionsOf(options.bandOptions ?? {});
  const firstUser = options.train.find(isUserSource);
  const userSpecs = [...new Set([...options.train, ...(options.val ?? []), ...(options.tune ?? [])])].filter(isUserSource);
  const initialSensor = initial && initial.description.sensor in PRESETS ? (initial.description.sensor as Sensor) : undefined;
  const presetSensor = options.sensor ?? (userSpecs.length > 0 ? initialSensor ?? (await defaultSensor(options.train, userSpecs)) : undefined);
  const userOptions = { ...presetBandOptions(presetSensor), ...given };
  const optionsFor = (spec: string) => (isUserSource(spec) ? userOptions : given);
  const overrides = [given.bands && '--bands', given.scale !== undefined && '--scale', given.offset !== undefined && '--offset'].filter(Boolean).join(', ');
  const readAs = (spec: string) => (isUserSource(spec) && presetSensor ? `through the ${presetSensor} preset` : `with its catalogue preset`) + (overrides ? ` and ${overrides}` : '');
  if (presetSensor && userSpecs.length > 0) onProgress({ kind: 'log', message: `your sources are read through the ${presetSensor} preset (${PRESETS[presetSensor].description}), as detection will read inputs` });
  const tuneScenes = tuneSceneLists.flatMap((scenes, i) => (scenes ?? []).map((scene) => ({ ...scene, ...optionsFor(tuneSpecs[i]!), spec: tuneSpecs[i]! })));
  await Promise.all(tuneScenes.map(readSceneMask)); // a mask off its image's grid fails now, not after the training
  if (options.checkpointDir) {
    checkFolderCanBeMade(options.checkpointDir, '--checkpoint ');
    // Without --resume the run's first epoch replaces it.
    if (!options.resume && existsSync(join(options.checkpointDir, 'state.json'))) {
      onProgress({ kind: 'warning', message: `${options.checkpointDir} holds a checkpoint; without --resume this run starts over and replaces it` });
    }
  }
  const device = await resolveDevice(options.device ?? 'auto'); // before the slow part: a GPU asked for and missing fails now
  onProgress({ kind: 'stage', stage: 'load blocks' });
  const minCloudPixels = Math.max(1, Math.ceil((options.minCloudFraction ?? 0) * size * size));
  const trainLoaded = await load(options.train, size, options.trainStride ?? Math.max(1, Math.round(size / 3)), optionsFor, minCloudPixels, onProgress, 'training', readAs);
  const valLoaded = await load(options.val ?? [], size, Math.max(1, Math.round(size / 2)), optionsFor, minCloudPixels, onProgress, 'validation', readAs);
  // The model written among the files it learned from (a CSV's block folder, a scene list's folder) mixes the two.
  const dataFiles = [...trainLoaded.files, ...valLoaded.files].flatMap((f) => f.split('\n'));
  const inData = [...dataFiles, ...tuneScenes.flatMap((scene) => [...scene.image, scene.mask])].find((f) => resolve(dirname(f)) === resolve(options.output));
  if (inData) throw new InputError(`holds the training data (${inData}); write the model to a folder of its own`, options.output);
  const trainBlocks = trainLoaded.blocks;
  const valBlocks = valLoaded.blocks;
  if (trainBlocks.length === 0) throw new InputError('the training sources gave no blocks');
  const bandCount = trainBlocks[0]!.bandCount;
  const odd = [...trainBlocks, ...valBlocks].find((b) => b.bandCount !== bandCount);
  if (odd) throw new InputError(`gives ${odd.bandCount}-band blocks, but the first training source gives ${bandCount} bands; choose the same bands with --bands`, odd.id);
  const counts = labelCounts(trainBlocks);
  if (counts.cloudy === 0 || counts.clear === 0) {
    // The loss would be one class's alone, and the clear-sky statistics need clear blocks.
    throw new InputError(`the training blocks are all ${counts.cloudy === 0 ? 'clear' : 'cloudy'} (${trainBlocks.length}); the network learns from both cloudy and clear blocks`, options.train.join(' '));
  }
  const presetChannels = presetSensor && !given.bands && firstUser === options.train[0] ? [...PRESETS[presetSensor].channels] : undefined;
  if (initial && initial.description.bands.length !== bandCount) {
    throw new InputError(`the training blocks have ${bandCount} bands but ${options.init} takes ${initial.description.bands.length} (${initial.description.bands.join(', ')}); choose them with --bands`, '--init');
  }
  const bands = options.bandNames ?? initial?.description.bands ?? (await bandNamesOf(options.train[0]!)) ?? presetChannels ?? Array.from({ length: bandCount }, (_, i) => `band${i + 1}`);
  if (bands.length !== bandCount || bands.some((b) => !b.trim())) throw new InputError(`give ${bandCount} names, one per band of the training blocks (got "${bands.join(',')}")`, '--band-names');
  const guardBands: [string, string[]][] = [
    ['--dark-guard', options.darkGuard !== undefined ? ['red'] : []],
    ['--hot-guard', options.hotGuard !== undefined ? ['blue', 'red'] : []],
    ['--water-guard', options.waterGuard !== undefined ? ['nir'] : []],
  ];
  for (const [option, needed] of guardBands) {
    const missing = needed.filter((b) => !bands.includes(b));
    if (missing.length > 0) throw new InputError(`the guard needs bands named ${missing.join(' and ')}; the model's are ${bands.join(', ')} (name them with --band-names)`, option);
  }
  const unseen = ['blue', 'green', 'red'].filter((b) => !bands.includes(b));
  if (options.refine !== undefined && unseen.length > 0) throw new InputError(`the refinement's guide needs bands named ${unseen.join(', ')}; the model's are ${bands.join(', ')} (name them with --band-names)`, '--refine');
  await checkTuneScenes(tuneScenes, bandCount, (scene) => readAs(scene.spec));
  onProgress({ kind: 'log', message: `training blocks: ${JSON.stringify(labelCounts(trainBlocks))}, validation blocks: ${JSON.stringify(labelCounts(valBlocks))}` });
  for (const message of heldOutWarnings(trainLoaded, valLoaded, options.tune ? tuneScenes.map((scene) => scene.image.join('\n')) : [])) onProgress({ kind: 'warning', message });
  if (tuneScenes.length === 0) {
    onProgress({ kind: 'warning', message: `no scenes with pixel masks to tune k on (--tune, or scenes among --val): k stays ${initial ? `${options.init}'s, ${initial.description.detection.k}` : 'at its untuned default, 2'}` });
  }

  const sensor = presetSensor ?? initialSensor ?? (bands.length === 3 ? 'rgb' : 'landsat8-biome');

  onProgress({ kind: 'stage', stage: 'train' });
  const { model, history } = await train({
    architecture: arch,
    train: trainBlocks,
    val: valBlocks,
    bands,
    units: options.units ?? (initial && sensor === initial.description.sensor ? initial.description.units : unitsOf(sensor)),
    sensor,
    name: options.output.split(/[\\/]/).filter(Boolean).pop(),
    epochs: options.epochs ?? TRAIN_DEFAULTS.epochs,
    // A batch larger than the blocks would repeat them to fill it (and could take all memory).
    batchSize: Math.min(options.batchSize ?? TRAIN_DEFAULTS.batchSize, trainBlocks.length),
    learningRate: options.learningRate ?? (initial ? FINE_TUNE_LEARNING_RATE : undefined),
    seed: options.seed,
    patience: options.patience,
    colourJitter: options.colourJitter,
    checkpointDir: options.checkpointDir,
    resume: options.resume,
    initial: initial && { weights: initial.weights, normalization: initial.description.normalization, from: options.init! },
    threads: options.threads,
    device,
    onProgress,
    provenance: {
      command: options.command,
      ...(initial ? { init: { model: options.init, name: initial.description.name, command: initial.description.training?.command } } : {}),
      train: options.train,
      val: options.val,
      tune: options.tune,
      minCloudFraction: options.minCloudFraction ?? 0,
    },
  });
  const pools = poolIndices(arch.layers);
  const kept = initial?.description;
  const detection = model.description.detection;
  model.description.prunedPools = options.prune === 'last' ? pools.slice(-1) : options.prune === 'all' || !kept ? pools : kept.prunedPools;
  detection.gate = options.gate ?? kept?.detection.gate ?? detection.gate;
  detection.darkGuard = options.darkGuard === undefined ? kept?.detection.darkGuard ?? null : { band: 'red', reflectance: options.darkGuard };
  detection.hotGuard = options.hotGuard === undefined ? kept?.detection.hotGuard ?? null : { offset: options.hotGuard };
  detection.waterGuard = options.waterGuard === undefined ? kept?.detection.waterGuard ?? null : { reflectance: options.waterGuard };
  detection.refine = options.refine === undefined ? kept?.detection.refine ?? null : { radius: options.refine, eps: options.refineEps ?? DEFAULT_REFINEMENT_EPS };
  if (kept) {
    detection.stride = kept.detection.stride;
    detection.k = kept.detection.k; // unless tuned below
  }

  onProgress({ kind: 'stage', stage: 'clear-sky statistics' });
  const network = new Network(model, undefined, { threads: options.threads, device });
  try {
    model.description.detection.clearSky = await clearSkyStatistics(network, trainBlocks, options.statistic ?? 'pixel', onProgress);
  } finally {
    await network.release();
  }

  let kScores: KScore[] = [];
  if (tuneScenes.length > 0) {
    onProgress({ kind: 'stage', stage: 'tune k' });
    const tuned = await tuneK(model, tuneScenes, options.tuneMetric ?? 'image-kappa', { threads: options.threads, device }, onProgress);
    model.description.detection.k = tuned.k;
    kScores = tuned.scores;
    model.description.training = { ...model.description.training, tuneMetric: options.tuneMetric ?? 'image-kappa', kScores: kScores.map((s) => ({ k: s.k, threshold: s.threshold, tuning: s.tuning, oa: s.oa, f1: s.f1, kappa: s.kappa })) };
  }
  saveModel(options.output, model);
  return { model, history, kScores, blocks: { train: labelCounts(trainBlocks), val: labelCounts(valBlocks) } };
}

/**
 * Default step size of a fine-tune: a tenth of training's from scratch. The weights start near a minimum of the
 * loss, and full-size Adam steps on a small new set walk them out of it.
 */
const FINE_TUNE_LEARNING_RATE = TRAIN_DEFAULTS.learningRate / 10;

/** The architecture a fine-tune keeps; --arch or --block-size that name another are refused. */
function initialArchitecture(initial: Model, options: TrainModelOptions): Model['description']['architecture'] {
  const arch = initial.description.architecture;
  if (options.architecture !== undefined && options.architecture !== arch.name) {
    throw new InputError(`${options.init} is a ${arch.name} model; fine-tuning keeps its architecture (leave out --arch)`, '--arch');
  }
  if (options.blockSize !== undefined && options.blockSize !== arch.blockSize) {
    throw new InputError(`${options.init} takes ${arch.blockSize} px blocks (its global convolutional pooling kernel is sized to them); fine-tuning keeps them`, '--block-size');
  }
  return { ...arch };
}

/**
 * What makes the held-out data say less than it seems: validation blocks read from the training's own files (the
 * validation loss, which picks the best epoch and stops early, then rewards fitting the training data), validation
 * blocks of one class only, and tuning scenes the network trained on.
 */
function heldOutWarnings(train: Loaded, val: Loaded, tuneFiles: string[]): string[] {
  const out: string[] = [];
  const trained = new Set(train.files);
  const shared = val.files.filter((f) => trained.has(f));
  if (shared.length > 0) {
    out.push(`${shared.length} of ${val.blocks.length} validation blocks come from files the training blocks come from too (${listed(shared)}): the validation loss then measures the fit to the training data, and picks the best epoch by it`);
  }
  const counts = labelCounts(val.blocks);
  if (val.blocks.length > 0 && (counts.clear === 0 || counts.cloudy === 0)) {
    out.push(`the validation blocks are all ${counts.clear === 0 ? 'cloudy' : 'clear'} (${val.blocks.length}): the validation loss, which picks the best epoch, scores one class only`);
  }
  const tunedOnTrained = tuneFiles.filter((f) => trained.has(f));
  if (tunedOnTrained.length > 0) out.push(`${tunedOnTrained.length} of ${tuneFiles.length} --tune scenes are training scenes too (${listed(tunedOnTrained)}): k is chosen on scenes the network was trained on`);
  return out;
}

const perBand = (v: number | number[] | undefined, n: number, fallback: number): number[] => (Array.isArray(v) ? v : new Array<number>(n).fill(v ?? fallback));

/**
 * Tuning scenes are read only after the training: ones that give other bands than the training blocks, or values
 * in other units (DN where the blocks are reflectance: k would be chosen on a map of other numbers), fail now.
 */
async function checkTuneScenes(scenes: (SceneSpec & { spec: string })[], bandCount: number, readAs: (scene: SceneSpec & { spec: string }) => string): Promise<void> {
  for (const scene of scenes) {
    const source = await openRaster(scene.image);
    try {
      const where = source.paths.join(', ');
      const bands = resolveBands(scene, source, where);
      if (bands.length !== bandCount) throw new InputError(`a --tune scene of ${scene.spec} gives ${bands.length} bands, the training blocks ${bandCount}; tune on scenes of the same bands`, where);
      const range = await checkInputRange(source, { bands, scale: perBand(scene.scale, bands.length, 1), offset: perBand(scene.offset, bands.length, 0), nodata: scene.nodataValue === undefined ? [] : [scene.nodataValue] });
      if (range.problem) {
        const f = (v: number | null) => (v === null ? v : Number(v.toPrecision(4)));
        throw new InputError(`a --tune scene of ${scene.spec} does not hold 0-1 values as read ${readAs(scene)} (${(range.outsideShare * 100).toFixed(0)} % of sampled values outside ${PLAUSIBLE_RANGE.join(' to ')}, ${f(range.min)} to ${f(range.max)}); give --sensor or --scale, as for the training blocks`, where);
      }
    } finally {
      await source.close();
    }
  }
}
