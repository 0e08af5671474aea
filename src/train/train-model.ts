/**
 * `wdcd train` as one library call: block labels from the named sources, training, the clear-sky statistics of
 * the clear training blocks, k tuned on validation scenes with pixel masks, and the model folder written.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadBlocks, labelCounts, type BandOptions, type LabelledBlock } from '../datasets/index.js';
import { readSceneMask } from '../datasets/scene-blocks.js';
import { openRaster } from '../raster/open.js';
import { dataBands } from '../raster/types.js';
import { bandNamesOf, blocksOf, isUserSource, scenesOf } from '../datasets/source-spec.js';
import { bandOptionsOf } from '../datasets/wdcd-layout.js';
import { resolveDevice, type DeviceChoice } from '../engine/device.js';
import { InputError } from '../errors.js';
import { architectureByName, minimumBlockSize, outputSide, poolIndices } from '../model/architecture.js';
import { saveModel, type Model } from '../model/model-file.js';
import { Network } from '../model/network.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import { clearSkyStatistics } from '../detect/clear-sky.js';
import { tuneK, type KScore, type TuneMetric } from '../detect/tune-k.js';
import { DEFAULT_REFINEMENT_EPS } from '../detect/guided-refinement.js';
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
  checkpointDir?: string;
  resume?: boolean;
  threads?: number;
  /** Where the networks run (engine/device.ts). Default `auto`: the GPU where there is one. */
  device?: DeviceChoice;
  command?: string;
  onProgress?: ProgressCallback;
}

export interface TrainModelResult {
  model: Model;
  history: EpochRecord[];
  kScores: KScore[];
  blocks: { train: { clear: number; cloudy: number }; val: { clear: number; cloudy: number } };
}

/** Refuses, before hours of training, an output that is a file or a folder that already holds a model. */
function checkOutputFolder(output: string, overwrite: boolean): void {
  if (!existsSync(output)) return;
  if (!statSync(output).isDirectory()) throw new InputError('is a file; the model is written as a folder (model.json + weights.bin)', output);
  if (!overwrite && existsSync(join(output, 'model.json'))) throw new InputError('already holds a model; give --overwrite to replace it', output);
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
async function defaultSensor(train: string[], firstUser: string): Promise<Sensor> {
  if (train.every((spec) => spec.startsWith('wdcd:'))) return 'gf1-wfv';
  return (await storedBandCount(firstUser)) === 3 ? 'rgb' : 'landsat8-biome';
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

async function load(specs: string[], size: number, stride: number, optionsFor: (spec: string) => BandOptions, minCloudPixels: number, onProgress: ProgressCallback, what: string): Promise<LabelledBlock[]> {
  const all: LabelledBlock[] = [];
  for (const spec of specs) {
    const source = await blocksOf(spec, size, stride, optionsFor(spec), minCloudPixels);
    for (const w of source.warnings) onProgress({ kind: 'warning', message: w });
    if (source.size !== size) throw new InputError(`blocks are ${source.size} px but the network is set for ${size} px blocks (use --block-size ${source.size})`, spec);
    all.push(...(await loadBlocks(source.blocks, { onProgress: (done, total) => onProgress({ kind: 'progress', stage: `load ${what} blocks`, done, total, unit: 'blocks' }) })));
  }
  return all;
}

export async function trainModel(options: TrainModelOptions): Promise<TrainModelResult> {
  const onProgress = options.onProgress ?? noProgress;
  const base = architectureByName(options.architecture ?? 'wdcd-light');
  const arch = { ...base, blockSize: options.blockSize ?? base.blockSize };
  const size = arch.blockSize;
  try {
    outputSide(arch.layers, size);
  } catch {
    throw new InputError(`${size} px blocks are too small for ${arch.name}: its convolutions and pools need at least ${minimumBlockSize(arch.layers)} px`, '--block-size');
  }
  checkOutputFolder(options.output, options.overwrite ?? false);
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
  const presetSensor = options.sensor ?? (firstUser ? await defaultSensor(options.train, firstUser) : undefined);
  const userOptions = { ...presetBandOptions(presetSensor), ...given };
  const optionsFor = (spec: string) => (isUserSource(spec) ? userOptions : given);
  if (presetSensor && firstUser) onProgress({ kind: 'log', message: `your sources are read through the ${presetSensor} preset (${PRESETS[presetSensor].description}), as detection will read inputs` });
  const tuneScenes = tuneSceneLists.flatMap((scenes, i) => (scenes ?? []).map((scene) => ({ ...scene, ...optionsFor(tuneSpecs[i]!) })));
  await Promise.all(tuneScenes.map(readSceneMask)); // a mask off its image's grid fails now, not after the training
  const device = await resolveDevice(options.device ?? 'auto'); // before the slow part: a GPU asked for and missing fails now
  onProgress({ kind: 'stage', stage: 'load blocks' });
  const minCloudPixels = Math.max(1, Math.ceil((options.minCloudFraction ?? 0) * size * size));
  const trainBlocks = await load(options.train, size, options.trainStride ?? Math.max(1, Math.round(size / 3)), optionsFor, minCloudPixels, onProgress, 'training');
  const valBlocks = await load(options.val ?? [], size, Math.max(1, Math.round(size / 2)), optionsFor, minCloudPixels, onProgress, 'validation');
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
  const bands = options.bandNames ?? (await bandNamesOf(options.train[0]!)) ?? presetChannels ?? Array.from({ length: bandCount }, (_, i) => `band${i + 1}`);
  if (bands.length !== bandCount || bands.some((b) => !b.trim())) throw new InputError(`give ${bandCount} names, one per band of the training blocks (got "${bands.join(',')}")`, '--band-names');
  const guardBands = [...(options.darkGuard !== undefined ? ['red'] : []), ...(options.hotGuard !== undefined ? ['blue', 'red'] : [])];
  const missing = [...new Set(guardBands.filter((b) => !bands.includes(b)))];
  if (missing.length > 0) throw new InputError(`the guards need bands named ${missing.join(' and ')}; the model's are ${bands.join(', ')} (name them with --band-names)`, options.hotGuard !== undefined ? '--hot-guard' : '--dark-guard');
  const unseen = ['blue', 'green', 'red'].filter((b) => !bands.includes(b));
  if (options.refine !== undefined && unseen.length > 0) throw new InputError(`the refinement's guide needs bands named ${unseen.join(', ')}; the model's are ${bands.join(', ')} (name them with --band-names)`, '--refine');
  onProgress({ kind: 'log', message: `training blocks: ${JSON.stringify(labelCounts(trainBlocks))}, validation blocks: ${JSON.stringify(labelCounts(valBlocks))}` });

  const sensor = presetSensor ?? (bands.length === 3 ? 'rgb' : 'landsat8-biome');

  onProgress({ kind: 'stage', stage: 'train' });
  const { model, history } = await train({
    architecture: arch,
    train: trainBlocks,
    val: valBlocks,
    bands,
    units: options.units ?? unitsOf(sensor),
    sensor,
    name: options.output.split(/[\\/]/).filter(Boolean).pop(),
    epochs: options.epochs ?? TRAIN_DEFAULTS.epochs,
    // A batch larger than the blocks would repeat them to fill it (and could take all memory).
    batchSize: Math.min(options.batchSize ?? TRAIN_DEFAULTS.batchSize, trainBlocks.length),
    learningRate: options.learningRate,
    seed: options.seed,
    patience: options.patience,
    checkpointDir: options.checkpointDir,
    resume: options.resume,
    threads: options.threads,
    device,
    onProgress,
    provenance: { command: options.command, train: options.train, val: options.val, tune: options.tune, minCloudFraction: options.minCloudFraction ?? 0 },
  });
  const pools = poolIndices(arch.layers);
  model.description.prunedPools = options.prune === 'last' ? pools.slice(-1) : pools;
  model.description.detection.gate = options.gate ?? model.description.detection.gate;
  model.description.detection.darkGuard = options.darkGuard === undefined ? null : { band: 'red', reflectance: options.darkGuard };
  model.description.detection.hotGuard = options.hotGuard === undefined ? null : { offset: options.hotGuard };
  model.description.detection.refine = options.refine === undefined ? null : { radius: options.refine, eps: options.refineEps ?? DEFAULT_REFINEMENT_EPS };

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
