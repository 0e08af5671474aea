/**
 * Output paths checked before anything is written. Outputs go to a temporary file renamed over the target at the
 * end, so an output that is one of the inputs (`detect scene.tif -o scene.tif --overwrite`) would replace the
 * user's scene with its mask, and two outputs on one path would leave only the last.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { archiveStem, isProductArchive } from './product-archive.js';

const real = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
};

/** The directory entry a rename onto `path` replaces: a link there is replaced itself, not the file it names. */
const entryOf = (path: string): string => join(real(dirname(path)), basename(path));

/** Whether `path` names an existing folder (through a link too: a rename could not replace it). */
const isFolder = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Throws an InputError naming the first output that is an existing folder, an input or another output
 * (`outputs`: option -> path). A folder would only fail at the final rename, after the whole run.
 */
export function checkOutputPaths(outputs: Record<string, string>, inputs: string[]): void {
  const read = new Set(inputs.map(real));
  const taken = new Map<string, string>();
  for (const [option, path] of Object.entries(outputs)) {
    if (isFolder(path)) throw new InputError(`is a folder; give a file name for ${option}`, path);
    const entry = entryOf(path);
    if (read.has(entry)) throw new InputError(`is one of the inputs; writing ${option} there would destroy it`, path);
    const other = taken.get(entry);
    if (other) throw new InputError(`is given to both ${other} and ${option}`, path);
    taken.set(entry, option);
  }
}

/**
 * The name a -O batch gives a scene's outputs (NAME_mask.tif, ...): a raster file's name without its extension, a
 * product archive's without `.tar`, `.tar.gz` or `.tgz`, a product folder's whole but for an extension such as
 * `.SAFE` (GaoFen folder names hold dots that are not one: `GF1_WFV3_E113.0_N34.0_20220624_L1A0006547030`).
 */
export function sceneName(input: string): string {
  if (isProductArchive(input)) return archiveStem(input);
  const name = basename(input);
  const ext = extname(name);
  if (isFolder(input) && !/^\.[A-Za-z][A-Za-z0-9]{0,5}$/.test(ext)) return name;
  return basename(name, ext);
}
