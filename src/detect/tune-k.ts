/**
 * Chooses k of T = mean + k std on validation scenes with pixel masks (the paper tunes it on its validation
 * scenes): the activation map of each scene is computed once, then every k on the grid is scored by the pooled
 * pixel confusion matrix, and the k with the best chosen metric wins. The spectral guards take no part in the
 * choice; each k's scores (`KScore`) are of the masks with them.
 */
import { readSceneMask, type SceneSpec } from '../datasets/scene-blocks.js';
import { addConfusion, confusion, emptyConfusion, metrics, type Metrics } from '../evaluate/index.js';
import type { Model } from '../model/model-file.js';
import { noProgress, type ProgressCallback } from '../progress.js';
import { thresholdOf } from './clear-sky.js';
import { sceneCam, thresholdRows, type CamOptions } from './detect.js';

export const K_GRID = Array.from({ length: 49 }, (_, i) => -2 + i * 0.25);

/**
 * `f1`, `oa`, `kappa`: of the pooled confusion matrix. `image-kappa`: the mean of per-image kappas (an image
 * without clear or without cloud pixels counts 0). Pooled metrics are ruled by the scenes with the most cloud
 * pixels (the L8 Biome val split has three scenes over 97 % cloud) and then favour low thresholds that flood
 * partly cloudy scenes elsewhere; weighing each scene once chose thresholds that carried over far better.
 */
export type TuneMetric = 'f1' | 'oa' | 'kappa' | 'image-kappa';
export const TUNE_METRICS: readonly TuneMetric[] = ['image-kappa', 'f1', 'oa', 'kappa'];

/** A scene's activation map, validity, the pixels its guards rule out (if the model has guards) and truth. */
export interface SceneMaps {
  name?: string;
  cam: Float32Array;
  valid: Uint8Array;
  ruledOut?: Uint8Array;
  truth: Uint8Array;
}

export interface KScore extends Metrics {
  k: number;
  threshold: number;
  /** The value of the tuning metric. */
  tuning: number;
}

/** Detection options that read a scene with its own band choice and scaling (0-based in SceneSpec). */
export function sceneInputOptions(scene: SceneSpec): CamOptions {
  return {
    bands: scene.bands?.map((b) => b + 1),
    scale: scene.scale,
    offset: scene.offset,
    nodata: scene.nodataValue,
  };
}

export async function sceneCams(model: Model, scenes: SceneSpec[], options: CamOptions = {}, onProgress: ProgressCallback = noProgress) {
  const out: SceneMaps[] = [];
  for (const [i, scene] of scenes.entries()) {
    const truth = await readSceneMask(scene);
    const { cam, valid, ruledOut } = await sceneCam(scene.image, { ...sceneInputOptions(scene), ...options, model });
    out.push({ name: scene.name ?? scene.image[0], cam, valid, ruledOut, truth: truth.mask });
    onProgress({ kind: 'progress', stage: 'validation maps', done: i + 1, total: scenes.length, unit: 'scenes' });
  }
  return out;
}

/** The tuning metric of each threshold. */
export function tuningScores(cams: SceneMaps[], thresholds: number[], metric: TuneMetric): number[] {
  if (metric !== 'image-kappa') return scoreThresholds(cams, thresholds).map((m) => m[metric]);
  const perImage = cams.map((c) => scoreThresholds([c], thresholds).map((m) => (Number.isFinite(m.kappa) ? m.kappa : 0)));
  return thresholds.map((_, t) => perImage.reduce((sum, image) => sum + image[t], 0) / cams.length);
}

export function scoreThresholds(cams: SceneMaps[], thresholds: number[]): Metrics[] {
  return thresholds.map((t) => {
    let m = emptyConfusion();
    for (const c of cams) m = addConfusion(m, confusion(thresholdRows(c.cam, c.valid, t, c.ruledOut), c.truth));
    return metrics(m);
  });
}

export async function tuneK(model: Model, scenes: SceneSpec[], metric: TuneMetric = 'image-kappa', options: CamOptions = {}, onProgress?: ProgressCallback): Promise<{ k: number; scores: KScore[] }> {
  const stats = model.description.detection.clearSky;
  if (!stats) throw new Error('clear-sky statistics are needed before k can be tuned');
  const cams = await sceneCams(model, scenes, options, onProgress);
  const thresholds = K_GRID.map((k) => thresholdOf(stats, k));
  // k calibrates the map alone; the guards veto afterwards (spectral-guards.ts says why).
  const tuning = tuningScores(cams.map((c) => ({ ...c, ruledOut: undefined })), thresholds, metric);
  const scores = scoreThresholds(cams, thresholds).map((m, i) => ({ ...m, k: K_GRID[i], threshold: thresholds[i], tuning: tuning[i] }));
  const best = scores.reduce((a, b) => (b.tuning > a.tuning || Number.isNaN(a.tuning) ? b : a));
  return { k: best.k, scores };
}
