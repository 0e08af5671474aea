/**
 * Per-epoch checkpoints: the current model (a normal model folder, usable as is), the best weights so far, the
 * optimiser's moments and the loop state (epoch, generator state, learning rate, history). Binary tensors go in
 * .bin files so even the paper's 10 M-parameter network checkpoints quickly.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Architecture } from '../model/architecture.js';
import { type Model, saveModel } from '../model/model-file.js';
import { parameterSpecs, sizeOf, type Weights } from '../model/parameters.js';
import type { AdamState } from './optimizer.js';
import type { TrainState } from './trainer.js';

function pack(weights: Weights, names: string[]): Uint8Array {
  const total = names.reduce((s, n) => s + weights.get(n)!.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const n of names) {
    all.set(weights.get(n)!, offset);
    offset += weights.get(n)!.length;
  }
  return new Uint8Array(all.buffer);
}

function unpack(bytes: Buffer, arch: Architecture, bands: number): Weights {
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

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function saveCheckpoint(dir: string, state: TrainState, optimizer: AdamState, current: Model): void {
  mkdirSync(dir, { recursive: true });
  const names = [...state.weights.keys()];
  saveModel(join(dir, 'last'), current);
  if (state.best) writeAtomic(join(dir, 'best.bin'), pack(state.best.weights, names));
  writeAtomic(join(dir, 'adam-m.bin'), pack(optimizer.m, names));
  writeAtomic(join(dir, 'adam-v.bin'), pack(optimizer.v, names));
  const { weights: _w, best, ...loop } = state;
  // Written last: a checkpoint counts only once its state file names the epoch the other files belong to.
  writeAtomic(join(dir, 'state.json'), JSON.stringify({ ...loop, best: best && { epoch: best.epoch, valLoss: best.valLoss }, adamStep: optimizer.step }, null, 1));
}

export function loadCheckpoint(dir: string, arch: Architecture, bands: number): { state: TrainState; optimizer: AdamState } | null {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) return null;
  const saved = JSON.parse(readFileSync(statePath, 'utf8'));
  const weights = unpack(readFileSync(join(dir, 'last', 'weights.bin')), arch, bands);
  const best = saved.best ? { ...saved.best, weights: unpack(readFileSync(join(dir, 'best.bin')), arch, bands) } : null;
  const state: TrainState = { ...saved, weights, best };
  const optimizer: AdamState = {
    step: saved.adamStep,
    m: unpack(readFileSync(join(dir, 'adam-m.bin')), arch, bands),
    v: unpack(readFileSync(join(dir, 'adam-v.bin')), arch, bands),
  };
  return { state, optimizer };
}
