/**
 * Training on block labels only: minibatches of augmented blocks through the training graph, Adam on the
 * returned gradients, validation on held-out blocks each epoch, the best epoch kept, early stop, checkpoints
 * after every epoch that a later run resumes from. Seeded: the same seed and data give the same model.
 */
import type { LabelledBlock } from '../datasets/blocks.js';
import { buildTrainingGraph, gradientName } from '../engine/training-graph.js';
import type { DeviceChoice } from '../engine/device.js';
import { Session, type Feeds, type SessionOptions } from '../engine/session.js';
import type { Architecture } from '../model/architecture.js';
import type { Model, ModelDescription } from '../model/model-file.js';
import { Network } from '../model/network.js';
import { initialWeights, parameterSpecs, type Weights } from '../model/parameters.js';
import { InputError } from '../errors.js';
import { estimateNormalization, normalizeInPlace, type Normalization } from '../prepare/normalization.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import { Random } from '../random.js';
import { colourJitter, dihedral } from './augment.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { Adam } from './optimizer.js';

export interface TrainOptions {
  architecture: Architecture;
  train: LabelledBlock[];
  /** Held-out blocks for validation and best-epoch choice; none: the last epoch is kept. */
  val: LabelledBlock[];
  /** Band names in order, and units, recorded in the model. */
  bands: string[];
  units: string;
  /** Sensor preset detection uses by default with this model. */
  sensor: string;
  name?: string;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Learning rate multiplier applied after each epoch. */
  learningRateDecay?: number;
  weightDecay?: number;
  /** Stop after this many epochs without a better validation loss. */
  patience?: number;
  seed?: number;
  augment?: boolean;
  /** Photometric jitter of training blocks (augment.ts colourJitter), 0 (none) to 1. */
  colourJitter?: number;
  /** Folder for per-epoch checkpoints; with `resume`, training continues from the one found there. */
  checkpointDir?: string;
  resume?: boolean;
  /**
   * Fine-tuning: start from these weights, and keep the normalisation they were trained with, instead of random
   * weights and the training blocks' own statistics. `from` names the model in messages. A resumed checkpoint wins.
   */
  initial?: { weights: Weights; normalization: Normalization; from: string };
  threads?: number;
  /** Where the training graph runs (engine/device.ts). Default `auto`: the GPU where there is one. */
  device?: DeviceChoice;
  onProgress?: ProgressCallback;
  /** Recorded in the model's `training` section (e.g. the command line). */
  provenance?: Record<string, unknown>;
}

export const TRAIN_DEFAULTS = {
  epochs: 30,
  batchSize: 16,
  learningRate: 1e-3,
  learningRateDecay: 0.9,
  weightDecay: 1e-4,
  patience: 10,
  seed: 1,
  augment: true,
  colourJitter: 0,
};

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
}

export interface TrainState {
  epoch: number;
  weights: Weights;
  best: { epoch: number; valLoss: number; weights: Weights } | null;
  history: EpochRecord[];
  randomState: number;
  learningRate: number;
  badEpochs: number;
}

export async function train(options: TrainOptions): Promise<{ model: Model; history: EpochRecord[] }> {
  // Options left undefined keep their defaults (a plain spread would let `undefined` win).
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const o = { ...TRAIN_DEFAULTS, ...given } as typeof TRAIN_DEFAULTS & TrainOptions;
  const runtime: SessionOptions = { threads: o.threads, device: o.device ?? 'auto' };
  const onProgress = o.onProgress ?? noProgress;
  const arch = o.architecture;
  if (o.train.length === 0) throw new Error('no training blocks');
  const bandCount = o.train[0].bandCount;
  for (const block of [...o.train, ...o.val]) {
    if (block.size !== arch.blockSize) throw new Error(`block ${block.id} is ${block.size} px; ${arch.name} trains on ${arch.blockSize} px blocks`);
    if (block.bandCount !== bandCount) throw new Error(`block ${block.id} has ${block.bandCount} bands, expected ${bandCount}`);
  }
  if (o.bands.length !== bandCount) throw new Error(`${o.bands.length} band names given for ${bandCount} bands`);

  // A resumed or fine-tuned run keeps the normalisation its weights were trained with (below).
  const ownNormalization = estimateNormalization(o.train);
  let normalization = ownNormalization;
  if (o.initial) {
    const drift = normalizationDrift(o.initial.normalization, ownNormalization, o.bands, "the model's");
    if (drift) onProgress({ kind: 'warning', message: `${o.initial.from}: the training blocks are unlike those the model was trained on (${drift}); they are normalised as its were` });
    normalization = o.initial.normalization;
  }
  const describe = (weights: Weights, history: EpochRecord[]): Model => ({
    weights,
    description: {
      format: 'wdcd-model',
      version: 1,
      name: o.name ?? arch.name,
      architecture: arch,
      bands: o.bands,
      units: o.units,
      sensor: o.sensor,
      normalization,
      prunedPools: arch.layers.flatMap((l, i) => (l.kind === 'pool' ? [i] : [])),
      detection: { stride: arch.blockSize / 2, gate: true, k: 2, clearSky: null },
      training: {
        ...o.provenance,
        seed: o.seed,
        learningRate: o.learningRate,
        epochs: history.length,
        bestEpoch: bestOf(history)?.epoch,
        trainBlocks: o.train.length,
        valBlocks: o.val.length,
        history,
      },
    } satisfies ModelDescription,
  });

  let state: TrainState = {
    epoch: 0,
    weights: o.initial ? cloneWeights(o.initial.weights) : initialWeights(arch, bandCount, o.seed),
    best: null,
    history: [],
    randomState: o.seed ^ 0x5bd1e995,
    learningRate: o.learningRate,
    badEpochs: 0,
  };
  let adam = new Adam();
  if (o.resume && o.checkpointDir) {
    const restored = loadCheckpoint(o.checkpointDir, { architecture: arch, bands: bandCount, sensor: o.sensor });
    if (restored) {
      state = restored.state;
      adam = Adam.restore(restored.optimizer);
      // A resumed fine-tune's checkpoint holds the initial model's normalisation, whose drift was told above.
      const toldAbove = o.initial !== undefined && JSON.stringify(restored.normalization) === JSON.stringify(o.initial.normalization);
      const drift = toldAbove ? null : normalizationDrift(restored.normalization, ownNormalization, o.bands, "the checkpoint's");
      if (drift) onProgress({ kind: 'warning', message: `${o.checkpointDir}: the training blocks are not those the checkpoint was trained on (${drift}); they are normalised as the checkpoint's were` });
      normalization = restored.normalization;
      const done = state.epoch >= o.epochs ? `; it has run ${state.epoch} of --epochs ${o.epochs}, so no epoch is added` : state.badEpochs >= o.patience ? `; it stopped early (${state.badEpochs} epochs without a better validation loss), so no epoch is added` : '';
      onProgress({ kind: 'log', message: `resumed from ${o.checkpointDir} after epoch ${state.epoch}${done}` });
    } else {
      // A mistyped folder would otherwise start over without a word.
      onProgress({ kind: 'warning', message: `${o.checkpointDir}: no checkpoint to resume from (no state.json); training starts from the first epoch` });
    }
  }

  const n = o.batchSize;
  const size = arch.blockSize;
  const blockLength = bandCount * size * size;
  const session = await Session.create(buildTrainingGraph(arch, bandCount, n), runtime);
  const specs = parameterSpecs(arch, bandCount);
  const input = new Float32Array(n * blockLength);
  const labels = new Float32Array(n);
  const sampleWeights = new Float32Array(n);
  const cloudyShare = o.train.filter((b) => b.label === 1).length / o.train.length;
  // Class-balanced weights: each class carries half the loss whatever its share of the training set.
  const classWeight = [0.5 / Math.max(1 - cloudyShare, 1e-6), 0.5 / Math.max(cloudyShare, 1e-6)];

  try {
    while (state.epoch < o.epochs && state.badEpochs < o.patience) {
      const started = performance.now();
      const random = new Random(state.randomState);
      const order = random.shuffle(o.train.map((_, i) => i));
      // Every block is seen each epoch; the last short batch is filled with blocks from the start of the order.
      const steps = Math.ceil(order.length / n);
      let lossSum = 0;
      let correct = 0;
      for (let step = 0; step < steps; step++) {
        let weightSum = 0;
        for (let k = 0; k < n; k++) {
          const block = o.train[order[(step * n + k) % order.length]];
          dihedral(block.bands, bandCount, size, o.augment ? random.int(8) : 0, input, k * blockLength);
          if (o.colourJitter > 0) colourJitter(input, bandCount, size, o.colourJitter, random, k * blockLength);
          labels[k] = block.label;
          sampleWeights[k] = classWeight[block.label];
          weightSum += sampleWeights[k];
        }
        for (let k = 0; k < n; k++) sampleWeights[k] /= weightSum;
        for (let k = 0; k < n; k++) normalizeInPlace(input, bandCount, normalization, k * blockLength, blockLength);
        const feeds: Feeds = {
          input: { data: input, dims: [n, bandCount, size, size] },
          label: { data: labels, dims: [n] },
          sample_weight: { data: sampleWeights, dims: [n] },
        };
        for (const spec of specs) feeds[spec.name] = { data: state.weights.get(spec.name)!, dims: spec.shape };
        const out = await session.run(feeds);
        const loss = out.loss.data[0];
        if (!Number.isFinite(loss)) throw new InputError(`training diverged at epoch ${state.epoch + 1} step ${step + 1} (loss ${loss}); lower the learning rate`, '--lr');
        lossSum += loss;
        for (let k = 0; k < n; k++) correct += Number(out.logit.data[k] > 0) === labels[k] ? 1 : 0;
        adam.update(state.weights, new Map(specs.map((s) => [s.name, out[gradientName(s.name)].data])), state.learningRate, o.weightDecay);
        onProgress({ kind: 'step', epoch: state.epoch + 1, step: step + 1, steps, loss });
      }
      const val = o.val.length > 0 ? await evaluateBlocks(describe(state.weights, state.history), o.val, runtime) : { loss: NaN, accuracy: NaN };
      const record: EpochRecord = {
        epoch: state.epoch + 1,
        trainLoss: lossSum / steps,
        trainAccuracy: correct / (steps * n),
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        seconds: (performance.now() - started) / 1000,
      };
      // A best epoch without a validation loss (a run resumed with --val added) is no bar to beat.
      const improved = o.val.length === 0 || !state.best || !Number.isFinite(state.best.valLoss) || val.loss < state.best.valLoss;
      state = {
        ...state,
        epoch: state.epoch + 1,
        history: [...state.history, record],
        best: improved ? { epoch: record.epoch, valLoss: val.loss, weights: cloneWeights(state.weights) } : state.best,
        badEpochs: improved ? 0 : state.badEpochs + 1,
        randomState: random.seedState,
        learningRate: state.learningRate * o.learningRateDecay,
      };
      onProgress({ kind: 'epoch', epoch: record.epoch, epochs: o.epochs, trainLoss: record.trainLoss, trainAccuracy: record.trainAccuracy, valLoss: record.valLoss, valAccuracy: record.valAccuracy, best: improved });
      if (o.checkpointDir) saveCheckpoint(o.checkpointDir, state, adam.save(), describe(state.weights, state.history));
    }
  } finally {
    await session.release();
  }
  return { model: describe(state.best ? state.best.weights : state.weights, state.history), history: state.history };
}

/** The epoch whose weights the model keeps: the lowest validation loss, or the last epoch without validation. */
function bestOf(history: EpochRecord[]): EpochRecord | undefined {
  const validated = history.filter((r) => Number.isFinite(r.valLoss));
  if (validated.length === 0) return history[history.length - 1];
  return validated.reduce((best, r) => (r.valLoss < best.valLoss ? r : best));
}

/** How the normalisation of this run's blocks differs from that of saved weights (`whose`), in words, or null where they agree. */
function normalizationDrift(saved: Normalization, now: Normalization, bands: string[], whose: string): string | null {
  for (let b = 0; b < bands.length; b++) {
    const [m0, s0, m1, s1] = [saved.mean[b]!, saved.std[b]!, now.mean[b]!, now.std[b]!];
    // Blocks added or removed move the statistics a little; other units or bands move them by whole stds.
    if (Math.abs(m1 - m0) > 0.1 * s0 || s1 > 1.25 * s0 || s1 < 0.8 * s0) {
      const f = (v: number) => Number(v.toPrecision(3));
      return `${bands[b]}: mean ${f(m1)} std ${f(s1)}, ${whose} mean ${f(m0)} std ${f(s0)}`;
    }
  }
  return null;
}

function cloneWeights(weights: Weights): Weights {
  return new Map([...weights].map(([k, v]) => [k, Float32Array.from(v)]));
}

/** Mean logistic loss and accuracy of a model on blocks (no augmentation). */
export async function evaluateBlocks(model: Model, blocks: LabelledBlock[], runtime: SessionOptions = {}): Promise<{ loss: number; accuracy: number; logits: Float32Array }> {
  const network = new Network(model, new Set(), runtime);
  const { bandCount } = blocks[0];
  const size = model.description.architecture.blockSize;
  const blockLength = bandCount * size * size;
  const logits = new Float32Array(blocks.length);
  const batch = 32;
  try {
    for (let start = 0; start < blocks.length; start += batch) {
      const count = Math.min(batch, blocks.length - start);
      const input = new Float32Array(count * blockLength);
      for (let k = 0; k < count; k++) {
        input.set(blocks[start + k].bands, k * blockLength);
        normalizeInPlace(input, bandCount, model.description.normalization as Normalization, k * blockLength, blockLength);
      }
      logits.set((await network.score(input, count)).logit, start);
    }
  } finally {
    await network.release();
  }
  let loss = 0;
  let correct = 0;
  blocks.forEach((b, i) => {
    const z = logits[i];
    loss += Math.max(z, 0) - b.label * z + Math.log1p(Math.exp(-Math.abs(z)));
    correct += Number(z > 0) === b.label ? 1 : 0;
  });
  return { loss: loss / blocks.length, accuracy: correct / blocks.length, logits };
}
