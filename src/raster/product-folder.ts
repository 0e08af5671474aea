/**
 * A product folder as delivered (an unpacked Landsat Collection 1/2 product, a Sentinel-2 `.SAFE`, a GaoFen-1/2
 * or ZiYuan-3 MUX product) given in place of band files: its metadata file is found and read, and the files of
 * the model's bands (blue, green, red, NIR) are taken by the names the metadata gives them, so a user running an
 * archive names one folder per scene and cannot get the band order wrong.
 *
 * Landsat's MTL and Sentinel-2's MTD name every band file; GaoFen and ZiYuan XML describe one multispectral TIFF
 * of the same name (a PMS product also holds the panchromatic image and its XML, which are skipped).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../errors.js';
import { fileStem, readProductMetadata, type ProductMetadata } from './product-metadata.js';

export interface ProductFolder {
  folder: string;
  metadata: ProductMetadata;
  /** The raster files to read, in the order the metadata's sensor preset takes them (blue, green, red, NIR). */
  inputs: string[];
}

/** Whether `path` is a folder (through a link too). */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Files under `folder`, at most `depth` folders down (a SAFE keeps its bands 3 or 4 levels down). */
function filesUnder(folder: string, depth: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && isFolder(path))) {
      if (depth > 0) out.push(...filesUnder(path, depth - 1));
    } else out.push(path);
  }
  return out.sort();
}

const RASTER = /\.(tiff?|jp2)$/i;
/** Preference among files of one band: GeoTIFF (read by window) before JPEG 2000 (refused with a command), finer before coarser. */
const rank = (path: string): number => (/\.jp2$/i.test(path) ? 10 : 0) + (/_20m$/i.test(fileStem(path)) ? 1 : /_60m$/i.test(fileStem(path)) ? 2 : 0);

/**
 * The metadata: Sentinel-2's MTD at the top, else a Landsat MTL (.txt before .json; the .xml one is not read),
 * else a GaoFen/ZiYuan XML with a multispectral TIFF of its name.
 */
function findMetadata(folder: string, top: string[]): { file: string; raster?: string } {
  const named = (re: RegExp) => top.filter((f) => re.test(basename(f)));
  const mtd = named(/^MTD_MSIL(1C|2A)\.xml$/i);
  const mtl = named(/_MTL\.txt$/i).length > 0 ? named(/_MTL\.txt$/i) : named(/_MTL\.json$/i);
  const found = [...mtd, ...mtl];
  if (found.length > 1) {
    throw new InputError(`holds the metadata of more than one product (${found.map((f) => basename(f)).join(', ')}); give one product's folder, or its band files with --metadata`, folder);
  }
  if (found.length === 1) return { file: found[0] };
  const pairs = named(/\.xml$/i).flatMap((xml) => {
    if (/PAN|NAD|FWD|BWD/i.test(basename(xml))) return [];
    const raster = top.find((f) => /\.tiff?$/i.test(f) && fileStem(f) === fileStem(xml.replace(/\.xml$/i, '')));
    if (!raster) return [];
    const head = readFileSync(xml, 'utf8').slice(0, 4096);
    return /<ProductMetaData\b|<sensor_corrected_metadata\b/.test(head) ? [{ file: xml, raster }] : [];
  });
  if (pairs.length === 1) return pairs[0];
  if (pairs.length > 1) {
    throw new InputError(`holds more than one multispectral image with its XML (${pairs.map((p) => basename(p.raster)).join(', ')}); give the image and --metadata`, folder);
  }
  throw new InputError(
    'is a folder without product metadata wdcd reads (a Landsat *_MTL.txt or *_MTL.json, a Sentinel-2 MTD_MSIL1C.xml or MTD_MSIL2A.xml, ' +
      'a GaoFen or ZiYuan-3 XML beside its multispectral TIFF); give the band files instead',
    folder,
  );
}

/** Reads a product folder; InputError naming the folder where it is not one or lacks a band file. */
export function readProductFolder(folder: string): ProductFolder {
  let top: string[];
  try {
    top = readdirSync(folder).map((name) => join(folder, name)).sort();
  } catch (e) {
    throw new InputError(`cannot read the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, folder);
  }
  const found = findMetadata(folder, top);
  const metadata = readProductMetadata(found.file);
  if (found.raster) return { folder, metadata, inputs: [found.raster] };
  const rasters = filesUnder(folder, 5).filter((f) => RASTER.test(f));
  const inputs = metadata.channelBands.map((band) => {
    const files = rasters.filter((f) => metadata.fileBands[fileStem(f)] === band).sort((a, b) => rank(a) - rank(b));
    if (files.length === 0) {
      const expected = Object.entries(metadata.fileBands).filter(([, b]) => b === band).map(([s]) => s);
      throw new InputError(`holds no image of band ${band} named in ${basename(found.file)} (${expected.join(' or ') || 'none listed'}, .TIF or .jp2)`, folder);
    }
    return files[0];
  });
  return { folder, metadata, inputs };
}
