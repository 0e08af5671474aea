/**
 * `npm run experiments`: the accuracy table of the README, reproduced in one command.
 * Rows: the one-rule spectral baseline, the bundled GCP-head default and its GAP-head twin (same recipe), the
 * default's map without LPP (pooled resolution) and with the last / all pools pruned, with and without the block
 * gate, with the three spectral guards, the dark and HOT guards, the dark guard alone and none, several k, the recipe's other seeds,
 * test-time augmentation (`--tta`), and the map's refinement (`--refine`; the rgb model with and without its own).
 * k is chosen on val for every L8 Biome row by the default's rule (mean per-image kappa of the map alone; the
 * guards veto afterwards, as `wdcd train` does); the rgb row uses the model's own k (tuned by its recipe). Test is
 * reported as measured.
 * Writes experiments/results.json and the table between the README's experiments markers.
 * Options: --skip-ablation (no training of the default's twin with the other head), --ablation-model DIR (reuse one), --skip-seeds (no reruns of the
 * default's recipe with other seeds). Trained models are cached in experiments/.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gf1, l8biome, l8biomeRgb, landsat38cloud, type CatalogScene } from '../src/datasets/index.js';
import { addConfusion, confusion, emptyConfusion, metrics, type Metrics } from '../src/evaluate/index.js';
import { readMask } from '../src/evaluate/mask-codings.js';
import { loadModel, type Model } from '../src/model/model-file.js';
import { openRaster } from '../src/raster/open.js';
import { thresholdOf } from '../src/detect/clear-sky.js';
import type { CamOptions } from '../src/detect/detect.js';
import { K_GRID, sceneCams, scoreThresholds, tuningScores, type TuneMetric } from '../src/detect/tune-k.js';
import { spawnSync } from 'node:child_process';
import { RECIPES } from './model-recipes.js';

type Row = { method: string; k: string; val: Metrics; test: Metrics };

const args = process.argv.slice(2);
const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'experiments');
mkdirSync(outDir, { recursive: true });

/** The spectral baseline of the issue: cloud where mean visible reflectance > 0.17. */
async function baseline(scenes: CatalogScene[]): Promise<Metrics> {
  let m = emptyConfusion();
  for (const scene of scenes) {
    const source = await openRaster(scene.image);
    const bands = scene.bands ?? [0, 1, 2];
    const scale = typeof scene.scale === 'number' ? scene.scale : 1;
    const planes = await source.readWindow({ x: 0, y: 0, width: source.width, height: source.height }, bands.slice(0, 3));
    await source.close();
    const pred = new Uint8Array(planes[0].length);
    for (let i = 0; i < pred.length; i++) {
      const v = ((planes[0][i] + planes[1][i] + planes[2][i]) / 3) * scale;
      pred[i] = Number.isNaN(v) ? 255 : v > 0.17 ? 1 : 0;
    }
    m = addConfusion(m, confusion(pred, (await readMask(scene.mask, scene.coding)).mask));
  }
  return metrics(m);
}

/** The k of K_GRID that `wdcd train` would choose on these scenes by this metric (the map alone; guards veto after). */
async function tunedK(model: Model, options: CamOptions, scenes: CatalogScene[], metric: TuneMetric): Promise<number> {
  const stats = model.description.detection.clearSky!;
  const cams = await sceneCams(model, scenes, options);
  const tuning = tuningScores(cams.map((c) => ({ ...c, ruledOut: undefined })), K_GRID.map((k) => thresholdOf(stats, k)), metric);
  return K_GRID[tuning.reduce((b, s, i) => (s > tuning[b] ? i : b), 0)];
}

/**
 * k tuned on val by the bundled default's rule (mean per-image kappa), the model's own k (`'own'`), or a given k
 * with how it was chosen, plus fixed k values, each scored on val and test.
 */
async function camRows(
  label: string, model: Model, options: CamOptions, val: CatalogScene[], test: CatalogScene[], fixedK: number[], kRule: 'val' | 'own' | { k: number; how: string } = 'val',
): Promise<Row[]> {
  const stats = model.description.detection.clearSky!;
  const valCams = await sceneCams(model, val, options);
  const testCams = await sceneCams(model, test, options);
  const first = kRule === 'own' ? model.description.detection.k : kRule === 'val' ? await tunedK(model, options, val, 'image-kappa') : kRule.k;
  const how = kRule === 'own' ? "the model's" : kRule === 'val' ? 'tuned on val' : kRule.how;
  const ks = [first, ...fixedK.filter((k) => k !== first)];
  const testScores = scoreThresholds(testCams, ks.map((k) => thresholdOf(stats, k)));
  const valAt = scoreThresholds(valCams, ks.map((k) => thresholdOf(stats, k)));
  return ks.map((k, i) => ({ method: label, k: i === 0 ? `${k} (${how})` : String(k), val: valAt[i], test: testScores[i] }));
}

/**
 * A model trained by the default recipe with some arguments changed, cached in experiments/NAME; retrained when
 * the cached model was trained by other arguments (the recipe changed).
 */
function recipeModel(name: string, what: string, changes: string[]): Model {
  const dir = join(outDir, name);
  const trainArgs = [...RECIPES.default, ...changes];
  const cached = existsSync(join(dir, 'model.json')) ? loadModel(dir) : null;
  if (cached && String(cached.description.training?.command ?? '').includes(`train ${trainArgs.join(' ')} -o `)) return cached;
  process.stderr.write(`training ${what} (the default recipe with ${changes.join(' ')})...\n`);
  rmSync(dir, { recursive: true, force: true });
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'train', ...trainArgs, '-o', dir], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`training ${what} failed`);
  return loadModel(dir);
}

/** The default's recipe with the other head: plain global average pooling (GAP) for the GCP default. */
function ablationModel(): Model | null {
  if (args.includes('--skip-ablation')) return null;
  const given = args[args.indexOf('--ablation-model') + 1];
  if (args.includes('--ablation-model') && given) return loadModel(given);
  return recipeModel('gap-model', 'the GAP ablation model', ['--arch', 'wdcd-lean-gap']);
}

/** The seeds besides the bundled model's (1) that the recipe is rerun with, to show the spread training has. */
const SEEDS = [2, 3, 4, 5, 6];

/** Refinement radii measured with the default model (the rgb model's own is in its row). */
const REFINE_RADII = [32, 64];

const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : 'n/a');
const cells = (m: Metrics) => [m.oa, m.precision, m.recall, m.f1, m.iou].map(pct).concat(Number.isFinite(m.kappa) ? m.kappa.toFixed(3) : 'n/a');

async function main() {
  const val = l8biome('val');
  const test = l8biome('test');
  const model = loadModel(join(root, 'models', 'default'));
  const rows: Row[] = [];
  rows.push({ method: 'spectral baseline (mean visible > 0.17)', k: '-', val: await baseline(val), test: await baseline(test) });
  const ablation = ablationModel();
  const headOf = (m: Model) => (m.description.architecture.head === 'gcp' ? 'GCP head' : 'GAP head (plain global average pooling)');
  const head = headOf(model);
  // Every CAM row applies the default's spectral guards (red >= 0.08, blue - 0.5 red >= 0.08, NIR >= 0.05) unless it says otherwise.
  if (ablation) rows.push(...(await camRows(`${headOf(ablation)}, LPP (all pools), gate`, ablation, { prune: 'all', gate: true }, val, test, [])));
  rows.push(...(await camRows(`${head}, no LPP (pooled resolution), gate`, model, { prune: [], gate: true }, val, test, [])));
  rows.push(...(await camRows(`${head}, LPP (last pool), gate`, model, { prune: 'last', gate: true }, val, test, [])));
  rows.push(...(await camRows(`${head}, LPP (all pools), no gate`, model, { prune: 'all', gate: false }, val, test, [])));
  rows.push(...(await camRows(`${head}, LPP (all pools), gate, no guards (the WDCD method as published)`, model, { prune: 'all', gate: true, darkGuard: null, hotGuard: null, waterGuard: null }, val, test, [])));
  rows.push(...(await camRows(`${head}, LPP (all pools), gate, dark guard only (the first default)`, model, { prune: 'all', gate: true, hotGuard: null, waterGuard: null }, val, test, [])));
  rows.push(...(await camRows(`${head}, LPP (all pools), gate, dark + HOT guards (the former default)`, model, { prune: 'all', gate: true, waterGuard: null }, val, test, [])));
  rows.push(...(await camRows(`**${head}, LPP (all pools), gate, dark + HOT + water guards = bundled \`default\`**`, model, { prune: 'all', gate: true }, val, test, [2, 3, 4, 6, 8])));
  // Test-time augmentation as users run it (`--tta N`): the model's own k.
  for (const tta of [2, 8]) rows.push(...(await camRows(`bundled \`default\` with \`--tta ${tta}\` (map averaged over ${tta} orientations)`, model, { tta }, val, test, [], 'own')));
  // The edge-aware refinement (guided filter; detect/guided-refinement.ts), k tuned on val with it.
  for (const refine of REFINE_RADII) rows.push(...(await camRows(`bundled \`default\` with \`--refine ${refine}\` (guided filter, radius ${refine} px)`, model, { refine }, val, test, [])));
  if (!args.includes('--skip-seeds')) {
    for (const seed of SEEDS) {
      const other = recipeModel(`seed-${seed}`, `the default recipe with seed ${seed}`, ['--seed', String(seed)]);
      rows.push(...(await camRows(`the default's recipe, seed ${seed} (its own k, tuned on val by the recipe)`, other, {}, val, test, [], 'own')));
    }
  }

  // Another dataset's Landsat 8 scene, used for nothing else: how the guards carry over. k is the model's.
  const otherRows: { method: string; k: string; test: Metrics }[] = [];
  const patch = landsat38cloud();
  otherRows.push({ method: 'spectral baseline (mean visible > 0.17)', k: '-', test: await baseline(patch) });
  for (const [label, guards] of [
    ['bundled `default`, no guards', { darkGuard: null, hotGuard: null, waterGuard: null }],
    ['bundled `default`, dark guard only', { hotGuard: null, waterGuard: null }],
    ['bundled `default`, dark + HOT guards', { waterGuard: null }],
    ['**bundled `default` (dark + HOT + water guards)**', {}],
  ] as [string, CamOptions][]) {
    const [row] = await camRows(label, model, guards, patch, patch, [], 'own');
    otherRows.push({ method: row.method, k: row.k, test: row.test });
  }
  for (const refine of REFINE_RADII) {
    const k = await tunedK(model, { refine }, val, 'image-kappa');
    const [row] = await camRows(`bundled \`default\` with \`--refine ${refine}\``, model, { refine }, patch, patch, [], { k, how: 'tuned on L8 Biome val' });
    otherRows.push({ method: row.method, k: row.k, test: row.test });
  }

  const rgbRows: Row[] = [];
  if (existsSync(join(root, 'models', 'rgb', 'model.json'))) {
    const rgb = loadModel(join(root, 'models', 'rgb'));
    const gfTest = gf1('test');
    // GF-1 has no validation split here: "val" is the 6 GF-1 train slices. The rgb model's weights never saw them
    // (it trains on the L8 Biome RGB renderings, scripts/model-recipes.ts), but its k was tuned on them and on
    // the rendered L8 Biome val scenes; k is the model's own.
    const rgbVal = gf1('train');
    rgbRows.push({ method: 'spectral baseline (mean visible > 0.17)', k: '-', val: await baseline(rgbVal), test: await baseline(gfTest) });
    const refine = rgb.description.detection.refine;
    const refined = refine ? `, refined (guided filter, radius ${refine.radius} px)` : '';
    rgbRows.push(...(await camRows(`**bundled \`rgb\`: GCP + LPP (all pools), gate${refined}**`, rgb, {}, rgbVal, gfTest, [], 'own')));
    rgbRows.push(...(await camRows('bundled `rgb` with `--tta 8`', rgb, { tta: 8 }, rgbVal, gfTest, [], 'own')));
    if (refine) {
      // The same weights without the refinement, k chosen by the recipe's rule (pooled kappa on its --tune scenes).
      const tuneScenes = [...(await l8biomeRgb('val')), ...rgbVal];
      const k = await tunedK(rgb, { refine: null }, tuneScenes, 'kappa');
      rgbRows.push(...(await camRows('bundled `rgb` without the refinement (`--refine none`, the WDCD map)', rgb, { refine: null }, rgbVal, gfTest, [], { k, how: "tuned by the recipe's rule" })));
    }
  }

  const header = '| method | k | val OA | P | R | F1 | IoU | kappa | test OA | P | R | F1 | IoU | kappa |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const render = (rs: Row[]) => [header, ...rs.map((r) => `| ${r.method} | ${r.k} | ${cells(r.val).join(' | ')} | ${cells(r.test).join(' | ')} |`)].join('\n');
  const table =
    `L8 Biome (4 bands: blue, green, red, NIR; val 7 scenes, test 5 scenes, all pixels pooled; percent):\n\n${render(rows)}\n` +
    `\n38-Cloud (one 384 x 384 Landsat 8 patch of another dataset, blue, green, red, NIR DN scaled to TOA reflectance without the sun-angle term; never trained or tuned on; percent):\n\n` +
    ['| method | k | OA | P | R | F1 | IoU | kappa |', '|---|---|---|---|---|---|---|---|', ...otherRows.map((r) => `| ${r.method} | ${r.k} | ${cells(r.test).join(' | ')} |`)].join('\n') +
    '\n' +
    (rgbRows.length ? `\nGaoFen-1 RGB samples (\`rgb\` model; "val" = the 6 GF-1 train scenes, not trained on, k tuned with them; test = the 6 test scenes):\n\n${render(rgbRows)}\n` : '');
  writeFileSync(join(outDir, 'results.json'), JSON.stringify({ date: new Date().toISOString(), l8biome: rows, landsat38cloud: otherRows, gf1: rgbRows }, null, 2) + '\n');
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const start = '<!-- experiments:start -->';
  const end = '<!-- experiments:end -->';
  if (readme.includes(start) && readme.includes(end)) {
    writeFileSync(readmePath, readme.slice(0, readme.indexOf(start) + start.length) + '\n' + table + readme.slice(readme.indexOf(end)));
  }
  process.stdout.write(table);
}

await main();
