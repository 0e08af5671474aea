/**
 * A wdcd model is a folder a user can move: `model.json` (architecture, input bands and normalisation, LPP and
 * threshold settings, how it was trained) and `weights.bin` (float32 little-endian, tensors in the order of
 * parameterSpecs). Nothing is downloaded: bundled models live in the package's `models/` folder.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../raster/temporary-files.js';
import type { Architecture, LayerSpec } from './architecture.js';
import { parameterSpecs, sizeOf, type Weights } from './parameters.js';

export interface ClearSkyStatistics {
  /** `pixel`: mean and std of all clear-block CAM pixels pooled; `block`: averages of per-block means and stds. */
  statistic: 'pixel' | 'block';
  mean: number;
  std: number;
  /** How many clear blocks (and pixels) the statistics came from. */
  blocks: number;
  pixels: number;
}

export interface ModelDescription {
  format: 'wdcd-model';
  version: 1;
  name: string;
  architecture: Architecture;
  /** What the input bands are, in order (e.g. blue, green, red, nir), and in which units the model expects them. */
  bands: string[];
  units: string;
  /** Sensor preset (raster/sensors.ts) that turns the expected input into these units, used unless --sensor is given. */
  sensor: string;
  /** Per-band normalisation applied before the network: (value - mean) / std. */
  normalization: { mean: number[]; std: number[] };
  /** LPP: indices (into architecture.layers) of the max-pools removed for the activation map. */
  prunedPools: number[];
  /**
   * Detection defaults: sliding-window stride, block gate, the clear-sky statistics and k (T = mean + k std),
   * the spectral guards (detect/spectral-guards.ts): tests from the literature that a cloud pixel must pass, and
   * the edge-aware refinement of the map (detect/guided-refinement.ts; k is tuned on the refined map).
   */
  detection: {
    stride: number;
    gate: boolean;
    k: number;
    clearSky: ClearSkyStatistics | null;
    darkGuard?: DarkGuard | null;
    hotGuard?: HotGuard | null;
    waterGuard?: WaterGuard | null;
    refine?: RefinementSettings | null;
  };
  training?: Record<string, unknown>;
}

/**
 * Clouds are bright in the visible: a pixel darker than this in the named band cannot be cloud. The floor comes
 * from Landsat's ACCA (Irish 2000, filter 1: band 3 (red) reflectance > 0.08), not from tuning; it removes the
 * activation map's spill onto dark ground and water beside clouds.
 */
export interface DarkGuard {
  band: string;
  reflectance: number;
}

/**
 * Cloud and haze raise blue over red; bright soil, rock and built ground do not. A pixel with
 * `blue - 0.5 red < offset` (reflectance) cannot be cloud: Fmask's HOT test (Zhu & Woodcock 2012, after the haze
 * optimized transform of Zhang et al. 2002; offset 0.08 there, not tuned here). Needs bands named blue and red.
 */
export interface HotGuard {
  offset: number;
}

/**
 * Cloud is bright in the near infrared as in the visible; water is dark there, however bright turbid or hazy
 * water looks in the visible (where the dark and HOT guards let it pass). A pixel with NIR reflectance below this
 * cannot be cloud: the NIR bound of Fmask's water test (Zhu & Woodcock 2012: NIR < 0.05 with NDVI < 0.1; 0.05
 * here, not tuned). The darkest labelled cloud pixel of the L8 Biome train and val scenes (thin cloud over water
 * included) has 0.053. Needs a band named nir.
 */
export interface WaterGuard {
  reflectance: number;
}

/**
 * The activation map refined by a guided filter with the scene's brightness as guide (detect/guided-refinement.ts):
 * windows of `radius` pixels, regularisation `eps` in squared guide units (reflectance or display values 0-1).
 */
export interface RefinementSettings {
  radius: number;
  eps: number;
}

export interface Model {
  description: ModelDescription;
  weights: Weights;
}

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Folder of a bundled model by name (`default`, `rgb`), or the path itself. A bundled name always means the bundled
 * model, whatever folders the working directory holds (`--model` defaults to `default`, and a user's `rgb/` of
 * images must not shadow it); a folder of the same name is reached as a path, `./rgb`.
 */
export function resolveModelPath(nameOrPath: string): string {
  if (basename(nameOrPath) === 'model.json' && existsSync(nameOrPath)) return dirname(nameOrPath); // the file named for its folder
  if (/^[a-z0-9-]+$/.test(nameOrPath)) {
    const bundled = join(packageRoot, 'models', nameOrPath);
    if (existsSync(join(bundled, 'model.json'))) return bundled;
    if (!existsSync(nameOrPath)) throw new InputError(`no bundled model named "${nameOrPath}" (bundled: ${bundledModelNames().join(', ')}) and no such folder`, nameOrPath);
  }
  return nameOrPath;
}

/** Names of the models bundled in the package's models/ folder (each a folder holding a model.json). */
export function bundledModelNames(): string[] {
  const root = join(packageRoot, 'models');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => existsSync(join(root, n, 'model.json')))
    .sort();
}

export function loadModel(nameOrPath: string): Model {
  const folder = resolveModelPath(nameOrPath);
  const jsonPath = join(folder, 'model.json');
  if (!existsSync(jsonPath)) throw new InputError('not a wdcd model folder (no model.json)', folder);
  let description: ModelDescription;
  try {
    description = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new InputError(`model.json is not valid JSON (${(e as Error).message})`, jsonPath);
  }
  if (description?.format !== 'wdcd-model') throw new InputError('model.json is not a wdcd model description', jsonPath);
  const damage = describeDamage(description);
  if (damage) throw new InputError(`model.json is damaged: ${damage}`, jsonPath);
  const binPath = join(folder, 'weights.bin');
  if (!existsSync(binPath)) throw new InputError('missing weights.bin', folder);
  const bytes = readFileSync(binPath);
  const specs = parameterSpecs(description.architecture, description.bands.length);
  const expected = specs.reduce((sum, s) => sum + sizeOf(s.shape), 0) * 4;
  if (bytes.byteLength !== expected) throw new InputError(`weights.bin holds ${bytes.byteLength} bytes, the architecture needs ${expected}`, binPath);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const weights: Weights = new Map();
  let offset = 0;
  for (const spec of specs) {
    const n = sizeOf(spec.shape);
    weights.set(spec.name, all.slice(offset, offset + n));
    offset += n;
  }
  return { description, weights };
}

/** What a hand-edited or damaged description lacks that loading and detection rely on, or null. */
function describeDamage(d: ModelDescription): string | null {
  const numbers = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => Number.isFinite(x));
  const a = d.architecture;
  if (!a || typeof a !== 'object') return 'architecture is missing';
  if (!(Number.isInteger(a.blockSize) && a.blockSize > 0)) return 'architecture.blockSize is not a positive whole number';
  if (a.head !== 'gcp' && a.head !== 'gap') return 'architecture.head is neither gcp nor gap';
  const layerOk = (l: LayerSpec) => l?.kind === 'pool' || (l?.kind === 'conv' && Number.isInteger(l.channels) && l.channels > 0);
  if (!Array.isArray(a.layers) || !a.layers.some((l) => l?.kind === 'conv') || !a.layers.every(layerOk)) return 'architecture.layers are not convolutions (with channels) and pools';
  if (!Array.isArray(d.bands) || d.bands.length === 0 || !d.bands.every((b) => typeof b === 'string')) return 'bands is not a list of band names';
  if (!numbers(d.normalization?.mean, d.bands.length) || !numbers(d.normalization?.std, d.bands.length)) return `normalization needs a mean and a std for each of the ${d.bands.length} bands`;
  if (!Array.isArray(d.prunedPools) || !d.prunedPools.every((i) => a.layers[i]?.kind === 'pool')) return 'prunedPools does not name pool layers';
  const t = d.detection;
  if (!t || typeof t !== 'object' || !Number.isFinite(t.k) || !(t.stride > 0) || typeof t.gate !== 'boolean') return 'detection needs stride, gate and k';
  if (t.clearSky !== null && !(Number.isFinite(t.clearSky?.mean) && Number.isFinite(t.clearSky?.std))) return 'detection.clearSky needs a mean and a std';
  return null;
}

/**
 * Writes both files through temporary names and renames them, so a reader never sees half a model; a write that
 * fails is an InputError naming the file. Returns the weights' bytes (checkpoints record their digest).
 */
export function saveModel(folder: string, model: Model): Uint8Array {
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot create the model folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, folder);
  }
  const d = model.description;
  const weights = packWeights(model.weights, d.architecture, d.bands.length);
  // weights.bin first: a folder whose model.json is in place always has its weights. Temporary files are removed
  // if the command is stopped (temporary-files.ts).
  writeFileAtomic(join(folder, 'weights.bin'), weights, 'the weights');
  writeFileAtomic(join(folder, 'model.json'), JSON.stringify(d, null, 2) + '\n', 'the model description');
  return weights;
}

/** Weights in the parameter order of the architecture, as float32 bytes (weights.bin and checkpoint files). */
export function packWeights(weights: Weights, arch: Architecture, bands: number): Uint8Array {
  const specs = parameterSpecs(arch, bands);
  const all = new Float32Array(specs.reduce((s, p) => s + sizeOf(p.shape), 0));
  let offset = 0;
  for (const spec of specs) {
    all.set(weights.get(spec.name)!, offset);
    offset += sizeOf(spec.shape);
  }
  return new Uint8Array(all.buffer);
}
