/** What every raster reader returns and every writer takes. Pixel windows are in pixel coordinates of the full image. */

export type SampleType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export interface PixelWindow {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Georeferencing carried from input to output unchanged. The raw GeoTIFF tags are kept so that a writer can
 * copy them exactly (CRS and geotransform must round-trip bit for bit through gdalinfo).
 */
export interface GeoReference {
  /** GDAL order: [originX, pixelWidth, rowRotation, originY, columnRotation, pixelHeight]. */
  geoTransform: [number, number, number, number, number, number];
  /** TIFF tag 34735, GeoKeyDirectoryTag, as stored. */
  geoKeyDirectory?: number[];
  /** TIFF tag 34736, GeoDoubleParamsTag. */
  geoDoubleParams?: number[];
  /** TIFF tag 34737, GeoAsciiParamsTag. */
  geoAsciiParams?: string;
  /** TIFF tag 33550. */
  modelPixelScale?: number[];
  /** TIFF tag 33922. */
  modelTiepoint?: number[];
  /** TIFF tag 34264. */
  modelTransformation?: number[];
  /** EPSG code of the projected or geographic CRS, when the geo keys name one. */
  epsg?: number;
}

/** An opened raster (one file, or several single-band files stacked in band order). Reads by window. */
export interface RasterSource {
  /** The file(s) behind it, for messages. */
  readonly paths: string[];
  readonly width: number;
  readonly height: number;
  readonly bandCount: number;
  readonly sampleType: SampleType;
  readonly georef: GeoReference | null;
  /** The file's declared nodata value (GDAL_NODATA tag), if any. NaN is always treated as nodata. */
  readonly nodata: number | null;
  /**
   * The 0-based band that is the file's alpha (transparency) rather than data, or null. GDAL counts it as a band,
   * so band numbers match GDAL's; its transparent pixels already read as NaN in every band, and it is never taken
   * as a data band (see dataBands).
   */
  readonly alphaBand: number | null;
  /**
   * The sensor model of an unrectified image (GaoFen, ZiYuan L1A): the 92 RPC00B numbers of TIFF tag 50844
   * (raster/rpc.ts), read from the tag or a `.rpb` / `_rpc.txt` sidecar. Outputs on the same pixel grid carry them.
   */
  readonly rpc?: readonly number[] | null;
  /** What the reader found but cannot carry to an output (a sidecar CRS without an EPSG code): for the caller to show. */
  readonly warnings?: readonly string[];
  /**
   * Rows of the file's compressed blocks (tiles or strips), where they are decoded whole: a reader that reads
   * rows in multiples of it, aligned, decodes each block once. Absent where the whole image is decoded at open.
   */
  readonly blockRows?: number;
  /**
   * Reads a window of the given 0-based bands (all bands when omitted) as float32, one array per band,
   * row-major, `window.width * window.height` long. Parts of the window outside the image are an error.
   * `into` (one array per band read, each at least that long) may be written and returned instead of new
   * arrays: a caller reading strip after strip then makes no garbage. Use the arrays returned either way.
   */
  readWindow(window: PixelWindow, bands?: number[], into?: Float32Array[]): Promise<Float32Array[]>;
  /**
   * Says that reads to come sweep these column ranges one after another, each from the top down, reading each
   * range's full width (detection's column stripes). A reader that decodes large tiles may keep the part of a tile
   * that a later range reads, rather than decoding it again.
   */
  sweep?(columns: [number, number][]): void;
  close(): Promise<void>;
}

/** The 0-based bands that hold data: every band but the alpha band. */
export function dataBands(source: Pick<RasterSource, 'bandCount' | 'alphaBand'>): number[] {
  return Array.from({ length: source.bandCount }, (_, b) => b).filter((b) => b !== source.alphaBand);
}
