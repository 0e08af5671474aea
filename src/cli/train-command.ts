import { parseArgs } from 'node:util';
import { SOURCE_SPEC_HELP } from '../datasets/source-spec.js';
import { DEVICE_CHOICES } from '../engine/device.js';
import { InputError } from '../errors.js';
import { ARCHITECTURES } from '../model/architecture.js';
import { TRAIN_NUMBER_RULES, trainModel } from '../train/train-model.js';
import { TUNE_METRICS } from '../detect/tune-k.js';
import { SENSORS } from '../raster/sensors.js';
import { bandList, choice, joinNegativeValues, numberOption, scalarOrList } from './options.js';
import { progressPrinter } from './progress-bar.js';

export const TRAIN_USAGE = `wdcd train --train SOURCE [--train SOURCE ...] -o MODEL_DIR [options]

  Trains on block labels only (cloudy / clear); scenes with pixel masks are cut into blocks labelled cloudy if
  they hold cloud. Then estimates the clear-sky statistics and tunes k on validation scenes with masks.
  SOURCE: ${SOURCE_SPEC_HELP}

  -o, --output DIR       model folder to write (model.json + weights.bin)
  --overwrite            replace a model already in that folder (default: refused before training)
  --val SOURCE           held-out blocks for validation and best-epoch choice (repeatable)
  --tune SOURCE          scenes with pixel masks for choosing k (default: the --val scenes)
  --init MODEL           fine-tune: start from a model's weights (default | rgb | a folder), keeping its
                         architecture, bands, normalisation, sensor and detection settings unless given; the
                         learning rate defaults to 0.0001; the clear-sky statistics are estimated afresh,
                         and k tuned afresh where there are scenes to tune on
  --arch NAME            ${Object.keys(ARCHITECTURES).join(' | ')} (default wdcd-light)
  --block-size N         block side in pixels (default: the architecture's)
  --train-stride N       step between blocks cut from training scenes (default: a third of a block)
  --min-cloud F          cloud share a scene block needs to count as cloudy; blocks with a trace below it are
                         left out (default 0: any cloud pixel makes a block cloudy)
  --bands 1,2,3,4        bands (1-based) of the source files, in model order (default: the source's preset)
  --band-names a,b,...   names recorded in the model (default: the source's)
  --scale S[,S...]       value * scale + offset, per band or one for all
  --offset O[,O...]
  --sensor NAME          preset that detection applies to inputs by default; its band order and scaling apply
                         to blocks:, scenes: and wdcd: sources in training too (default: gf1-wfv for wdcd:
                         sources alone, rgb for 3 bands, else landsat8-biome: reflectance as stored)
  --epochs N             (default 30)   --batch-size N (default 16)   --lr X (default 0.001)   --seed N (default 1)
  --patience N           stop after N epochs without a better validation loss (default 10)
  --colour-jitter S      photometric augmentation: random gamma, contrast, brightness and band gains,
                         strength 0 (default, none) to 1
  --prune all|last       LPP default stored in the model (default all: full-resolution map)
  --no-gate              store the block gate off
  --dark-guard R         store a dark guard: no cloud where red reflectance < R (ACCA uses 0.08; default none)
  --hot-guard O          store a HOT guard: no cloud where blue - 0.5 red < O (Fmask uses 0.08; default none)
  --water-guard W        store a water guard: no cloud where NIR reflectance < W (Fmask's water test uses
                         0.05; default none)
  --refine R             store an edge-aware refinement of the map (guided filter, radius R px; default none);
                         k is then tuned on the refined map
  --refine-eps E         its regularisation in squared reflectance (default 1e-3)
  --tune-metric M        what k maximises: image-kappa (mean per-image kappa, default) | f1 | oa | kappa
  --statistic pixel|block     clear-sky statistics (default pixel)
  --checkpoint DIR       save a checkpoint every epoch;  --resume  continue from it
  --threads N            CPU threads
  --device auto|cpu|gpu  where the networks run (default auto: the GPU where there is one)`;

const TRAIN_OPTIONS = {
  train: { type: 'string', multiple: true },
  val: { type: 'string', multiple: true },
  tune: { type: 'string', multiple: true },
  init: { type: 'string' },
  output: { type: 'string', short: 'o' },
  overwrite: { type: 'boolean' },
  arch: { type: 'string' },
  'block-size': { type: 'string' },
  'train-stride': { type: 'string' },
  'min-cloud': { type: 'string' },
  bands: { type: 'string' },
  'band-names': { type: 'string' },
  scale: { type: 'string' },
  offset: { type: 'string' },
  sensor: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  lr: { type: 'string' },
  seed: { type: 'string' },
  patience: { type: 'string' },
  'colour-jitter': { type: 'string' },
  prune: { type: 'string' },
  'no-gate': { type: 'boolean' },
  'dark-guard': { type: 'string' },
  'hot-guard': { type: 'string' },
  'water-guard': { type: 'string' },
  refine: { type: 'string' },
  'refine-eps': { type: 'string' },
  'tune-metric': { type: 'string' },
  statistic: { type: 'string' },
  checkpoint: { type: 'string' },
  resume: { type: 'boolean' },
  threads: { type: 'string' },
  device: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function trainCommand(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: joinNegativeValues(argv, TRAIN_OPTIONS),
    options: TRAIN_OPTIONS,
  });
  if (!v.train?.length) throw new InputError('give training data with --train SOURCE\n\n' + TRAIN_USAGE);
  if (!v.output) throw new InputError('give the model folder to write with -o DIR\n\n' + TRAIN_USAGE);
  if (v.resume && !v.checkpoint) throw new InputError('--resume needs --checkpoint DIR');
  const progress = progressPrinter(process.stderr, v.quiet);
  const bands = bandList(v.bands, '--bands');
  const result = await trainModel({
    output: v.output,
    overwrite: v.overwrite,
    train: v.train,
    val: v.val,
    tune: v.tune,
    init: v.init,
    architecture: v.arch,
    blockSize: trainNumber(v['block-size'], 'blockSize'),
    trainStride: trainNumber(v['train-stride'], 'trainStride'),
    minCloudFraction: trainNumber(v['min-cloud'], 'minCloudFraction'),
    bandOptions: { bands: bands?.map((b) => b - 1), scale: scalarOrList(v.scale, '--scale'), offset: scalarOrList(v.offset, '--offset') },
    bandNames: v['band-names']?.split(','),
    sensor: choice(v.sensor, '--sensor', SENSORS),
    epochs: trainNumber(v.epochs, 'epochs'),
    batchSize: trainNumber(v['batch-size'], 'batchSize'),
    learningRate: trainNumber(v.lr, 'learningRate'),
    seed: trainNumber(v.seed, 'seed'),
    patience: trainNumber(v.patience, 'patience'),
    colourJitter: trainNumber(v['colour-jitter'], 'colourJitter'),
    prune: choice(v.prune, '--prune', ['all', 'last'] as const),
    gate: v['no-gate'] ? false : undefined,
    darkGuard: trainNumber(v['dark-guard'], 'darkGuard'),
    hotGuard: trainNumber(v['hot-guard'], 'hotGuard'),
    waterGuard: trainNumber(v['water-guard'], 'waterGuard'),
    refine: trainNumber(v.refine, 'refine'),
    refineEps: trainNumber(v['refine-eps'], 'refineEps'),
    tuneMetric: choice(v['tune-metric'], '--tune-metric', TUNE_METRICS),
    statistic: choice(v.statistic, '--statistic', ['pixel', 'block'] as const),
    checkpointDir: v.checkpoint,
    resume: v.resume,
    threads: trainNumber(v.threads, 'threads'),
    device: choice(v.device, '--device', DEVICE_CHOICES),
    command: ['wdcd', 'train', ...argv].join(' '),
    onProgress: progress,
  });
  progress.done();
  const d = result.model.description.detection;
  process.stderr.write(
    `wrote ${v.output}: ${result.history.length} epochs, best ${result.model.description.training?.bestEpoch}; ` +
      `clear-sky mean ${d.clearSky!.mean.toFixed(3)} std ${d.clearSky!.std.toFixed(3)} over ${d.clearSky!.blocks} blocks; k ${d.k}\n`,
  );
}

/** A numeric option parsed by the library's own rule for it (train-model.ts). */
function trainNumber(value: string | undefined, key: keyof typeof TRAIN_NUMBER_RULES): number | undefined {
  const [option, check, what] = TRAIN_NUMBER_RULES[key];
  return numberOption(value, option, check, what);
}
