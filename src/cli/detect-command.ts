import { existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { detect, DETECT_NUMBER_RULES, type DetectOptions, type DetectSummary } from '../detect/detect.js';
import { DEVICE_CHOICES } from '../engine/device.js';
import { InputError, oneLine } from '../errors.js';
import { SENSORS } from '../raster/sensors.js';
import { readProductMetadata } from '../raster/product-metadata.js';
import { checkOutputPaths, sceneName } from '../raster/output-paths.js';
import { isFolder } from '../raster/product-folder.js';
import { isProductArchive } from '../raster/product-archive.js';
import { bandList, choice, choiceList, joinNegativeValues, numberList, numberOption, scalarOrList } from './options.js';
import { progressPrinter } from './progress-bar.js';

export const DETECT_USAGE = `wdcd detect INPUT... (-o MASK.tif | -O OUTDIR) [options]

  INPUT is one multi-band raster, or several single-band rasters in band order (one scene), each file once,
  or a product folder alone (Landsat, Sentinel-2 .SAFE, GaoFen/ZiYuan: its metadata names the band files),
  or its archive as delivered (.tar, .tar.gz, .tgz: the metadata and band files are taken out to $TMPDIR).
  With -O, every INPUT is its own scene and OUTDIR gets NAME_mask.tif (and the --with extras) for each.
  A scene that fails (unreadable, wrong bands) is named and skipped, the others go on, and the exit code is 2.

  -o, --output FILE      mask GeoTIFF: uint8, 0 clear, 1 cloud, 255 nodata, the input's georeferencing (or RPCs)
  -O, --outdir DIR       one mask per input
  --model NAME|DIR       bundled model (default, rgb) or a model folder (default: default); a folder
                         named like a bundled model is given as a path, ./rgb
  --metadata FILE        the product's metadata: Landsat 4-9 MTL (.txt or .json), Sentinel-2 MTD_MSIL1C.xml /
                         MTD_MSIL2A.xml: the sensor and the DN-to-reflectance scaling, and band files named
                         in it must come in the model's order; GaoFen-1/2 and ZiYuan-3 MUX product XML: the
                         sensor, the sun angle and the Earth-Sun distance for --gain/--esun
  --sensor NAME          ${SENSORS.join(' | ')} (default: the metadata's, else the model's)
  --bands 1,2,3,4        input bands (1-based) in the model's band order, each once; needed when
                         several files hold more bands than the model reads
  --scale S[,S...]       reflectance = value * scale + offset (one value or one per band)
  --offset O[,O...]
  --gain G[,G...]        radiometric calibration of DN products (GF, ZY): radiance = gain * DN + bias,
  --bias B[,B...]          W/(m2 sr um); with --esun (solar irradiance, W/(m2 um)) and --sun-elevation
  --esun E[,E...]          it gives TOA reflectance (default bias 0)
  --sun-elevation DEG    sun elevation of the scene: for --gain/--esun, and with --sensor landsat8 it
                         corrects TOA reflectance for the sun angle (MTL SUN_ELEVATION)
  --earth-sun-distance AU  for --gain/--esun (default 1)
  --s2-baseline04        Sentinel-2 processing baseline 04.00 or later: subtract the 1000 DN offset
  --nodata V             a stored value meaning no data, besides NaN, the file's own and the preset's fill
  --stride N             sliding-window step in pixels (default: half a block)
  --no-gate              keep the activation map of blocks the network calls clear
  --prune all|last       which max-pools LPP removes (default: the model's)
  --k K                  threshold T = mean + K std of the clear-sky statistics (default: the model's)
  --threshold T          use this activation threshold instead
  --dark-guard R|none    no cloud where red reflectance < R (default: the model's; none turns it off)
  --hot-guard O|none     no cloud where blue - 0.5 red < O (default: the model's; none turns it off)
  --water-guard W|none   no cloud where NIR reflectance < W (default: the model's; none turns it off)
  --refine R|none        sharpen the activation map along the image's edges: a guided filter of radius R
                         pixels with the scene's brightness as guide (default: the model's; rgb 64,
                         default none; the model's k was tuned with its own setting)
  --refine-eps E         the refinement's regularisation in squared reflectance (default: the model's, 1e-3)
  --dilate N             grow cloud by N pixels
  --min-size N           drop cloud regions smaller than N pixels
  --cam FILE             also write the activation map (float32 GeoTIFF)
  --png FILE             also write an RGB overlay picture (PNG)
  --heatmap FILE         also write a heat map of the activation map with its threshold (PNG)
  --vector FILE          also write the cloud as polygons (GeoJSON, WGS 84 longitude and latitude)
  --vector-crs wgs84|native
                         the polygons' coordinates: WGS 84 (default, as RFC 7946 asks) or the mask's own
                         CRS (exact pixel corners, the CRS named as GDAL names it)
  --with cam,png,heatmap,vector
                         extras to write with -O (NAME_cam.tif, NAME_overlay.png, NAME_heatmap.png,
                         NAME_clouds.geojson); may be given more than once
  --cog                  write Cloud Optimized GeoTIFFs
  --overwrite            replace existing outputs
  --threads N            CPU threads for the network (default: all cores)
  --device auto|cpu|gpu  where the network runs (default auto: the GPU where onnxruntime's WebGPU
                         provider finds one through Vulkan, else the CPU)
  --stripe-width N       scenes wider than N px run in column stripes N px wide, bounding memory
                         (a multiple of 256; default 2048)
  --tta N                average the map over N orientations of the scene: 1 (default), 2, 4 or 8 (N times
                         the network's work; see README, Accuracy)
  --stripe-threads N     threads that mosaic stripes at once, for machines with cores to spare or a
                         GPU (default 1; each holds a stripe's state, about 350 MB)
  --json                 print a JSON summary on stdout (with -O, an array of the scenes detected)
  -q, --quiet            no progress on stderr (warnings still print)`;

const DETECT_OPTIONS = {
  output: { type: 'string', short: 'o' },
  outdir: { type: 'string', short: 'O' },
  model: { type: 'string' },
  sensor: { type: 'string' },
  bands: { type: 'string' },
  scale: { type: 'string' },
  offset: { type: 'string' },
  gain: { type: 'string' },
  bias: { type: 'string' },
  esun: { type: 'string' },
  'sun-elevation': { type: 'string' },
  'earth-sun-distance': { type: 'string' },
  's2-baseline04': { type: 'boolean' },
  metadata: { type: 'string' },
  nodata: { type: 'string' },
  stride: { type: 'string' },
  'no-gate': { type: 'boolean' },
  prune: { type: 'string' },
  k: { type: 'string' },
  threshold: { type: 'string' },
  'dark-guard': { type: 'string' },
  'hot-guard': { type: 'string' },
  'water-guard': { type: 'string' },
  refine: { type: 'string' },
  'refine-eps': { type: 'string' },
  dilate: { type: 'string' },
  'min-size': { type: 'string' },
  cam: { type: 'string' },
  png: { type: 'string' },
  heatmap: { type: 'string' },
  vector: { type: 'string' },
  'vector-crs': { type: 'string' },
  with: { type: 'string', multiple: true },
  cog: { type: 'boolean' },
  overwrite: { type: 'boolean' },
  threads: { type: 'string' },
  device: { type: 'string' },
  'stripe-width': { type: 'string' },
  'stripe-threads': { type: 'string' },
  tta: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

export async function detectCommand(argv: string[]): Promise<void> {
  const { values: v, positionals: inputs } = parseArgs({
    args: joinNegativeValues(argv, DETECT_OPTIONS),
    allowPositionals: true,
    options: DETECT_OPTIONS,
  });
  if (inputs.length === 0) throw new InputError('no input raster given\n\n' + DETECT_USAGE);
  // `-O "$OUT"` with OUT unset: name the option given, rather than ask for one of the two.
  if (v.output === '') throw new InputError('no file name given', '--output');
  if (v.outdir === '') throw new InputError('no folder given', '--outdir');
  if (Boolean(v.output) === Boolean(v.outdir)) throw new InputError('give either -o MASK.tif (one scene) or -O OUTDIR (one mask per input)');
  const progress = progressPrinter(process.stderr, v.quiet);
  const common: Omit<DetectOptions, 'mask'> = {
    model: v.model,
    sensor: v.sensor,
    bands: bandList(v.bands, '--bands'),
    scale: scalarOrList(v.scale, '--scale'),
    offset: scalarOrList(v.offset, '--offset'),
    ...calibrationOptions(v),
    sentinel2Baseline04: v['s2-baseline04'],
    metadata: v.metadata === undefined ? undefined : readProductMetadata(v.metadata),
    nodata: detectNumber(v.nodata, 'nodata'),
    stride: detectNumber(v.stride, 'stride'),
    gate: v['no-gate'] ? false : undefined,
    prune: choice(v.prune, '--prune', ['all', 'last'] as const),
    vectorCrs: choice(v['vector-crs'], '--vector-crs', ['wgs84', 'native'] as const),
    k: detectNumber(v.k, 'k'),
    threshold: detectNumber(v.threshold, 'threshold'),
    darkGuard: v['dark-guard'] === 'none' ? null : detectNumber(v['dark-guard'], 'darkGuard'),
    hotGuard: v['hot-guard'] === 'none' ? null : detectNumber(v['hot-guard'], 'hotGuard'),
    waterGuard: v['water-guard'] === 'none' ? null : detectNumber(v['water-guard'], 'waterGuard'),
    refine: v.refine === 'none' ? null : detectNumber(v.refine, 'refine'),
    refineEps: detectNumber(v['refine-eps'], 'refineEps'),
    dilate: detectNumber(v.dilate, 'dilate'),
    minSize: detectNumber(v['min-size'], 'minSize'),
    cog: v.cog,
    overwrite: v.overwrite,
    threads: detectNumber(v.threads, 'threads'),
    device: choice(v.device, '--device', DEVICE_CHOICES),
    stripeWidth: detectNumber(v['stripe-width'], 'stripeWidth'),
    stripeThreads: detectNumber(v['stripe-threads'], 'stripeThreads'),
    tta: detectNumber(v.tta, 'tta'),
    onProgress: progress,
  };
  const summaries: DetectSummary[] = [];
  const failures: string[] = [];
  if (v.output) {
    // Without -O the extras have their own file options: --with would be dropped without a word.
    if (v.with) throw new InputError('applies to -O; with -o give --cam, --png, --heatmap or --vector FILE', '--with');
    if (v['vector-crs'] && !v.vector) throw new InputError('applies to the cloud polygons: give --vector FILE too', '--vector-crs');
    for (const file of [v.output, v.cam, v.png, v.heatmap, v.vector]) if (file) makeFolder(dirname(file));
    summaries.push(await detect(inputs, { ...common, mask: v.output, cam: v.cam, png: v.png, heatmap: v.heatmap, vector: v.vector }));
  } else {
    const outdir = v.outdir!;
    if (v.cam || v.png || v.heatmap || v.vector) throw new InputError('with -O use --with cam,png,heatmap,vector instead of file names', '--outdir');
    // `--with png --with heatmap` adds up (parseArgs would keep only the last).
    const extras = new Set(choiceList(v.with?.join(','), '--with', ['cam', 'png', 'heatmap', 'vector'] as const));
    if (v['vector-crs'] && !extras.has('vector')) throw new InputError('applies to the cloud polygons: give --with vector too', '--vector-crs');
    checkDistinctScenes(inputs);
    const folder = common.metadata ? inputs.find((input) => isFolder(input) || isProductArchive(input)) : undefined;
    if (folder) throw new InputError(`is a product ${isFolder(folder) ? 'folder' : 'archive'}, which brings its own metadata; to use --metadata, give its band files`, folder);
    const jobs = inputs.map((input) => {
      const stem = join(outdir, sceneName(input));
      return {
        input,
        mask: `${stem}_mask.tif`,
        cam: extras.has('cam') ? `${stem}_cam.tif` : undefined,
        png: extras.has('png') ? `${stem}_overlay.png` : undefined,
        heatmap: extras.has('heatmap') ? `${stem}_heatmap.png` : undefined,
        vector: extras.has('vector') ? `${stem}_clouds.geojson` : undefined,
      };
    });
    // Every scene's outputs at once, before the first is written: two inputs of one name in different folders
    // would share outputs, and one scene's mask could be named as another input. An output that is a folder is
    // refused here too, the summary beside each mask included, rather than after the scenes before it.
    checkOutputPaths(
      Object.fromEntries(jobs.flatMap(({ input, ...out }) => Object.entries({ ...out, summary: `${out.mask}.json` }).flatMap(([kind, path]) => (path ? [[`the ${OUTPUT_NAMES[kind]} of ${input}`, path]] : [])))),
      inputs,
    );
    // Outputs of an earlier run: refused now, not when their scene comes, after the scenes before it.
    if (!v.overwrite) {
      const existing = jobs.flatMap(({ input, ...out }) => Object.values(out).filter((path): path is string => path !== undefined && existsSync(path)));
      if (existing.length > 0) {
        const more = existing.length > 1 ? ` (and ${existing.length - 1} more output${existing.length > 2 ? 's' : ''})` : '';
        throw new InputError(`already exists${more}; give --overwrite to replace the outputs of this batch`, existing[0]);
      }
    }
    // What describes one acquisition (its product metadata, its sun angle) is given to every scene of the batch.
    const perScene = ['metadata', 'sun-elevation', 'earth-sun-distance'].filter((o) => v[o as 'metadata'] !== undefined);
    if (inputs.length > 1 && perScene.length > 0) {
      const n = inputs.length;
      progress({
        kind: 'warning',
        message: common.metadata
          ? `--metadata ${common.metadata.file} describes one product (${common.metadata.product}), and -O applies it to each of the ${n} scenes: give only that product's scenes (tiles of it), or each product's folder without --metadata`
          : `${perScene.map((o) => `--${o}`).join(' and ')} ${perScene.length > 1 ? 'are' : 'is'} one scene's, and -O applies ${perScene.length > 1 ? 'them' : 'it'} to each of the ${n} scenes: give only tiles of that scene, or run detect once per scene`,
      });
    }
    makeFolder(outdir);
    for (const { input, ...outputs } of jobs) {
      progress({ kind: 'log', message: `${input}` });
      try {
        summaries.push(await detect([input], { ...common, ...outputs }));
      } catch (e) {
        // One bad scene (corrupt, truncated, of the wrong bands) must not cost the rest of a long batch; it leaves
        // no output, is named now and again at the end, and the exit code says so. A bug still stops the batch.
        if (!(e instanceof InputError)) throw e;
        // One line each (a decoder's message can span several), so the final list reads one scene per line.
        const message = oneLine(e.message);
        failures.push(message);
        progress({ kind: 'warning', message: `skipped: ${message}` });
      }
    }
  }
  progress.done();
  // With -O an array whatever the number of scenes detected (one of two, or none), so a script reads one shape.
  if (v.json) process.stdout.write(JSON.stringify(v.outdir ? summaries : summaries[0], null, 2) + '\n');
  else if (!v.quiet) {
    for (const s of summaries) {
      process.stderr.write(`${s.outputs.mask}: ${s.width} x ${s.height}, cloud ${(100 * s.cloudFraction).toFixed(2)} %, nodata ${(100 * s.nodataFraction).toFixed(2)} %, threshold ${s.threshold.toFixed(3)}, ${s.seconds.total.toFixed(1)} s\n`);
    }
  }
  if (failures.length > 0) {
    throw new InputError(`${failures.length} of ${inputs.length} scenes failed and have no mask:\n  ${failures.join('\n  ')}`);
  }
}

const OUTPUT_NAMES: Record<string, string> = { mask: 'mask', summary: 'summary', cam: 'CAM', png: 'overlay', heatmap: 'heat map', vector: 'cloud polygons' };

/**
 * With -O every input is a scene: one given twice (a glob and a name, another spelling, a link) would be detected
 * twice, the second failing on the first's outputs or, with --overwrite, replacing them.
 */
function checkDistinctScenes(inputs: string[]): void {
  const seen = new Map<string, number>();
  for (const [i, input] of inputs.entries()) {
    let key: string;
    try {
      key = realpathSync(input);
    } catch {
      key = resolve(input);
    }
    const first = seen.get(key);
    if (first !== undefined) {
      const same = inputs[first] === input ? '' : ` (as ${inputs[first]})`;
      throw new InputError(`is given twice${same}, as inputs ${first + 1} and ${i + 1}; with -O each input is a scene: give each once`, input);
    }
    seen.set(key, i);
  }
}

/** Output folders are created as needed (a user naming out/mask.tif expects out/ to appear). */
function makeFolder(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new InputError('is not a folder', dir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot create the output folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, dir);
  }
}

/**
 * --gain/--bias/--esun/--sun-elevation/--earth-sun-distance: a radiometric calibration when gain or esun is given
 * (each of gain, esun and sun elevation is then needed), else the sun elevation alone (Landsat 8's correction).
 */
function calibrationOptions(v: Record<string, unknown>): Pick<DetectOptions, 'calibration' | 'sunElevationDeg'> {
  const text = (name: string) => (typeof v[name] === 'string' ? (v[name] as string) : undefined);
  const sunElevationDeg = numberOption(text('sun-elevation'), '--sun-elevation', (n) => n > 0 && n <= 90, 'degrees above the horizon (0-90]');
  const gain = numberList(text('gain'), '--gain');
  const esun = numberList(text('esun'), '--esun');
  const bias = numberList(text('bias'), '--bias');
  const earthSunDistance = numberOption(text('earth-sun-distance'), '--earth-sun-distance', (n) => n > 0.9 && n < 1.1, 'a distance in astronomical units (about 0.98-1.02)');
  if (!gain && !esun) {
    for (const [given, option] of [[bias, '--bias'], [earthSunDistance, '--earth-sun-distance']] as const) {
      if (given !== undefined) throw new InputError('applies only to a calibration with --gain and --esun', option);
    }
    return { sunElevationDeg };
  }
  for (const [given, option] of [[gain, '--gain'], [esun, '--esun']] as const) {
    if (given === undefined) throw new InputError('a radiometric calibration needs --gain, --esun and the sun angle (--sun-elevation or --metadata)', option);
  }
  return { calibration: { gain: gain!, offset: bias ?? [0], esun: esun!, sunElevationDeg, earthSunDistance } };
}

/** A numeric option parsed by the library's own rule for it (detect.ts). */
function detectNumber(value: string | undefined, key: keyof typeof DETECT_NUMBER_RULES): number | undefined {
  const [option, check, what] = DETECT_NUMBER_RULES[key];
  return numberOption(value, option, check, what);
}
