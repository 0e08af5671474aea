/** Public API of the raster layer: reading, sensor presets, GeoTIFF/COG writing, quicklooks, mask clean-up, cloud polygons. */
export type { GeoReference, PixelWindow, RasterSource, SampleType } from './types.js';
export { openRaster, type OpenRasterOptions } from './open.js';
export { DEFAULT_LIMITS, type OpenLimits } from './limits.js';
export {
  PRESETS, SENSORS, resolveBands,
  type BandOverrides, type Calibration, type Channel, type ResolvedBands, type Sensor, type SensorPreset,
} from './sensors.js';
export { readProductMetadata, checkBandFiles, type ProductMetadata } from './product-metadata.js';
export { readProductFolder, type ProductFolder } from './product-folder.js';
export { isProductArchive, openProductArchive, type ProductArchive } from './product-archive.js';
export { createGeoTiffWriter, type GeoTiffWriter, type GeoTiffWriterOptions } from './write-geotiff.js';
export { removeTemporaryFilesSync } from './temporary-files.js';
export type { Resampling } from './downsample.js';
export {
  DEFAULT_QUICKLOOK_SIZE, createHeatmapQuicklook, createOverlayQuicklook,
  type HeatmapOptions, type HeatmapQuicklook, type OverlayOptions, type OverlayQuicklook, type QuicklookOptions,
} from './quicklook.js';
export { dilate, removeSmall } from './post-process.js';
export { polygonizeMask, type MaskPolygon } from './polygonize.js';
export { createCloudPolygonsWriter, type CloudPolygonsOptions, type CloudPolygonsWriter } from './write-cloud-polygons.js';
export { wgs84Transform, type ToWgs84 } from './to-wgs84.js';
