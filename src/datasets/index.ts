/** Training block sources: every loader returns lazy labelled blocks (see blocks.ts for the memory model). */
export {
  loadBlocks,
  labelCounts,
  blockRef,
  fileBlockRef,
  readBlockValues,
  resolveBands,
  type LabelledBlock,
  type BlockRef,
  type BlockSource,
  type BandOptions,
  type LoadOptions,
} from './blocks.js';
export { parseNpy, readNpy, npyNumbers, readBlockLabel, type NpyArray, type NpyData } from './npy.js';
export { wdcdLayout, type WdcdLayoutOptions } from './wdcd-layout.js';
export { blockFolder, blockCsv, splitCsvLine, BLOCK_IMAGE_EXTENSIONS } from './block-folder.js';
export {
  sceneBlocks,
  scenesBlocks,
  blockOffsets,
  type SceneSpec,
  type SceneBlockOptions,
  type SceneBlockStats,
} from './scene-blocks.js';
export { dataRoot, l8biome, l8biomeRgb, gf1, approxFigureLabels, landsat38cloud, type CatalogScene, type L8BiomeSplit } from './catalog.js';
export { DISPLAY_RENDERINGS, TONE_CURVES, displayValue, displayRgbFile, type DisplayRendering } from './display-rgb.js';
