/**
 * `npm run bench`: how fast and how bounded wdcd is on this machine.
 *
 *   npm run bench [-- --sizes 1,16,100] [--model DIR] [--prune all|last] [--chunk-rows N] [--stripe-width N] [--stripe-threads N] [--threads N]
 *                    [--device cpu|gpu] [--train-archs wdcd-light,wdcd-vgg16] [--train-batches 16,64] [--feature-window WxH]
 *                    [--cloud mixed|low] [--refine R] [--work-dir DIR] [--keep] [--no-json] [--from-source]
 *
 * Default sizes 1,16 (about 3 minutes on 2 cores); add 100 for the flat-memory check (several minutes more).
 * A size is megapixels (a square scene) or WIDTHxHEIGHT: memory follows the width (rows are processed across
 * the full width), time the area. Scenes are cached in --work-dir (default: the system temp folder).
 *
 * 1. End to end: the library `detect()` (exactly what `wdcd detect` runs: read -> mask GeoTIFF written) on
 *    scenes of about 1, 16 and 100 megapixels, each in its own child process so the peak resident memory
 *    (maxRSS) is that size's alone. The children run the package as built (`tsc` first, then dist/), in plain
 *    JavaScript with no loader in any thread, as `npx wdcd` runs it: from source, tsx compiles every worker
 *    thread's modules again at start, about 0.3 s a run (`--from-source` measures that way). Scenes are tiled from real imagery: the L8 Biome subsets of
 *    shared/data/l8biome (float32 TOA reflectance, bands blue, green, red, NIR), 256 x 256 images laid side by
 *    side (alternate tiles mirrored so edges meet), written as four single-band tiled deflate float32 GeoTIFFs
 *    (one file per band, like a Landsat product) with the project's streaming writer. `--cloud low` tiles only
 *    the subsets under 20 % cloud (a mostly clear scene), where the block gate spares most of the feature pass.
 * 2. Training: blocks per second through the training graph (forward + backward, batch 16 or --train-batches)
 *    for the --train-archs (default wdcd-light, 128 px blocks) and for the model's own architecture.
 * 3. Inference alone: pooled scoring in blocks/s (one by one, and convolutionally as detection scores them),
 *    pruned-feature pass in MP/s for prune `last` and `all`.
 *
 * `--refine R` adds the map's guided-filter refinement (radius R px; detect/guided-refinement.ts), which the
 * default model does not use: its second pass over the scene is timed as the `refine` stage.
 * `--device gpu` runs every network pass on the GPU (engine/device.ts); the main thread's work stays on the CPU.
 *
 * Results go to stdout (with a markdown table for the README) and to bench/results.json (with --prune last:
 * bench/results-prune-last.json; with --device gpu: bench/results-gpu.json; with --cloud low: -low-cloud added).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { blockGrid } from '../src/detect/block-grid.js';
import { scoreBlocks } from '../src/detect/block-scores.js';
import { networkRuntime, type DetectOptions } from '../src/detect/detect.js';
import { buildTrainingGraph } from '../src/engine/training-graph.js';
import { Session, type Feeds, type SessionOptions } from '../src/engine/session.js';
import { architectureByName, poolIndices, type Architecture } from '../src/model/architecture.js';
import { loadModel, type Model } from '../src/model/model-file.js';
import { Network } from '../src/model/network.js';
import { initialWeights, parameterSpecs } from '../src/model/parameters.js';
import { preparedArray } from '../src/prepare/prepared-source.js';
import { readMask } from '../src/evaluate/mask-codings.js';
import { openRaster } from '../src/raster/open.js';
import { createGeoTiffWriter } from '../src/raster/write-geotiff.js';
import { trainModel } from '../src/train/train-model.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataRoot = process.env.WDCD_DATA ?? '/work/shared/data';
const SCENE_VERSION = 1;

// ---------------------------------------------------------------------------------------------------------
// Scenes

/** Side of a square scene of about `mp` megapixels. */
const sideOf = (mp: number) => Math.round(Math.sqrt(mp * 1e6));

/**
 * Which subsets a scene is tiled from: all 25 (`mixed`, about 45 % cloud), or the 8 whose reference mask holds
 * under 20 % cloud (`low`, about 7 %: a mostly clear acquisition, where the block gate leaves most of the scene
 * to no feature pass).
 */
type CloudCover = 'mixed' | 'low';
const LOW_CLOUD = 0.2;
const SCENES: Record<CloudCover, string> = {
  mixed: 'the 25 L8 Biome 256 x 256 subsets',
  low: `the L8 Biome 256 x 256 subsets whose reference mask holds under ${100 * LOW_CLOUD} % cloud`,
};

async function cloudFraction(maskPath: string): Promise<number> {
  const { mask } = await readMask(maskPath, 'l8biome');
  let cloud = 0;
  let counted = 0;
  for (const v of mask) if (v !== 255) (counted++, (cloud += v));
  return cloud / Math.max(1, counted);
}

async function loadTiles(cover: CloudCover): Promise<{ size: number; planes: Float32Array[][] }> {
  const splits = ['train', 'val', 'test'].map((s) => join(dataRoot, 'l8biome', s));
  const tiles: Float32Array[][] = [];
  let size = 0;
  for (const split of splits) {
    const folder = join(split, 'images');
    for (const name of readdirSync(folder).filter((n) => n.endsWith('.tif')).sort()) {
      if (cover === 'low' && (await cloudFraction(join(split, 'masks', name))) >= LOW_CLOUD) continue;
      const source = await openRaster([join(folder, name)]);
      try {
        size = source.width;
        if (source.width !== source.height) throw new Error(`${name} is not square`);
        tiles.push(await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height }, [0, 1, 2, 3]));
      } finally {
        await source.close();
      }
    }
  }
  return { size, planes: tiles };
}

/** `16` (megapixels, square) or `10000x1600` (width x height) -> width, height. */
function sizeOf(spec: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(spec);
  if (m) return [Number(m[1]), Number(m[2])];
  const side = sideOf(Number(spec));
  if (!(side > 0)) throw new Error(`--sizes: "${spec}" is neither megapixels nor WIDTHxHEIGHT`);
  return [side, side];
}

/** Writes (or reuses) the four band files of a width x height scene; returns their paths. */
async function buildScene(dir: string, width: number, height: number, cover: CloudCover): Promise<string[]> {
  const side = width;
  const name = `scene-${width === height ? width : `${width}x${height}`}-v${SCENE_VERSION}${cover === 'mixed' ? '' : `-${cover}`}`;
  const paths = [0, 1, 2, 3].map((b) => join(dir, `${name}-b${b + 1}.tif`));
  if (paths.every(existsSync)) return paths;
  mkdirSync(dir, { recursive: true });
  const { size, planes } = await loadTiles(cover);
  const writers = await Promise.all(paths.map((p) => createGeoTiffWriter(p, { width, height, sampleType: 'float32', nodata: 0, overwrite: true })));
  try {
    for (let y0 = 0; y0 < height; y0 += size) {
      const h = Math.min(size, height - y0);
      const ty = y0 / size;
      for (let b = 0; b < 4; b++) {
        const strip = new Float32Array(h * side);
        for (let x0 = 0, tx = 0; x0 < side; x0 += size, tx++) {
          const tile = planes[(ty * 7 + tx * 3) % planes.length][b];
          const w = Math.min(size, side - x0);
          for (let y = 0; y < h; y++) {
            const sy = ty % 2 ? size - 1 - y : y;
            for (let x = 0; x < w; x++) {
              const sx = tx % 2 ? size - 1 - x : x;
              strip[y * side + x0 + x] = tile[sy * size + sx];
            }
          }
        }
        await writers[b].writeRows(y0, h, strip);
      }
    }
    for (const w of writers) await w.finish();
  } catch (e) {
    for (const w of writers) await w.abort();
    throw e;
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------------------
// Child: one detect run

interface DetectRun {
  width: number;
  height: number;
  megapixels: number;
  seconds: number;
  megapixelsPerSecond: number;
  peakRssMB: number;
  stages: Record<string, number>;
  blocks: number;
  gatedClear: number;
  /** Share of the map's points the feature pass computed (the gate spares the rest). */
  featureShare: number;
  cloudFraction: number;
}

/**
 * The end-to-end child: plain JavaScript (CommonJS: Node 20 refuses `--input-type` beside `--import`) calling
 * the library's `detect()`, so that a built run loads no loader in any thread, as `npx wdcd` runs. (A child run as `node --import tsx` enabled source maps and compiled tsx's
 * code and the CommonJS export scanner again in each thread: 18.5 against 16.1-17.3 CPU-seconds a 16 MP run.) The
 * argument is a JSON object: the library's URL, the model, the band files, the mask path and detect options.
 */
const CHILD_SCRIPT = `(async () => {
  const a = JSON.parse(process.argv[1]);
  const { detect, loadModel } = await import(a.library);
  const model = loadModel(a.model);
  const started = performance.now();
  const summary = await detect(a.scene, {
    model, sensor: 'landsat8-biome', mask: a.out, overwrite: true,
    threshold: model.description.detection.clearSky ? undefined : 0, ...a.options,
  });
  const seconds = (performance.now() - started) / 1000;
  const megapixels = (summary.width * summary.height) / 1e6;
  process.stdout.write('\\nRESULT ' + JSON.stringify({
    width: summary.width, height: summary.height, megapixels, seconds, megapixelsPerSecond: megapixels / seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024, stages: summary.seconds, blocks: summary.blocks.total,
    gatedClear: summary.blocks.gatedClear, featureShare: summary.featureShare, cloudFraction: summary.cloudFraction,
  }) + '\\n');
})().catch((err) => { console.error(err); process.exit(1); });
`;

interface ChildArgs {
  model: string;
  scene: string[];
  out: string;
  options: Partial<Pick<DetectOptions, 'chunkRows' | 'stripeWidth' | 'stripeThreads' | 'threads' | 'prune' | 'device' | 'refine'>>;
}

/** One end-to-end run in its own process (so that maxRSS is this run's alone), built or from source. */
function runChild(args: ChildArgs, fromSource: boolean): DetectRun {
  const library = pathToFileURL(join(root, fromSource ? 'src/index.ts' : 'dist/index.js')).href;
  const r = spawnSync(process.execPath, [...(fromSource ? ['--import', 'tsx'] : []), '-e', CHILD_SCRIPT, JSON.stringify({ ...args, library })], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`benchmark child failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(line.slice(7));
}

// ---------------------------------------------------------------------------------------------------------
// Training and inference throughput

async function timed(minSeconds: number, warmup: number, step: () => Promise<void>): Promise<{ perSecond: number; runs: number }> {
  for (let i = 0; i < warmup; i++) await step();
  let runs = 0;
  const started = performance.now();
  while ((performance.now() - started) / 1000 < minSeconds || runs < 2) {
    await step();
    runs++;
  }
  return { perSecond: runs / ((performance.now() - started) / 1000), runs };
}

function randomFill(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

async function trainingBlocksPerSecond(arch: Architecture, batch: number, runtime: SessionOptions, seconds: number): Promise<number> {
  const bands = 4;
  const session = await Session.create(buildTrainingGraph(arch, bands, batch), runtime);
  try {
    const weights = initialWeights(arch, bands, 1);
    const size = arch.blockSize;
    const feeds: Feeds = {
      input: { data: randomFill(batch * bands * size * size, 7), dims: [batch, bands, size, size] },
      label: { data: Float32Array.from({ length: batch }, (_, i) => i % 2), dims: [batch] },
      sample_weight: { data: new Float32Array(batch).fill(1 / batch), dims: [batch] },
    };
    for (const spec of parameterSpecs(arch, bands)) feeds[spec.name] = { data: weights.get(spec.name)!, dims: spec.shape };
    const { perSecond } = await timed(seconds, 1, async () => void (await session.run(feeds)));
    return perSecond * batch;
  } finally {
    await session.release();
  }
}

async function inference(model: Model, runtime: SessionOptions, seconds: number, [w, h]: [number, number]): Promise<Record<string, number>> {
  const pools = poolIndices(model.description.architecture.layers);
  const size = model.description.architecture.blockSize;
  const bands = model.description.bands.length;
  const out: Record<string, number> = {};
  const scoring = new Network(model, new Set(), runtime);
  try {
    const batch = 32;
    const blocks = randomFill(batch * bands * size * size, 3);
    out.scoreBlocksPerSecond = (await timed(seconds, 1, async () => void (await scoring.score(blocks, batch)))).perSecond * batch;
    // Convolutionally, as detection scores them: a 1024 x 264 window of blocks at the model's stride.
    const [sw, sh] = [1024, 264];
    const scene = preparedArray(randomFill(bands * sw * sh, 9), bands, sw, sh, { mean: new Array(bands).fill(0), std: new Array(bands).fill(1) });
    const grid = blockGrid(sw, sh, size, model.description.detection.stride);
    const count = grid.xs.length * grid.ys.length;
    out.scoreBlocksConvolutionallyPerSecond = (await timed(seconds, 1, async () => void (await scoreBlocks(scoring, scene, grid)))).perSecond * count;
  } finally {
    await scoring.release();
  }
  // A window like the mosaic's chunks: wide and a few block heights tall.
  const window = randomFill(bands * w * h, 5);
  for (const [name, pruned] of [['last', pools.slice(-1)], ['all', pools]] as const) {
    const network = new Network(model, new Set(pruned), runtime);
    try {
      out[`features_${name}_MPps`] = ((await timed(seconds, 1, async () => void (await network.features(window, h, w)))).perSecond * w * h) / 1e6;
    } finally {
      await network.release();
    }
  }
  // As detection runs the full pass: tiles like the mosaic's (256 x 64 points with their halo, on shared memory),
  // eight in flight, on detection's workers (on the CPU one single-threaded copy per core), and for comparison on
  // one worker whose runtime has as many threads.
  const tile = new Float32Array(new SharedArrayBuffer(4 * bands * 268 * 76));
  tile.set(randomFill(bands * 268 * 76, 6));
  const layout = networkRuntime(runtime.device === 'gpu' ? 'gpu' : 'cpu', runtime.threads);
  const oneWorker = { ...layout, threads: (layout.workers ?? 1) * (layout.threads ?? 1), workers: 1 };
  for (const [key, options] of [['features_all_tiles_MPps', layout], ['features_all_tiles_one_worker_MPps', oneWorker]] as const) {
    const network = new Network(model, new Set(pools), options);
    try {
      const eight = async () => {
        const maps = await Promise.all(Array.from({ length: 8 }, () => network.features(tile, 76, 268)));
        void network.recycle(maps);
      };
      out[key] = ((await timed(seconds, 1, eight)).perSecond * 8 * 256 * 64) / 1e6;
    } finally {
      await network.release();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Machine

function machine(): Record<string, string | number> {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) cpu = line.split(':')[1].trim();
  } catch {
    // not Linux
  }
  let ort = 'unknown';
  try {
    ort = JSON.parse(readFileSync(join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
  } catch {
    // not installed where expected
  }
  return { cpu, cores: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version, onnxruntime: ort, platform: `${process.platform} ${process.arch}` };
}

// ---------------------------------------------------------------------------------------------------------
// Main

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1,16' },
      model: { type: 'string' },
      'chunk-rows': { type: 'string' },
      'stripe-width': { type: 'string' },
      'stripe-threads': { type: 'string' },
      prune: { type: 'string' },
      threads: { type: 'string' },
      device: { type: 'string', default: 'cpu' },
      'train-batches': { type: 'string', default: '16' },
      'train-archs': { type: 'string', default: 'wdcd-light' },
      'feature-window': { type: 'string', default: '1024x256' },
      'work-dir': { type: 'string' },
      cloud: { type: 'string', default: 'mixed' },
      refine: { type: 'string' },
      keep: { type: 'boolean', default: false },
      'no-json': { type: 'boolean', default: false },
      seconds: { type: 'string', default: '4' },
      'from-source': { type: 'boolean', default: false },
    },
  });
  const threads = values.threads ? Number(values.threads) : undefined;
  const chunkRows = values['chunk-rows'] ? Number(values['chunk-rows']) : undefined;
  const stripeWidth = values['stripe-width'] ? Number(values['stripe-width']) : undefined;
  const stripeThreads = values['stripe-threads'] ? Number(values['stripe-threads']) : undefined;
  if (values.prune !== undefined && values.prune !== 'all' && values.prune !== 'last') throw new Error('--prune takes all or last');
  const prune = values.prune as 'all' | 'last' | undefined;
  if (values.device !== 'cpu' && values.device !== 'gpu') throw new Error('--device takes cpu or gpu');
  const device = values.device;
  if (values.cloud !== 'mixed' && values.cloud !== 'low') throw new Error('--cloud takes mixed or low');
  const cover = values.cloud;
  const refine = values.refine === undefined ? undefined : Number(values.refine);
  if (refine !== undefined && !(Number.isInteger(refine) && refine > 0)) throw new Error('--refine takes a radius in pixels');
  const runtime: SessionOptions = { threads, device };

  const log = (s: string) => process.stdout.write(`${s}\n`);
  const work = values['work-dir'] ?? join(tmpdir(), 'wdcd-bench');
  mkdirSync(work, { recursive: true });
  const info = machine();
  log(`wdcd benchmark on ${info.cpu}, ${info.cores} cores, ${info.memoryGB} GB, Node ${info.node}, onnxruntime-node ${info.onnxruntime}`);

  // The model: the one given, the bundled default, or a quick one trained here.
  let modelDir = values.model ?? join(root, 'models', 'default');
  let modelNote: string;
  if (existsSync(join(modelDir, 'model.json'))) modelNote = `model ${relative(root, modelDir).startsWith('..') ? modelDir : relative(root, modelDir)}`;
  else {
    if (values.model) throw new Error(`no model.json in ${values.model}`);
    modelDir = join(work, 'quick-model');
    if (!existsSync(join(modelDir, 'model.json'))) {
      log('no bundled models/default: training a quick model (l8biome:train, 48 px blocks, 1 epoch) ...');
      await trainModel({ output: modelDir, train: ['l8biome:train'], val: ['l8biome:val'], blockSize: 48, trainStride: 48, epochs: 1, threads });
    }
    modelNote = `no bundled models/default: a quick model trained for this run (l8biome:train, wdcd-light at 48 px blocks, 1 epoch), ${modelDir}`;
  }
  const model = loadModel(modelDir);
  const d = model.description;
  log(`${modelNote}: ${d.architecture.name}, ${d.architecture.blockSize} px blocks, stride ${d.detection.stride}, prune [${d.prunedPools.join(',')}] (pools ${poolIndices(d.architecture.layers).join(',')}), gate ${d.detection.gate}`);
  if (d.bands.length !== 4) throw new Error('the benchmark scenes have 4 bands (blue, green, red, NIR); this model takes ' + d.bands.length);

  // End to end.
  const sizes = values.sizes.split(',').map(sizeOf);
  const runs: DetectRun[] = [];
  log('\nend to end: detect() from the four band files to the mask GeoTIFF written, one child process per size');
  if (!values['from-source']) {
    // The children run dist/: build it from the current source first.
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
    if (tsc.status !== 0) throw new Error('tsc failed: the end-to-end runs need the built package');
  }
  log(`scenes are tiled from real imagery (${SCENES[cover]}, bands 1-4, TOA reflectance float32, tiled deflate GeoTIFF, one file per band)`);
  for (const [width, height] of sizes) {
    let t = performance.now();
    const scene = await buildScene(join(work, 'scenes'), width, height, cover);
    const built = (performance.now() - t) / 1000;
    t = performance.now();
    const options: ChildArgs['options'] = { chunkRows, stripeWidth, stripeThreads, threads, prune, device: device as 'cpu' | 'gpu', refine };
    const run = runChild({ model: modelDir, scene, out: join(work, `mask-${width}x${height}.tif`), options }, values['from-source']);
    runs.push(run);
    const s = run.stages;
    log(`  ${width} x ${height} (${f(run.megapixels, 1)} MP${built > 0.5 ? `, scene built in ${f(built, 0)} s` : ''}): ${f(run.seconds, 1)} s, ${f(run.megapixelsPerSecond)} MP/s, peak RSS ${f(run.peakRssMB, 0)} MB ` +
      `(busy: read ${f(s.read, 1)} s, mosaic ${f(s.mosaic, 1)} s, ${s.refine === undefined ? '' : `refine ${f(s.refine, 1)} s, `}write ${f(s.write, 1)} s on the main thread; score blocks ${f(s.scoreBlocks, 1)} s, features ${f(s.features, 1)} s on the network's workers, added; ${run.blocks} blocks, ${run.gatedClear} gated clear, features at ${f(100 * run.featureShare, 1)} % of points)`);
  }
  if (!values.keep) for (const run of runs) rmSync(join(work, `mask-${run.width}x${run.height}.tif`), { force: true });

  // Training and inference throughput.
  const seconds = Number(values.seconds);
  const batches = values['train-batches'].split(',').map(Number);
  log(`\ntraining (forward + backward through the training graph, random inputs, on the ${device}):`);
  const training: Record<string, number> = {};
  const archs = values['train-archs'].split(',').map((name) => architectureByName(name));
  if (!archs.some((a) => a.name === d.architecture.name && a.blockSize === d.architecture.blockSize)) archs.push(d.architecture);
  for (const arch of archs) {
    for (const batch of batches) {
      const key = `${arch.name}_${arch.blockSize}px${batch === 16 ? '' : `_batch${batch}`}_blocksPerSecond`;
      training[key] = await trainingBlocksPerSecond(arch, batch, runtime, seconds);
      log(`  ${arch.name}, ${arch.blockSize} px blocks, batch ${batch}: ${f(training[key], 1)} blocks/s (${f((1000 * batch) / training[key], 0)} ms a batch)`);
    }
  }
  const featureWindow = sizeOf(values['feature-window']);
  log(`\ninference alone (${d.architecture.name}, ${d.architecture.blockSize} px blocks, on the ${device}):`);
  const infer = await inference(model, runtime, seconds, featureWindow);
  log(`  pooled scoring: ${f(infer.scoreBlocksPerSecond, 0)} blocks/s one by one (batch 32); ${f(infer.scoreBlocksConvolutionallyPerSecond, 0)} blocks/s convolutionally (as detection does)`);
  log(`  pruned features, prune last: ${f(infer.features_last_MPps)} MP/s; prune all: ${f(infer.features_all_MPps)} MP/s (${featureWindow.join(' x ')} windows, one session)`);
  log(`  pruned features, prune all, as detection runs them (268 x 76 tiles, 8 in flight): ${f(infer.features_all_tiles_MPps)} MP/s on its workers; ${f(infer.features_all_tiles_one_worker_MPps)} MP/s on one worker with as many threads`);

  // The README table.
  const table = [
    '| scene | MP | seconds | MP/s | peak RSS (MB) | read (s) | mosaic (s) | write (s) | score blocks (s) | features (s) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...runs.map((r) => `| ${r.width} x ${r.height} | ${f(r.megapixels, 1)} | ${f(r.seconds, 1)} | ${f(r.megapixelsPerSecond)} | ${f(r.peakRssMB, 0)} | ${f(r.stages.read, 1)} | ${f(r.stages.mosaic, 1)} | ${f(r.stages.write, 1)} | ${f(r.stages.scoreBlocks, 1)} | ${f(r.stages.features, 1)} |`),
  ].join('\n');
  log(`\n${table}\n`);
  log(`Machine: ${info.cpu}, ${info.cores} cores, Node ${info.node}, onnxruntime-node ${info.onnxruntime}. Model: ${d.architecture.name} at ${d.architecture.blockSize} px blocks, stride ${d.detection.stride}, prune ${prune ?? `[${d.prunedPools.join(',')}]`}, gate ${d.detection.gate}.`);
  log('Stage figures are the time each stage kept its threads busy (the network\'s workers added up): the network runs on worker threads while the main thread reads, mosaics and writes, so they overlap.');
  const big = runs.find((r) => r.megapixels >= 90);
  const mid = runs.find((r) => r.megapixels >= 10 && r.megapixels < 90);
  if (big && mid) {
    log(`memory: ${f(big.peakRssMB, 0)} MB at ${f(big.megapixels, 0)} MP vs ${f(mid.peakRssMB, 0)} MB at ${f(mid.megapixels, 0)} MP (${f((100 * (big.peakRssMB - mid.peakRssMB)) / mid.peakRssMB, 1)} %)`);
  }

  if (!values['no-json']) {
    const results = {
      date: new Date().toISOString(),
      machine: info,
      model: { note: modelNote, architecture: d.architecture.name, blockSize: d.architecture.blockSize, stride: d.detection.stride, prunedPools: d.prunedPools, gate: d.detection.gate },
      scenes: `tiled from ${SCENES[cover]} (bands 1-4, float32 TOA reflectance), four single-band tiled deflate GeoTIFFs`,
      options: { chunkRows: chunkRows ?? null, stripeWidth: stripeWidth ?? null, stripeThreads: stripeThreads ?? null, threads: threads ?? null, prune: prune ?? null, refine: refine ?? null, device, featureWindow: featureWindow.join('x') },
      detect: runs,
      training,
      inference: infer,
    };
    const file = `results${device === 'gpu' ? '-gpu' : ''}${prune ? `-prune-${prune}` : ''}${refine ? `-refine-${refine}` : ''}${cover === 'mixed' ? '' : `-${cover}-cloud`}.json`;
    writeFileSync(join(root, 'bench', file), `${JSON.stringify(results, null, 2)}\n`);
    log(`written bench/${file}`);
  }
}

await main();
