/** wdcd, the library: the same calls the `wdcd` command, the web page and the tests use. */
export { detect, sceneCam, resolveThreshold, thresholdRows, type DetectOptions, type DetectSummary, type CamOptions, type PruneChoice } from './detect/detect.js';
export { tuneK, sceneCams, scoreThresholds, K_GRID, TUNE_METRICS, type TuneMetric, type KScore } from './detect/tune-k.js';
export { clearSkyStatistics, thresholdOf } from './detect/clear-sky.js';
export { blockGrid, blockOrigins, type BlockGrid } from './detect/block-grid.js';
export { scoreBlocks, type BlockScores } from './detect/block-scores.js';
export { mosaicCam, type CamRows } from './detect/cam-mosaic.js';
export { stripedCam, columnStripes, type CamWindow } from './detect/column-stripes.js';
export { perBlockCam, type SceneCam } from './detect/per-block-cam.js';
export { trainModel, type TrainModelOptions, type TrainModelResult } from './train/train-model.js';
export { train, evaluateBlocks, TRAIN_DEFAULTS, type TrainOptions, type EpochRecord } from './train/trainer.js';
export { ARCHITECTURES, architectureByName, WDCD_LIGHT, WDCD_VGG16, type Architecture, type LayerSpec } from './model/architecture.js';
export { loadModel, saveModel, resolveModelPath, type Model, type ModelDescription, type ClearSkyStatistics } from './model/model-file.js';
export { Network } from './model/network.js';
export { resolveDevice, gpuUnavailable, DEVICE_CHOICES, type DeviceChoice } from './engine/device.js';
export { preparedRaster, preparedArray, type PreparedSource, type InputMapping } from './prepare/prepared-source.js';
export * from './raster/index.js';
export * from './evaluate/index.js';
export {
  loadBlocks,
  labelCounts,
  sceneBlocks,
  scenesBlocks,
  wdcdLayout,
  blockFolder,
  blockCsv,
  parseNpy,
  readNpy,
  l8biome,
  gf1,
  approxFigureLabels,
  landsat38cloud,
  type LabelledBlock,
  type BlockRef,
  type BlockSource,
  type SceneSpec,
  type CatalogScene,
} from './datasets/index.js';
export { startViewer, type Viewer, type ViewerOptions } from './view/index.js';
export { InputError } from './errors.js';
export type { ProgressEvent, ProgressCallback } from './progress.js';
