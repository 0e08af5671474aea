/**
 * Per-epoch checkpoints: the current model (a normal model folder, usable as is), the best weights so far, the
 * optimiser's moments and the loop state (epoch, generator state, learning rate, history). Binary tensors go in
 * .bin files so even the paper's 10 M-parameter network checkpoints quickly.
 *
 * `state.json` is written last and holds a digest of every binary file, so a checkpoint whose save was interrupted
 * (a new weights file beside the old state) or that was truncated or copied in part is refused on resume, never
 * read as weights. The network, bands and sensor preset of `last/model.json` are checked against the run's:
 * another --arch, --block-size or band count would otherwise read the weights into tensors of other shapes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { Architecture } from '../model/architecture.js';
import { packWeights, saveModel, type Model, type ModelDescription } from '../model/model-file.js';
import { parameterSpecs, sizeOf, type Weights } from '../model/parameters.js';
import type { Normalization } from '../prepare/normalization.js';
import { writeFileAtomic } from '../raster/temporary-files.js';
import type { AdamState } from './optimizer.js';
import type { EpochRecord, TrainState } from './trainer.js';


function unpackWeights(bytes: Buffer, arch: Architecture, bands: number): Weights {
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const weights: Weights = new Map();
  let offset = 0;
  for (const spec of parameterSpecs(arch, bands)) {
    const n = sizeOf(spec.shape);
    weights.set(spec.name, all.slice(offset, offset + n));
    offset += n;
  }
  return weights;
}

const digest = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');


export function saveCheckpoint(dir: string, state: TrainState, optimizer: AdamState, current: Model): void {
  const d = current.description;
  const arch = d.architecture;
  const bands = d.bands.length;
  const files: Record<string, Uint8Array> = {};
  files['last/weights.bin'] = saveModel(join(dir, 'last'), current);
  const write = (name: string, bytes: Uint8Array) => {
    writeFileAtomic(join(dir, name), bytes, 'the checkpoint');
    files[name] = bytes;
  };
  if (state.best) write('best.bin', packWeights(state.best.weights, arch, bands));
  write('adam-m.bin', packWeights(optimizer.m, arch, bands));
  write('adam-v.bin', packWeights(optimizer.v, arch, bands));
  const { weights: _w, best, ...loop } = state;
  const digests = Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, digest(bytes)]));
  // Written last: a checkpoint counts only once its state file names the files (by digest) that belong to it.
  const saved = { ...loop, best: best && { epoch: best.epoch, valLoss: best.valLoss }, adamStep: optimizer.step, digests };
  writeFileAtomic(join(dir, 'state.json'), JSON.stringify(saved, null, 1), 'the checkpoint');
}

/** What this run trains, for checking a checkpoint against. */
export interface CheckpointExpectation {
  architecture: Architecture;
  bands: number;
  sensor: string;
}

const sameArchitecture = (a: Architecture, b: Architecture) =>
  a.blockSize === b.blockSize && a.head === b.head && (a.copies ?? 1) === (b.copies ?? 1) && JSON.stringify(a.layers) === JSON.stringify(b.layers);

const describeArch = (a: Architecture) => `${a.name} with ${a.blockSize} px blocks`;

/** NaN (no validation) is stored as null in JSON; read it back as NaN, so comparisons and "no validation" hold. */
const lossOf = (v: unknown) => (typeof v === 'number' ? v : NaN);

/**
 * The checkpoint in `dir`, or null when it holds none (no state.json). A checkpoint of another network, band
 * count or sensor preset, or one that is damaged or incomplete, is an InputError naming the file.
 */
export function loadCheckpoint(dir: string, expect: CheckpointExpectation): { state: TrainState; optimizer: AdamState; normalization: Normalization } | null {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) return null;
  const advice = `remove the folder (or give another --checkpoint) to start over`;
  const damaged = (what: string, path: string): never => {
    throw new InputError(`the checkpoint is damaged or incomplete: ${what}; ${advice}`, path);
  };
  const readJson = (path: string): Record<string, unknown> => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      return damaged(`cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
    }
    try {
      const value = JSON.parse(text);
      if (value && typeof value === 'object') return value;
    } catch {
      // reported below
    }
    return damaged('it is not valid JSON (cut short while being written?)', path);
  };
  const saved = readJson(statePath) as Record<string, unknown> & { digests?: Record<string, string> };
  const last = readJson(join(dir, 'last', 'model.json')) as unknown as ModelDescription;
  if (!Number.isInteger(saved.epoch) || !Array.isArray(saved.history) || !Number.isFinite(saved.randomState) || !Number.isFinite(saved.learningRate) || !Number.isInteger(saved.adamStep)) {
    damaged('state.json lacks the epoch, history, generator state, learning rate or optimiser step', statePath);
  }
  const arch = last.architecture;
  if (!arch || !Array.isArray(arch.layers) || !Array.isArray(last.bands) || !last.normalization) damaged('last/model.json is not a model description', join(dir, 'last', 'model.json'));
  if (!sameArchitecture(arch, expect.architecture)) {
    throw new InputError(`the checkpoint is of ${describeArch(arch)}, this run trains ${describeArch(expect.architecture)}; resume with the same --arch and --block-size, or give another --checkpoint folder`, dir);
  }
  if (last.bands.length !== expect.bands) {
    throw new InputError(`the checkpoint was trained on ${last.bands.length} bands (${last.bands.join(', ')}), this run's blocks have ${expect.bands}; resume with the same data and --bands, or give another --checkpoint folder`, dir);
  }
  if (last.sensor !== expect.sensor) {
    throw new InputError(`the checkpoint was trained on values read through the ${last.sensor} preset, this run reads them through ${expect.sensor}; resume with the same --sensor, or give another --checkpoint folder`, dir);
  }
  const expectedBytes = parameterSpecs(arch, expect.bands).reduce((s, p) => s + sizeOf(p.shape), 0) * 4;
  const readBin = (name: string): Buffer => {
    const path = join(dir, name);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      return damaged(`cannot read ${name} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
    }
    if (bytes.byteLength !== expectedBytes) damaged(`${name} holds ${bytes.byteLength} bytes, the network needs ${expectedBytes}`, path);
    // Checkpoints written before digests were recorded are taken as they are.
    const want = saved.digests?.[name];
    if (want !== undefined && want !== digest(bytes)) damaged(`${name} is not the file state.json was saved with (a save interrupted half-way?)`, path);
    return bytes;
  };
  const weights = unpackWeights(readBin('last/weights.bin'), arch, expect.bands);
  const savedBest = saved.best as { epoch: number; valLoss: unknown } | null;
  const best = savedBest ? { epoch: savedBest.epoch, valLoss: lossOf(savedBest.valLoss), weights: unpackWeights(readBin('best.bin'), arch, expect.bands) } : null;
  const history = (saved.history as EpochRecord[]).map((r) => ({ ...r, valLoss: lossOf(r.valLoss), valAccuracy: lossOf(r.valAccuracy) }));
  const state: TrainState = {
    epoch: saved.epoch as number,
    weights,
    best,
    history,
    randomState: saved.randomState as number,
    learningRate: saved.learningRate as number,
    badEpochs: Number.isInteger(saved.badEpochs) ? (saved.badEpochs as number) : 0,
  };
  const optimizer: AdamState = {
    step: saved.adamStep as number,
    m: unpackWeights(readBin('adam-m.bin'), arch, expect.bands),
    v: unpackWeights(readBin('adam-v.bin'), arch, expect.bands),
  };
  return { state, optimizer, normalization: last.normalization };
}
