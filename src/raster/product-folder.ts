/**
 * A product folder as delivered (an unpacked Landsat Collection 1/2 product, a Sentinel-2 `.SAFE`, a GaoFen-1/2
 * or ZiYuan-3 MUX product) given in place of band files: its metadata file is found and read, and the files of
 * the model's bands (blue, green, red, NIR) are taken by the names the metadata gives them, so a user running an
 * archive names one folder per scene and cannot get the band order wrong.
 *
 * Landsat's MTL and Sentinel-2's MTD name every band file; GaoFen and ZiYuan XML describe one multispectral TIFF
 * of the same name (a PMS product also holds the panchromatic image and its XML, which are skipped).
 *
 * The choice works on a list of relative paths and a way to read one file (`chooseProductFiles`), so that a
 * product archive (product-archive.ts) is read by the same rule from its list of members.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { InputError } from '../errors.js';
import { fileStem, parseProductMetadata, type ProductMetadata } from './product-metadata.js';
import { georefSidecars } from './read-geotiff.js';
import { rpcSidecars } from './rpc.js';

export interface ProductFolder {
  folder: string;
  metadata: ProductMetadata;
  /** The raster files to read, in the order the metadata's sensor preset takes them (blue, green, red, NIR). */
  inputs: string[];
}

/**
 * A product's files, wherever they are (a folder, or an archive's members): their paths relative to the product's
 * top, with `/` between folders, and the text of one of them (its metadata).
 */
export interface ProductListing {
  files: string[];
  read(file: string): string;
}

/** What a product's metadata names, relative to its top: the metadata file and the raster files of the model's bands. */
export interface ProductChoice {
  metadataFile: string;
  metadata: ProductMetadata;
  inputs: string[];
}

/** Folders down from the product's top where band files are looked for (a SAFE keeps its bands 3 or 4 levels down). */
export const PRODUCT_DEPTH = 5;

/** Whether `path` is a folder (through a link too). */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Files under `folder`, at most `depth` folders down, relative to `top`. */
function filesUnder(top: string, folder: string, depth: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(top, folder), { withFileTypes: true })) {
    const path = folder ? `${folder}/${entry.name}` : entry.name;
    if (entry.isDirectory() || (entry.isSymbolicLink() && isFolder(join(top, path)))) {
      if (depth > 0) out.push(...filesUnder(top, path, depth - 1));
    } else out.push(path);
  }
  return out.sort();
}

const RASTER = /\.(tiff?|jp2)$/i;
/** Preference among files of one band: GeoTIFF before JPEG 2000 (decoded by tile in wasm, about 3 times slower), finer before coarser. */
const rank = (path: string): number => (/\.jp2$/i.test(path) ? 10 : 0) + (/_20m$/i.test(fileStem(path)) ? 1 : /_60m$/i.test(fileStem(path)) ? 2 : 0);

/** Whether a file at the product's top may be its metadata, as `findMetadata` looks for it (an archive keeps these in memory). */
export const maybeMetadata = (file: string): boolean => /(_MTL\.txt|_MTL\.json|\.xml)$/i.test(file);

/** A Landsat MTL or a Sentinel-2 MTD one folder down from the top. */
const NESTED_METADATA = /^[^/]+\/(?:[^/]+_MTL\.(?:txt|json)|MTD_MSIL(?:1C|2A)\.xml)$/i;

/**
 * The metadata: Sentinel-2's MTD at the top, else a Landsat MTL (.txt before .json; the .xml one is not read),
 * else a GaoFen/ZiYuan XML with a multispectral TIFF of its name. `where` and `what` (folder, archive) name the product.
 */
function findMetadata(listing: ProductListing, top: string[], where: string, what: string): { file: string; raster?: string } {
  const named = (re: RegExp) => top.filter((f) => re.test(f));
  const mtd = named(/^MTD_MSIL(1C|2A)\.xml$/i);
  const mtl = named(/_MTL\.txt$/i).length > 0 ? named(/_MTL\.txt$/i) : named(/_MTL\.json$/i);
  const found = [...mtd, ...mtl];
  if (found.length > 1) {
    throw new InputError(`holds the metadata of more than one product (${found.join(', ')}); give one product's ${what}, or its band files with --metadata`, where);
  }
  if (found.length === 1) return { file: found[0] };
  const pairs = named(/\.xml$/i).flatMap((xml) => {
    if (/PAN|NAD|FWD|BWD/i.test(xml)) return [];
    const raster = top.find((f) => /\.tiff?$/i.test(f) && fileStem(f) === fileStem(xml.replace(/\.xml$/i, '')));
    if (!raster) return [];
    const head = listing.read(xml).slice(0, 4096);
    return /<ProductMetaData\b|<sensor_corrected_metadata\b/.test(head) ? [{ file: xml, raster }] : [];
  });
  if (pairs.length === 1) return pairs[0];
  if (pairs.length > 1) {
    throw new InputError(`holds more than one multispectral image with its XML (${pairs.map((p) => p.raster).join(', ')}); give the image and --metadata`, where);
  }
  // Products one level down (a folder of downloads, an archive of several): name them rather than say there is none.
  const nested = [...new Set(listing.files.filter((f) => NESTED_METADATA.test(f)).map((f) => f.slice(0, f.indexOf('/'))))];
  if (nested.length > 0) {
    const give = what === 'archive' ? 'unpack it and give' : 'give';
    throw new InputError(
      nested.length > 1
        ? `holds ${nested.length} products (${nested.join(', ')}), not one; ${give} each product's folder (-O OUTDIR detects many)`
        : `holds a product one folder down (${nested[0]}); ${give} that folder`,
      where,
    );
  }
  throw new InputError(
    `is a${/^[aeiou]/.test(what) ? 'n' : ''} ${what} without product metadata wdcd reads (a Landsat *_MTL.txt or *_MTL.json, a Sentinel-2 MTD_MSIL1C.xml or MTD_MSIL2A.xml, ` +
      'a GaoFen or ZiYuan-3 XML beside its multispectral TIFF); give the band files instead',
    where,
  );
}

/**
 * Chooses a product's metadata and band files from its listing: the one rule for folders and archives. `root` is
 * where the files are (it names the metadata file in the result and in messages); `where` and `what` name the
 * product in errors. InputError where there is no metadata, more than one product, or a band file is missing.
 */
export function chooseProductFiles(listing: ProductListing, root: string, where: string, what = 'folder'): ProductChoice {
  const top = listing.files.filter((f) => !f.includes('/'));
  const found = findMetadata(listing, top, where, what);
  const metadata = parseProductMetadata(join(root, found.file), listing.read(found.file));
  if (found.raster) return { metadataFile: found.file, metadata, inputs: [found.raster] };
  const rasters = listing.files.filter((f) => RASTER.test(f) && f.split('/').length <= PRODUCT_DEPTH + 1);
  const inputs = metadata.channelBands.map((band) => {
    const files = rasters.filter((f) => metadata.fileBands[fileStem(f)] === band).sort((a, b) => rank(a) - rank(b));
    if (files.length === 0) {
      const expected = Object.entries(metadata.fileBands).filter(([, b]) => b === band).map(([s]) => s);
      throw new InputError(`holds no image of band ${band} named in ${posix.basename(found.file)} (${expected.join(' or ') || 'none listed'}, .TIF or .jp2)`, where);
    }
    return files[0];
  });
  return { metadataFile: found.file, metadata, inputs };
}

/** The files beside a raster that its readers look for (RPCs, georeferencing and nodata, GDAL's mask), relative as the raster is. */
export function rasterSidecars(file: string): string[] {
  return [...rpcSidecars(file), ...georefSidecars(file), `${file}.msk`].map((f) => f.replace(/\\/g, '/'));
}

/** Reads a product folder; InputError naming the folder where it is not one or lacks a band file. */
export function readProductFolder(folder: string): ProductFolder {
  let files: string[];
  try {
    files = filesUnder(folder, '', PRODUCT_DEPTH);
  } catch (e) {
    throw new InputError(`cannot read the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, folder);
  }
  const read = (file: string): string => {
    try {
      return readFileSync(join(folder, file), 'utf8');
    } catch (e) {
      throw new InputError(`cannot read the metadata file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, join(folder, file));
    }
  };
  const chosen = chooseProductFiles({ files, read }, folder, folder, 'folder');
  return { folder, metadata: chosen.metadata, inputs: chosen.inputs.map((f) => join(folder, f)) };
}
